package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockdev/airlock/internal/devtools"
)

// installScript is the repository's install.sh.
func installScript(t *testing.T) string {
	t.Helper()
	root, err := devtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "install.sh")
}

// posixShell is dash where it is installed (a strict POSIX sh, Debian's
// /bin/sh), else sh.
func posixShell(t *testing.T) string {
	t.Helper()
	for _, sh := range []string{"dash", "sh"} {
		if p, err := exec.LookPath(sh); err == nil {
			return p
		}
	}
	t.Fatal("no sh on PATH")
	return ""
}

// archiveServer serves the files of dir on 127.0.0.1 and counts requests.
type archiveServer struct {
	*httptest.Server
	requests atomic.Int64
}

func serve(t *testing.T, dir string) *archiveServer {
	t.Helper()
	s := &archiveServer{}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

type installRun struct {
	stdout, stderr string
	code           int
}

// install runs install.sh with args, in dir, with env added to the
// process's environment.
func install(t *testing.T, script, dir string, env []string, args ...string) installRun {
	t.Helper()
	cmd := exec.Command(posixShell(t), append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := installRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// emptyDir is a folder for --dir that exists and is empty, as a failed
// install must leave it.
func emptyDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func requireEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("%s holds %d entries after a failed install, want none (first: %s)", dir, len(entries), entries[0].Name())
	}
}

func requireFailure(t *testing.T, r installRun, stderr string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit code %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing: only a successful install prints a path", r.stdout)
	}
	if !strings.Contains(r.stderr, stderr) {
		t.Errorf("stderr does not say %q:\n%s", stderr, r.stderr)
	}
}

