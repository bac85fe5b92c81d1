package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// testVersion is the tag the tests build: a pre-release, so that the
// archive names and install.sh's version pattern see one.
const testVersion = "v1.2.3-test.1"

var hostTarget = Target{runtime.GOOS, runtime.GOARCH}

// The host's release, built once for all tests of the package (the
// reproducibility test and the install.sh tests): from a snapshot of the
// source in a temporary folder, with the machine's module and build caches.
var host struct {
	once sync.Once
	dir  string // the snapshot's parent; removed by TestMain
	src  string // the snapshot, which the second build copies
	dist string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if host.dir != "" {
		makeWritable(host.dir)
		os.RemoveAll(host.dir)
	}
	os.Exit(code)
}

// hostRelease builds the host target's archive and SHA256SUMS into a dist
// folder it returns, once per test binary.
func hostRelease(t *testing.T) (src, dist string) {
	t.Helper()
	host.once.Do(func() {
		host.dir, host.err = os.MkdirTemp("", "airlock-release-test-")
		if host.err != nil {
			return
		}
		host.src = filepath.Join(host.dir, "a", "airlock")
		if host.err = snapshotSource(host.src); host.err != nil {
			return
		}
		host.dist = filepath.Join(host.dir, "dist-a")
		home := filepath.Join(host.dir, "home-a")
		if host.err = os.MkdirAll(home, 0o755); host.err != nil {
			return
		}
		env, err := machineCaches()
		if err != nil {
			host.err = err
			return
		}
		env = append(env, "HOME="+home)
		start := time.Now()
		_, host.err = Build(context.Background(), Options{
			Source: host.src, Version: testVersion, Out: host.dist, Targets: []Target{hostTarget}, Env: env,
		})
		t.Logf("built %s from %s in %s", hostTarget, host.src, time.Since(start).Round(time.Second))
	})
	if host.err != nil {
		t.Fatalf("building the host's release archive: %v", host.err)
	}
	return host.src, host.dist
}

// machineCaches is the environment with this machine's module and build
// caches named explicitly, so that a changed HOME keeps them.
func machineCaches() ([]string, error) {
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		return nil, err
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 3 {
		return nil, fmt.Errorf("go env printed %q", out)
	}
	return withEnv(os.Environ(), "GOCACHE="+f[0], "GOMODCACHE="+f[1], "GOPATH="+f[2]), nil
}

func withEnv(env []string, kvs ...string) []string {
	out := slices.Clone(env)
	for _, kv := range kvs {
		k, _, _ := strings.Cut(kv, "=")
		kept := out[:0]
		for _, e := range out {
			if !strings.HasPrefix(e, k+"=") {
				kept = append(kept, e)
			}
		}
		out = append(kept, kv)
	}
	return out
}

// snapshotSource copies the files of the working tree that git would
// commit (tracked and untracked-but-not-ignored) into dst. Later edits of
// the working tree then change neither build.
func snapshotSource(dst string) error {
	root, err := devtools.RepoRoot()
	if err != nil {
		return err
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("listing the source files with git: %w", err)
	}
	for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		from := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		to := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(from)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(from, to, info.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(from, to string, perm fs.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, perm)
}

// copyTree copies src to dst with other permissions and modification
// times, neither of which may reach the archives.
func copyTree(src, dst string, mtime time.Time) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o775)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, to)
		default:
			perm := fs.FileMode(0o664)
			if info.Mode()&0o100 != 0 {
				perm = 0o775
			}
			if err := copyFile(path, to, perm); err != nil {
				return err
			}
			return os.Chtimes(to, mtime, mtime)
		}
	})
}

// makeWritable undoes the module cache's read-only folders so that a
// temporary module cache can be removed.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o755)
		}
		return nil
	})
}

