// Package npmtest runs the real npm from tests, isolated from the user's
// configuration, so airlock's output can be compared with npm's: packing,
// reading and diffing tarballs, building package trees from txtar fixtures,
// and fetching published packages from the registry.
package npmtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Report is one element of `npm pack --json`, decoded strictly so that a
// field npm adds in a later release shows up as a test failure.
type Report struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Size         int64    `json:"size"`
	UnpackedSize int64    `json:"unpackedSize"`
	Shasum       string   `json:"shasum"`
	Integrity    string   `json:"integrity"`
	Filename     string   `json:"filename"`
	Files        []File   `json:"files"`
	EntryCount   int      `json:"entryCount"`
	Bundled      []string `json:"bundled"`
}

// File is one entry of Report.Files.
type File struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	Mode uint32 `json:"mode"`
}

var npmPath = sync.OnceValues(func() (string, error) { return exec.LookPath("npm") })

// NPM returns the path of the npm executable. A missing npm is a failure,
// not a skip: the differential tests are the point of running them.
func NPM(t testing.TB) string {
	t.Helper()
	p, err := npmPath()
	if err != nil {
		t.Fatalf("npm is required for the differential tests but was not found on PATH: %v\n"+
			"hint: install Node.js 20+ with npm 11 (npm install -g npm@11)", err)
	}
	return p
}

// Env returns an environment that isolates npm from the machine it runs on:
// no inherited npm_* variables, an empty user and global npmrc, a fresh
// cache and home, and no update notifier, funding or audit chatter.
func Env(t testing.TB) []string {
	t.Helper()
	tmp := t.TempDir()
	userrc := filepath.Join(tmp, "userrc")
	globalrc := filepath.Join(tmp, "globalrc") // npm refuses one file for both
	for _, f := range []string{userrc, globalrc} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(strings.ToLower(k), "npm_"),
			k == "HOME", k == "NODE_OPTIONS", k == "NO_COLOR", k == "FORCE_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"npm_config_cache="+filepath.Join(tmp, "cache"),
		"npm_config_userconfig="+userrc,
		"npm_config_globalconfig="+globalrc,
		"npm_config_update_notifier=false",
		"npm_config_fund=false",
		"npm_config_audit=false",
		"npm_config_color=false",
		"npm_config_progress=false",
	)
}

// Command returns npm with args, to run in dir with the isolated Env.
func Command(t testing.TB, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), NPM(t), args...)
	cmd.Dir = dir
	cmd.Env = Env(t)
	return cmd
}

// Run runs npm with args in dir and returns its stdout. It fails the test,
// showing stderr, if npm exits non-zero. Anything npm writes to stderr on
// success (warnings) is logged.
func Run(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := Command(t, dir, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("running npm %s in %s: %v\nstderr:\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("npm %s in %s wrote to stderr:\n%s", strings.Join(args, " "), dir, stderr.Bytes())
	}
	return stdout.Bytes()
}

// Pack runs `npm pack --json --ignore-scripts --pack-destination dest` in
// dir and returns npm's report and the path of the tarball it wrote.
func Pack(t testing.TB, dir, dest string) (Report, string) {
	t.Helper()
	r := decodeReport(t, Run(t, dir, "pack", "--json", "--ignore-scripts", "--pack-destination", dest))
	tgz := filepath.Join(dest, r.Filename)
	if _, err := os.Stat(tgz); err != nil {
		t.Fatalf("npm pack reported %s but wrote no such file: %v", r.Filename, err)
	}
	return r, tgz
}

// PackDryRun runs `npm pack --dry-run --json --ignore-scripts` in dir.
func PackDryRun(t testing.TB, dir string) Report {
	t.Helper()
	return decodeReport(t, Run(t, dir, "pack", "--dry-run", "--json", "--ignore-scripts"))
}

func decodeReport(t testing.TB, out []byte) Report {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var rs []Report
	if err := dec.Decode(&rs); err != nil {
		t.Fatalf("decoding npm pack --json output: %v\noutput:\n%s", err, out)
	}
	if len(rs) != 1 {
		t.Fatalf("npm pack --json reported %d packages, want 1:\n%s", len(rs), out)
	}
	return rs[0]
}

// Gunzip returns the decompressed contents of the gzip file at path.
func Gunzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing %s: %v", path, err)
	}
	return data
}

// DiffReport describes how got differs from want in the fields that do not
// depend on the compressed bytes (so not size, shasum or integrity), or
// returns "" if they agree.
func DiffReport(want, got Report) string {
	var b strings.Builder
	field := func(name string, w, g any) {
		if w != g {
			fmt.Fprintf(&b, "%s: want %q, got %q\n", name, fmt.Sprint(w), fmt.Sprint(g))
		}
	}
	field("id", want.ID, got.ID)
	field("name", want.Name, got.Name)
	field("version", want.Version, got.Version)
	field("unpackedSize", want.UnpackedSize, got.UnpackedSize)
	field("filename", want.Filename, got.Filename)
	field("entryCount", want.EntryCount, got.EntryCount)
	if d := diffList("bundled", want.Bundled, got.Bundled, func(s string) string { return s }); d != "" {
		b.WriteString(d)
	}
	if d := diffList("files", want.Files, got.Files, func(f File) string {
		return fmt.Sprintf("%s (size %d, mode %#o)", f.Path, f.Size, f.Mode)
	}); d != "" {
		b.WriteString(d)
	}
	return b.String()
}

// DiffStrings describes how two lists of strings differ (the first
// differing position with context, and what is only in one of them), or
// returns "" if they are equal.
func DiffStrings(what string, want, got []string) string {
	return diffList(what, want, got, strconv.Quote)
}

// diffList reports the first position where two lists differ, with a
// little context, and what is only in one of them.
func diffList[T comparable](what string, want, got []T, show func(T) string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	if i == len(want) && i == len(got) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s differ (want %d, got %d); first difference at index %d:\n", what, len(want), len(got), i)
	for _, side := range []struct {
		label string
		list  []T
	}{{"want", want}, {"got", got}} {
		for j := max(0, i-2); j < min(len(side.list), i+3); j++ {
			mark := " "
			if j == i {
				mark = ">"
			}
			fmt.Fprintf(&b, "  %s %s[%d] %s\n", mark, side.label, j, show(side.list[j]))
		}
		if i >= len(side.list) {
			fmt.Fprintf(&b, "  > %s[%d] (end of list)\n", side.label, i)
		}
	}
	onlyIn := func(label string, a, c []T) {
		seen := make(map[T]bool, len(c))
		for _, x := range c {
			seen[x] = true
		}
		var only []string
		for _, x := range a {
			if !seen[x] {
				only = append(only, show(x))
			}
		}
		if len(only) > 0 {
			fmt.Fprintf(&b, "  only in %s (%d): %s\n", label, len(only), truncList(only, 10))
		}
	}
	onlyIn("want", want, got)
	onlyIn("got", got, want)
	return b.String()
}

func truncList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(", … and %d more", len(items)-n)
}
