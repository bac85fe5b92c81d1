package npmtest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The workspace tests compare airlock with the real pnpm and yarn, which
// make test installs (internal/npmtest/install-pms.sh) and names in these
// variables: each the path of the tool's executable.
const (
	PNPMVar = "AIRLOCK_PNPM"
	YarnVar = "AIRLOCK_YARN"
)

// PNPM returns the pnpm executable the tests run. Missing is a failure,
// not a skip.
func PNPM(t testing.TB) string { return tool(t, PNPMVar, "pnpm") }

// Yarn returns the yarn (4, @yarnpkg/cli-dist) executable the tests run.
func Yarn(t testing.TB) string { return tool(t, YarnVar, "yarn") }

func tool(t testing.TB, envVar, name string) string {
	t.Helper()
	p := os.Getenv(envVar)
	if p == "" {
		t.Fatalf("%s is not set: the workspace differential tests run the real %s\n"+
			"hint: run make test (make deps installs it), or sh internal/npmtest/install-pms.sh .cache/tools and set %s=$PWD/.cache/tools/%s/bin/%s", envVar, name, envVar, name, name)
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("%s=%s: no such executable (%v)\nhint: run sh internal/npmtest/install-pms.sh .cache/tools", envVar, p, err)
	}
	return p
}

// ToolEnv is Env for pnpm and yarn too: a fresh home, no global config,
// no network for yarn, no switching to the version packageManager names.
func ToolEnv(t testing.TB) []string {
	t.Helper()
	env := Env(t)
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "YARN_") || strings.HasPrefix(k, "PNPM_") || strings.HasPrefix(k, "COREPACK_") || k == "XDG_CONFIG_HOME" || k == "XDG_DATA_HOME" || k == "XDG_CACHE_HOME" {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"npm_config_manage_package_manager_versions=false",
		"COREPACK_ENABLE_STRICT=0",
		"YARN_ENABLE_NETWORK=0",
		"YARN_ENABLE_TELEMETRY=0",
		"YARN_ENABLE_GLOBAL_CACHE=0",
		"YARN_IGNORE_PATH=1",
		"YARN_GLOBAL_FOLDER="+filepath.Join(home, ".yarn/berry"),
	)
}

// RunTool runs exe with args in dir with ToolEnv and returns stdout,
// failing the test with stderr if it fails.
func RunTool(t testing.TB, dir, exe string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Dir = dir
	cmd.Env = ToolEnv(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running %s %s in %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(exe), strings.Join(args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// PackPNPM runs `pnpm pack` with ignore-scripts in the package folder dir and
// returns the tarball it wrote into dest.
func PackPNPM(t testing.TB, dir, dest string) string {
	t.Helper()
	out := RunTool(t, dir, PNPM(t), "pack", "--json", "--config.ignore-scripts=true", "--pack-destination", dest)
	var rep struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("decoding pnpm pack --json: %v\n%s", err, out)
	}
	return rep.Filename
}

// PackYarn runs `yarn pack` in the package folder dir (yarn pack has no
// --ignore-scripts: fixtures for it have no pack scripts) and returns the
// tarball it wrote into dest.
func PackYarn(t testing.TB, dir, dest string) string {
	t.Helper()
	out := filepath.Join(dest, "yarn-pack.tgz")
	RunTool(t, dir, Yarn(t), "pack", "--out", out)
	return out
}

// PackNPMWorkspaces runs `npm pack --workspaces --json --ignore-scripts`
// in the workspace root and returns npm's reports.
func PackNPMWorkspaces(t testing.TB, root, dest string) []Report {
	t.Helper()
	out := Run(t, root, "pack", "--workspaces", "--json", "--ignore-scripts", "--pack-destination", dest)
	var rs []Report
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		t.Fatalf("decoding npm pack --workspaces --json: %v\n%s", err, out)
	}
	return rs
}

// TarFile is one file of a tarball, as the content comparison sees it.
type TarFile struct {
	Mode     int64
	Type     byte
	Linkname string
	Data     []byte
}

// ReadTarball reads a .tgz into its files by path, "package/" dropped.
func ReadTarball(t testing.TB, tgz string) map[string]TarFile {
	t.Helper()
	es, err := ReadTar(Gunzip(t, tgz))
	if err != nil {
		t.Fatalf("reading %s: %v", tgz, err)
	}
	files := map[string]TarFile{}
	for _, e := range es {
		if e.Header.Typeflag == tar.TypeXGlobalHeader || e.Header.Typeflag == tar.TypeDir {
			continue
		}
		p := strings.TrimPrefix(e.Header.Name, "package/")
		files[p] = TarFile{Mode: e.Header.Mode & 0o7777, Type: e.Header.Typeflag, Linkname: e.Header.Linkname, Data: e.Data}
	}
	return files
}

// DiffContents describes how the files of two tarballs differ (paths,
// modes, types, bytes), or returns "". same, when set, compares a path's
// bytes instead of requiring them equal (for package.json).
func DiffContents(want, got map[string]TarFile, same map[string]func(want, got []byte) string) string {
	var b strings.Builder
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s: missing (mode %#o, %d bytes)\n", p, w.Mode, len(w.Data))
			continue
		case !inWant:
			fmt.Fprintf(&b, "%s: extra (mode %#o, %d bytes)\n", p, g.Mode, len(g.Data))
			continue
		}
		if w.Mode != g.Mode {
			fmt.Fprintf(&b, "%s: mode %#o, want %#o\n", p, g.Mode, w.Mode)
		}
		if w.Type != g.Type || w.Linkname != g.Linkname {
			fmt.Fprintf(&b, "%s: type %q -> %q, want %q -> %q\n", p, g.Type, g.Linkname, w.Type, w.Linkname)
		}
		if cmp, ok := same[p]; ok {
			if d := cmp(w.Data, g.Data); d != "" {
				fmt.Fprintf(&b, "%s: %s\n", p, d)
			}
		} else if !bytes.Equal(w.Data, g.Data) {
			fmt.Fprintf(&b, "%s: contents differ: %s\n", p, dataDiff(w.Data, g.Data))
		}
	}
	return b.String()
}