// TestInstallRealRelease installs the host's archive built by make
// release's code from a local server, and runs it.
func TestInstallRealRelease(t *testing.T) {
	_, dist := hostRelease(t)
	script := installScript(t)
	sums := filepath.Join(dist, SumsFile)
	srv := serve(t, dist)

	t.Run("success", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new", "bin") // created by install.sh
		r := install(t, script, t.TempDir(), nil, "--version", testVersion, "--checksums", sums, "--base-url", srv.URL, "--dir", dir)
		if r.code != 0 {
			t.Fatalf("exit code %d:\n%s", r.code, r.stderr)
		}
		bin := filepath.Join(dir, hostTarget.Binary())
		if r.stdout != bin+"\n" {
			t.Errorf("stdout %q, want the binary's path %q", r.stdout, bin)
		}
		out, err := exec.Command(bin, "version", "--json").Output()
		if err != nil {
			t.Fatalf("running the installed airlock: %v", err)
		}
		var info struct{ Version, SHA256 string }
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatal(err)
		}
		want, _ := HashFile(bin)
		if info.Version != "1.2.3-test.1" || info.SHA256 != want {
			t.Errorf("installed airlock says %s", out)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("%s holds %d entries, want only the binary", dir, len(entries))
		}
	})

	t.Run("defaults beside the script", func(t *testing.T) {
		// install.sh in a checkout of the action: release/VERSION and
		// release/SHA256SUMS beside it give the version and checksums.
		kit := t.TempDir()
		copyFile(script, filepath.Join(kit, "install.sh"), 0o755)
		os.Mkdir(filepath.Join(kit, "release"), 0o755)
		copyFile(sums, filepath.Join(kit, "release", SumsFile), 0o644)
		os.WriteFile(filepath.Join(kit, "release", VersionFile), []byte(testVersion+"\n"), 0o644)
		work := t.TempDir()
		r := install(t, filepath.Join(kit, "install.sh"), work, nil, "--base-url", srv.URL)
		if r.code != 0 {
			t.Fatalf("exit code %d:\n%s", r.code, r.stderr)
		}
		want := filepath.Join(work, ".airlock", testVersion, hostTarget.Binary())
		if r.stdout != want+"\n" {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
	})

	t.Run("tampered archive", func(t *testing.T) {
		bad := t.TempDir()
		name := hostTarget.Archive(testVersion)
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 1
		os.WriteFile(filepath.Join(bad, name), data, 0o644)
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), nil, "--version", testVersion, "--checksums", sums, "--base-url", serve(t, bad).URL, "--dir", dir)
		requireFailure(t, r, "refusing it")
		requireEmpty(t, dir)
	})

	t.Run("missing checksum entry", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), SumsFile)
		os.WriteFile(other, []byte(hexA+"  airlock_1.2.3-test.1_plan9_amd64.tar.gz\n"), 0o644)
		dir := emptyDir(t)
		before := srv.requests.Load()
		r := install(t, script, t.TempDir(), nil, "--version", testVersion, "--checksums", other, "--base-url", srv.URL, "--dir", dir)
		requireFailure(t, r, "has no checksum for "+hostTarget.Archive(testVersion))
		requireEmpty(t, dir)
		if n := srv.requests.Load() - before; n != 0 {
			t.Errorf("%d downloads without a checksum to check them against", n)
		}
	})

	t.Run("another version than the checksums record", func(t *testing.T) {
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), nil, "--version", "v9.9.9", "--checksums", sums, "--base-url", srv.URL, "--dir", dir)
		requireFailure(t, r, "has no checksum for "+strings.Replace(hostTarget.Archive(testVersion), "1.2.3-test.1", "9.9.9", 1))
		requireEmpty(t, dir)
	})

	t.Run("download fails", func(t *testing.T) {
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), nil, "--version", testVersion, "--checksums", sums, "--base-url", srv.URL+"/nowhere", "--dir", dir)
		requireFailure(t, r, "downloading "+srv.URL+"/nowhere/"+hostTarget.Archive(testVersion)+" failed")
		requireEmpty(t, dir)
	})

	t.Run("no checksums file", func(t *testing.T) {
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), nil, "--version", testVersion, "--checksums", filepath.Join(t.TempDir(), "missing"), "--base-url", srv.URL, "--dir", dir)
		requireFailure(t, r, "no checksums file at")
		requireEmpty(t, dir)
	})

	// Every downloader and hasher install.sh knows, alone on PATH.
	for _, tools := range [][]string{{"wget", "shasum"}, {"curl", "openssl"}, {"wget", "sha256sum"}} {
		t.Run("with "+strings.Join(tools, " and "), func(t *testing.T) {
			path := minimalPath(t, tools...)
			dir := filepath.Join(t.TempDir(), "bin")
			r := install(t, script, t.TempDir(), []string{"PATH=" + path}, "--version", testVersion, "--checksums", sums, "--base-url", srv.URL, "--dir", dir)
			if r.code != 0 {
				t.Fatalf("exit code %d:\n%s", r.code, r.stderr)
			}
			if got, _ := HashFile(filepath.Join(dir, hostTarget.Binary())); got == "" {
				t.Error("no binary installed")
			}
		})
	}

	t.Run("no downloader", func(t *testing.T) {
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), []string{"PATH=" + minimalPath(t, "sha256sum")}, "--version", testVersion, "--checksums", sums, "--base-url", srv.URL, "--dir", dir)
		requireFailure(t, r, "neither curl nor wget")
		requireEmpty(t, dir)
	})

	t.Run("no hasher", func(t *testing.T) {
		dir := emptyDir(t)
		r := install(t, script, t.TempDir(), []string{"PATH=" + minimalPath(t, "curl")}, "--version", testVersion, "--checksums", sums, "--base-url", srv.URL, "--dir", dir)
		requireFailure(t, r, "cannot compute a sha256")
		requireEmpty(t, dir)
	})
}