// TestReproducible builds the host's archive a second time, from a copy of
// the same source at another path, with other file times and modes,
// another HOME, user name, time zone and locale, an empty build cache and
// a module cache filled afresh (from the machine's, through a file://
// proxy, so nothing is fetched), and requires the same SHA256SUMS and
// archive bytes. It assumes nothing about the toolchain but that both
// builds use the same one: Build refuses any Go other than go.mod's.
func TestReproducible(t *testing.T) {
	srcA, distA := hostRelease(t)

	tmp := t.TempDir()
	t.Cleanup(func() { makeWritable(tmp) })
	srcB := filepath.Join(tmp, "b", "a deeper path", "src")
	if err := copyTree(srcA, srcB, time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	machine, err := machineCaches()
	if err != nil {
		t.Fatal(err)
	}
	var modcache string
	for _, kv := range machine {
		if v, ok := strings.CutPrefix(kv, "GOMODCACHE="); ok {
			modcache = v
		}
	}
	home := filepath.Join(tmp, "home-b")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	env := withEnv(os.Environ(),
		"HOME="+home,
		"USER=someone-else", "LOGNAME=someone-else",
		"TZ=Pacific/Kiritimati", "LC_ALL=C", "LANG=C",
		"SOURCE_DATE_EPOCH=1234567890",
		"GOCACHE="+filepath.Join(tmp, "gocache-b"),
		"GOPATH="+filepath.Join(tmp, "gopath-b"),
		"GOMODCACHE="+filepath.Join(tmp, "gopath-b", "pkg", "mod"),
		"GOPROXY=file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")),
		"GOSUMDB=off",                    // go.sum still checks every module
		"GOFLAGS=-tags=nothing_may_pass", // Build must drop the caller's GOFLAGS
		"GOAMD64=v3", "GOARM64=v8.5",     // and the caller's microarchitecture levels
	)
	distB := filepath.Join(tmp, "dist-b")
	start := time.Now()
	if _, err := Build(t.Context(), Options{Source: srcB, Version: testVersion, Out: distB, Targets: []Target{hostTarget}, Env: env}); err != nil {
		t.Fatalf("second build: %v", err)
	}
	t.Logf("second build, with empty caches: %s", time.Since(start).Round(time.Second))

	sumsA, err := os.ReadFile(filepath.Join(distA, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	sumsB, err := os.ReadFile(filepath.Join(distB, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sumsA, sumsB) {
		t.Errorf("SHA256SUMS differ:\n%s\n%s", sumsA, sumsB)
	}
	name := hostTarget.Archive(testVersion)
	a, err := os.ReadFile(filepath.Join(distA, name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(distB, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s differs between the builds (%d and %d bytes)", name, len(a), len(b))
	}
}

// TestReleaseArchive checks what the host's archive holds, and that its
// binary prints the release version and hashes itself.
func TestReleaseArchive(t *testing.T) {
	src, dist := hostRelease(t)
	if s, err := ReadSums(filepath.Join(dist, SumsFile)); err != nil {
		t.Fatal(err)
	} else if len(s) != 1 {
		t.Fatalf("SHA256SUMS lists %d archives, want 1", len(s))
	}
	files := readArchive(t, filepath.Join(dist, hostTarget.Archive(testVersion)))
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	want := []string{"LICENSE", "README.md", NoticesFile, hostTarget.Binary()}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("archive holds %v, want %v", names, want)
	}
	for _, f := range files {
		switch f.Name {
		case "LICENSE", "README.md":
			data, err := os.ReadFile(filepath.Join(src, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, f.Data) {
				t.Errorf("%s in the archive is not the source's", f.Name)
			}
		case NoticesFile:
			for _, s := range []string{"Go standard library and runtime", "github.com/spf13/cobra", "Apache License"} {
				if !bytes.Contains(f.Data, []byte(s)) {
					t.Errorf("%s does not mention %q", NoticesFile, s)
				}
			}
		}
	}

	bin := filepath.Join(t.TempDir(), hostTarget.Binary())
	if err := os.WriteFile(bin, files[len(files)-1].Data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	if got, want := string(out), "airlock 1.2.3-test.1\n"; got != want {
		t.Errorf("airlock version = %q, want %q", got, want)
	}
	out, err = exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("%s version --json: %v", bin, err)
	}
	var info struct{ Version, Go, Target, Executable, SHA256 string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(files[len(files)-1].Data)
	goVersion, err := GoVersion(src)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "1.2.3-test.1" || info.Go != goVersion || info.Target != hostTarget.String() ||
		info.Executable != bin || info.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("version --json = %s", out)
	}
}

func TestBuildRefusesAnotherGo(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/x\n\ngo 1.26.8\ntoolchain go1.99.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A fake go command that is the wrong version: Build must ask it
	// before building anything.
	fake := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n[ \"$1 $2\" = 'env GOVERSION' ] && echo go1.26.8 && exit 0\necho unexpected >&2; exit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Build(t.Context(), Options{Source: src, Version: "v1.0.0", Out: filepath.Join(t.TempDir(), "dist"), Go: fake})
	if err == nil || !strings.Contains(err.Error(), "go1.99.1") {
		t.Fatalf("Build with another Go: %v, want a refusal naming go1.99.1", err)
	}
}

func TestBuildRefusesBadVersionAndFullOut(t *testing.T) {
	if _, err := Build(t.Context(), Options{Source: ".", Version: "1.2.3", Out: t.TempDir()}); err == nil {
		t.Error("Build accepted version 1.2.3 (no v)")
	}
	if err := emptyOut(t.TempDir()); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "old"), nil, 0o644)
	if err := emptyOut(full); err == nil {
		t.Error("a folder with a file in it was accepted as output")
	}
}

func TestBuildEnvOverrides(t *testing.T) {
	env := buildEnv([]string{"GOFLAGS=-tags=x", "GOAMD64=v3", "HOME=/h", "GOEXPERIMENT=foo", "CGO_ENABLED=1"}, Target{"darwin", "arm64"})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s set twice", k)
		}
		got[k] = v
	}
	want := map[string]string{"GOFLAGS": "", "GOAMD64": "v1", "HOME": "/h", "GOEXPERIMENT": "", "CGO_ENABLED": "0",
		"GOOS": "darwin", "GOARCH": "arm64", "GOENV": "off", "GOWORK": "off", "GOFIPS140": "off", "GOARM64": "v8.0"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
}