// minimalPath is a PATH folder holding only what install.sh needs besides
// a downloader and a hasher, plus the extra tools named.
func minimalPath(t *testing.T, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range append([]string{"sh", "cat", "tr", "grep", "awk", "uname", "mktemp", "rm", "mkdir", "cp", "mv", "chmod", "gzip", "tar", "dirname", "unzip"}, extra...) {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed for this test: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeUname is a PATH folder with a uname that prints sys for -s and
// machine for -m, before the real PATH.
func fakeUname(t *testing.T, sys, machine string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\ncase $1 in\n-s) echo '" + sys + "' ;;\n-m) echo '" + machine + "' ;;\n*) exit 1 ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "uname"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestInstallPicksThePlatform checks install.sh's reading of uname
// against stand-in archives for every target, and its refusal of others.
func TestInstallPicksThePlatform(t *testing.T) {
	script := installScript(t)
	served := t.TempDir()
	sums := Sums{}
	for _, tg := range Targets {
		files := []File{{Name: tg.Binary(), Mode: 0o755, Data: []byte("binary for " + tg.String())}, {Name: "LICENSE", Mode: 0o644}}
		var b bytes.Buffer
		write := WriteTarGz
		if tg.GOOS == "windows" {
			write = WriteZip
		}
		if err := write(&b, files); err != nil {
			t.Fatal(err)
		}
		name := tg.Archive(testVersion)
		os.WriteFile(filepath.Join(served, name), b.Bytes(), 0o644)
		sum := sha256.Sum256(b.Bytes())
		sums[name] = hex.EncodeToString(sum[:])
	}
	sumsFile := filepath.Join(t.TempDir(), SumsFile)
	os.WriteFile(sumsFile, sums.Format(), 0o644)
	srv := serve(t, served)

	for _, tc := range []struct{ sys, machine, target string }{
		{"Linux", "x86_64", "linux/amd64"},
		{"Linux", "aarch64", "linux/arm64"},
		{"Darwin", "x86_64", "darwin/amd64"},
		{"Darwin", "arm64", "darwin/arm64"},
		{"MINGW64_NT-10.0-19045", "x86_64", "windows/amd64"},
		{"MSYS_NT-10.0-22631", "x86_64", "windows/amd64"},
		{"CYGWIN_NT-10.0", "x86_64", "windows/amd64"},
		{"MINGW64_NT-10.0-22631", "aarch64", "windows/arm64"},
	} {
		t.Run(tc.sys+" "+tc.machine, func(t *testing.T) {
			tg, _ := ParseTarget(tc.target)
			dir := filepath.Join(t.TempDir(), "bin")
			r := install(t, script, t.TempDir(), []string{"PATH=" + fakeUname(t, tc.sys, tc.machine)},
				"--version", testVersion, "--checksums", sumsFile, "--base-url", srv.URL, "--dir", dir)
			if r.code != 0 {
				t.Fatalf("exit code %d:\n%s", r.code, r.stderr)
			}
			got, err := os.ReadFile(filepath.Join(dir, tg.Binary()))
			if err != nil || string(got) != "binary for "+tc.target {
				t.Errorf("installed %q (%v), want the %s binary", got, err, tc.target)
			}
		})
	}

	for _, tc := range []struct{ sys, machine, stderr string }{
		{"SunOS", "x86_64", "no release archive for this operating system (SunOS)"},
		{"FreeBSD", "amd64", "no release archive for this operating system (FreeBSD)"},
		{"Linux", "riscv64", "no release archive for this processor (riscv64)"},
		{"Linux", "armv7l", "no release archive for this processor (armv7l)"},
	} {
		t.Run("unknown "+tc.sys+" "+tc.machine, func(t *testing.T) {
			dir := emptyDir(t)
			before := srv.requests.Load()
			r := install(t, script, t.TempDir(), []string{"PATH=" + fakeUname(t, tc.sys, tc.machine)},
				"--version", testVersion, "--checksums", sumsFile, "--base-url", srv.URL, "--dir", dir)
			requireFailure(t, r, tc.stderr)
			requireEmpty(t, dir)
			if srv.requests.Load() != before {
				t.Error("downloaded something for an unknown platform")
			}
		})
	}
}

func TestInstallUsage(t *testing.T) {
	script := installScript(t)
	for _, args := range [][]string{{"--bogus"}, {"--dir"}, {"extra"}} {
		if r := install(t, script, t.TempDir(), nil, args...); r.code != 2 || !strings.Contains(r.stderr, "usage:") {
			t.Errorf("install.sh %v: exit %d, stderr %q; want 2 and the usage", args, r.code, r.stderr)
		}
	}
	for _, v := range []string{"1.2.3", "v1.2", "v1.2.3/../../x", "latest"} {
		r := install(t, script, t.TempDir(), nil, "--version", v, "--checksums", "/dev/null")
		requireFailure(t, r, "is not a release tag")
	}
	if r := install(t, script, t.TempDir(), nil, "--help"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage:") {
		t.Errorf("--help: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestInstallScriptLints parses install.sh with sh -n and dash -n, and
// runs ShellCheck on it as a POSIX sh script. make deps installs ShellCheck
// from Debian; a missing one fails the test rather than skipping it.
func TestInstallScriptLints(t *testing.T) {
	script := installScript(t)
	for _, sh := range []string{"sh", "dash"} {
		p, err := exec.LookPath(sh)
		if err != nil {
			if sh == "dash" {
				t.Logf("dash is not installed; sh -n only")
				continue
			}
			t.Fatal(err)
		}
		if out, err := exec.Command(p, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s -n install.sh: %v\n%s", sh, err, out)
		}
	}
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not installed; run make deps (it installs it from Debian)")
	}
	if out, err := exec.Command(shellcheck, "--shell=sh", "--severity=style", script).CombinedOutput(); err != nil {
		t.Errorf("shellcheck install.sh: %v\n%s", err, out)
	}
}
