//go:build unix

package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requireTools fails the test when a tool it runs is missing: a skipped
// differential test looks like a passing one.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("this test needs %s on PATH: %v", n, err)
		}
	}
}

// pkgDir makes root/parent/pkg with the given package.json and returns
// the real path of pkg (temp folders can sit behind symlinks, which npm
// would resolve).
func pkgDir(t *testing.T, manifest string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "parent", "pkg")
	writeFile(t, filepath.Join(dir, "package.json"), manifest, 0o644)
	return dir
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func newRunner(t *testing.T, dir string) *Runner {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Runner{
		Dir:      dir,
		Manifest: m,
		Env:      []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "BASE_VAR=kept"},
	}
}

func TestRunEnvironment(t *testing.T) {
	requireTools(t, "sh")
	dir := pkgDir(t, `{"name":"@s/demo","version":"1.2.3","bin":"./cli.js","config":{"port":8080},"engines":{"node":">=18"},
		"scripts":{"prepack":"env"}}`)
	r := newRunner(t, dir)
	var out bytes.Buffer
	r.Stdout = &out
	r.Command = "pack"
	extra := map[string]string{"npm_package_resolved": dir, "npm_package_name": "overridden by the manifest"}
	if err := r.Run(t.Context(), "prepack", extra); err != nil {
		t.Fatal(err)
	}
	env := parseEnv(out.String())
	want := map[string]string{
		"BASE_VAR":                 "kept",
		"npm_command":              "pack",
		"npm_package_name":         "@s/demo",
		"npm_package_version":      "1.2.3",
		"npm_package_bin_demo":     "cli.js",
		"npm_package_config_port":  "8080",
		"npm_package_engines_node": ">=18",
		"npm_package_json":         filepath.Join(dir, "package.json"),
		"npm_package_resolved":     dir,
		"npm_lifecycle_event":      "prepack",
		"npm_lifecycle_script":     "env",
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	// Without Runner.NPM nothing about npm itself is invented.
	for _, k := range []string{"NODE", "npm_node_execpath", "npm_execpath", "npm_config_node_gyp", "npm_config_npm_version", "EDITOR"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s = %q, want unset without Runner.NPM", k, v)
		}
	}
}

func parseEnv(s string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestRunPathOrder(t *testing.T) {
	requireTools(t, "sh")
	dir := pkgDir(t, `{"name":"a","scripts":{"prepack":"tool; parent-only; printf '%s\\n' \"$PATH\""}}`)
	parent := filepath.Dir(dir)
	writeFile(t, filepath.Join(dir, "node_modules/.bin/tool"), "#!/bin/sh\necho pkg-tool\n", 0o755)
	writeFile(t, filepath.Join(parent, "node_modules/.bin/tool"), "#!/bin/sh\necho parent-tool\n", 0o755)
	writeFile(t, filepath.Join(parent, "node_modules/.bin/parent-only"), "#!/bin/sh\necho parent-only\n", 0o755)

	r := newRunner(t, dir)
	var out bytes.Buffer
	r.Stdout = &out
	if err := r.Run(t.Context(), "prepack", nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != "pkg-tool" || lines[1] != "parent-only" {
		t.Fatalf("output %q, want pkg-tool, parent-only, PATH", out.String())
	}
	var want []string
	for p := dir; ; p = filepath.Dir(p) {
		want = append(want, filepath.Join(p, "node_modules", ".bin"))
		if p == filepath.Dir(p) {
			break
		}
	}
	want = append(want, os.Getenv("PATH"))
	if got := lines[2]; got != strings.Join(want, ":") {
		t.Errorf("PATH =\n%s\nwant\n%s", got, strings.Join(want, ":"))
	}
}

func TestSetPath(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		gypBin string
		want   []string
	}{
		{"plain", []string{"PATH=/usr/bin:/bin"}, "", []string{"PATH=/p/node_modules/.bin:/node_modules/.bin:/usr/bin:/bin"}},
		{"node-gyp-bin after the .bin folders", []string{"PATH=/bin"}, "/gyp", []string{"PATH=/p/node_modules/.bin:/node_modules/.bin:/gyp:/bin"}},
		{"no PATH stays no PATH", []string{"HOME=/h"}, "", []string{"HOME=/h"}},
		{"empty PATH leaves a trailing separator", []string{"PATH="}, "", []string{"PATH=/p/node_modules/.bin:/node_modules/.bin:"}},
		{
			"PATH-like variables merged, duplicates across them dropped",
			[]string{"Path=/a:/b:/a", "PATH=/b:/c"}, "",
			[]string{"Path=/p/node_modules/.bin:/node_modules/.bin:/a:/b:/a:/c", "PATH=/p/node_modules/.bin:/node_modules/.bin:/a:/b:/a:/c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnvList(tt.env)
			setPath(env, "/p", tt.gypBin)
			if got := env.list(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunShellFromScriptPath(t *testing.T) {
	// Node's spawn looks the shell up in the script's PATH, so a package's
	// own node_modules/.bin/sh wins, under npm as here.
	requireTools(t, "sh")
	sh, _ := exec.LookPath("sh")
	dir := pkgDir(t, `{"name":"a","scripts":{"prepare":"echo inner"}}`)
	writeFile(t, filepath.Join(dir, "node_modules/.bin/sh"), "#!"+sh+"\necho wrapped \"$@\"\nexec "+sh+" \"$@\"\n", 0o755)
	r := newRunner(t, dir)
	var out bytes.Buffer
	r.Stdout = &out
	if err := r.Run(t.Context(), "prepare", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "wrapped -c echo inner\ninner\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestRunExitCode(t *testing.T) {
	requireTools(t, "sh")
	dir := pkgDir(t, `{"name":"a","scripts":{"prepack":"echo failing >&2; exit 3"}}`)
	r := newRunner(t, dir)
	var stderr bytes.Buffer
	r.Stderr = &stderr
	err := r.Run(t.Context(), "prepack", nil)
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *ScriptError", err)
	}
	if se.ExitCode != 3 || se.Signal != 0 || se.Event != "prepack" {
		t.Errorf("ScriptError = %+v", se)
	}
	if got, want := err.Error(), "prepack script failed with exit code 3: echo failing >&2; exit 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if stderr.String() != "failing\n" {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestRunKilledBySignal(t *testing.T) {
	requireTools(t, "sh")
	dir := pkgDir(t, `{"name":"a","scripts":{"postpack":"kill -TERM $$"}}`)
	err := newRunner(t, dir).Run(t.Context(), "postpack", nil)
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *ScriptError", err)
	}
	if se.Signal != syscall.SIGTERM || se.ExitCode != 128+int(syscall.SIGTERM) {
		t.Errorf("ScriptError = %+v", se)
	}
	if got, want := err.Error(), "postpack script killed by signal SIGTERM: kill -TERM $$"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestRunMissingScript(t *testing.T) {
	tests := map[string]string{
		"no scripts":        `{"name":"a"}`,
		"other events only": `{"name":"a","scripts":{"build":"exit 1","preprepack":"exit 1","postprepack":"exit 1"}}`,
		"empty script":      `{"name":"a","scripts":{"prepack":""}}`,
		"non-string script": `{"name":"a","scripts":{"prepack":{"cmd":"exit 1"}}}`,
	}
	for name, manifest := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRunner(t, pkgDir(t, manifest))
			var out bytes.Buffer
			r.Stdout, r.Stderr = &out, &out
			r.Shell = "/nonexistent/shell" // proves nothing was started
			if err := r.Run(t.Context(), "prepack", nil); err != nil {
				t.Fatal(err)
			}
			if out.Len() != 0 {
				t.Errorf("output %q", out.String())
			}
		})
	}
}

func TestRunCancelKillsGroup(t *testing.T) {
	requireTools(t, "sh", "sleep")
	dir := pkgDir(t, `{"name":"a","scripts":{"prepack":"sleep 100 & echo $! > bg.pid; sleep 100"}}`)
	r := newRunner(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err := r.Run(ctx, "prepack", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v after cancellation", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bg.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("background job %d survived cancellation", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid runs; a zombie waiting for a reaper is dead.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestRunBackgroundJobDoesNotBlock(t *testing.T) {
	// npm returns when the shell exits, even if a background job still
	// holds the output open.
	requireTools(t, "sh", "sleep")
	dir := pkgDir(t, `{"name":"a","scripts":{"prepare":"sleep 100 & echo $! > bg.pid; echo done"}}`)
	r := newRunner(t, dir)
	var out bytes.Buffer
	r.Stdout = &out
	start := time.Now()
	err := r.Run(t.Context(), "prepare", nil)
	if b, rerr := os.ReadFile(filepath.Join(dir, "bg.pid")); rerr == nil {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > pipeGrace+2*time.Second {
		t.Errorf("Run took %v", d)
	}
	if out.String() != "done\n" {
		t.Errorf("output %q", out.String())
	}
}

// signalWriter reports each write on a channel.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestRunStreamsOutput(t *testing.T) {
	requireTools(t, "sh", "sleep")
	// The script waits for a file the test creates only after seeing the
	// first line, so buffering output until exit would deadlock.
	dir := pkgDir(t, `{"name":"a","scripts":{"prepack":"echo first; echo warn >&2; while [ ! -f go ]; do sleep 0.05; done; echo second"}}`)
	r := newRunner(t, dir)
	stdout := &signalWriter{wrote: make(chan struct{}, 1)}
	stderr := &signalWriter{wrote: make(chan struct{}, 1)}
	r.Stdout, r.Stderr = stdout, stderr
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, "prepack", nil) }()
	select {
	case <-stdout.wrote:
	case err := <-done:
		t.Fatalf("Run returned before streaming anything: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no output while the script was running")
	}
	if got := stdout.String(); got != "first\n" {
		t.Errorf("stdout so far %q, want %q", got, "first\n")
	}
	writeFile(t, filepath.Join(dir, "go"), "", 0o644)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "first\nsecond\n" {
		t.Errorf("stdout %q", got)
	}
	if got := stderr.String(); got != "warn\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestRunShellNotFound(t *testing.T) {
	dir := pkgDir(t, `{"name":"a","scripts":{"prepack":"true"}}`)
	r := newRunner(t, dir)
	r.Shell = "no-such-shell-airlock"
	err := r.Run(t.Context(), "prepack", nil)
	if err == nil || err.Error() != `running prepack script: shell "no-such-shell-airlock" not found in PATH` {
		t.Errorf("err = %v", err)
	}
}

func TestBanner(t *testing.T) {
	tests := []struct {
		manifest, event, want string
	}{
		{`{"name":"a","version":"1.0.0","scripts":{"prepack":"  tsc\nnode x.js  "}}`, "prepack", "\n> a@1.0.0 prepack\n> tsc\n> node x.js\n\n"},
		{`{"name":"a","scripts":{"prepack":"tsc"}}`, "prepack", "\n> prepack\n> tsc\n\n"},
		{`{"name":"a","version":"v1.0.0","scripts":{"prepublishOnly":"tsc"}}`, "prepublishOnly", "\n> a@1.0.0 prepublishOnly\n> tsc\n\n"},
		{`{"name":"a","version":"1.0.0"}`, "prepack", ""},
	}
	for _, tt := range tests {
		r := &Runner{Dir: t.TempDir(), Manifest: mustManifest(t, tt.manifest)}
		got, err := r.Banner(tt.event)
		if err != nil || got != tt.want {
			t.Errorf("Banner(%s) for %s = %q, %v; want %q", tt.event, tt.manifest, got, err, tt.want)
		}
	}
}

func TestLocateNPM(t *testing.T) {
	requireTools(t, "npm", "node")
	n, err := LocateNPM([]string{"PATH=" + os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("npm", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(out)); n.Version != v {
		t.Errorf("Version = %q, npm --version says %q", n.Version, v)
	}
	for _, p := range []string{n.Node, n.CLI} {
		if !filepath.IsAbs(p) || !isFile(p) {
			t.Errorf("%q is not a file", p)
		}
	}
	if _, err := LocateNPM([]string{"PATH=" + t.TempDir()}); err == nil {
		t.Error("LocateNPM found npm in an empty folder")
	}
}

func TestEnvironNPM(t *testing.T) {
	gyp := t.TempDir()
	tests := []struct {
		name string
		base []string
		npm  *NPM
		want map[string]string // "" value: must be unset
	}{
		{
			name: "npm's own variables",
			base: []string{"PATH=/bin", "VISUAL=nano", "npm_config_node_gyp=/old.js", "NODE=/old/node"},
			npm:  &NPM{Node: "/n/node", CLI: "/n/npm-cli.js", Version: "11.0.0", NodeGyp: "/n/node-gyp.js", NodeGypBin: gyp},
			want: map[string]string{
				"NODE": "/n/node", "npm_node_execpath": "/n/node", "npm_execpath": "/n/npm-cli.js",
				"npm_config_npm_version": "11.0.0", "npm_config_node_gyp": "/n/node-gyp.js", "EDITOR": "nano",
				"PATH": "/p/node_modules/.bin:/node_modules/.bin:" + gyp + ":/bin",
			},
		},
		{
			name: "a missing node-gyp-bin is not put on PATH",
			base: []string{"PATH=/bin", "EDITOR=ed", "VISUAL=nano"},
			npm:  &NPM{Node: "/n/node", CLI: "/n/npm-cli.js", Version: "unknown", NodeGypBin: filepath.Join(gyp, "missing")},
			want: map[string]string{"EDITOR": "ed", "PATH": "/p/node_modules/.bin:/node_modules/.bin:/bin", "npm_config_node_gyp": ""},
		},
		{
			name: "without NPM the base environment is kept",
			base: []string{"PATH=/bin", "npm_config_node_gyp=/old.js", "NODE=/old/node"},
			want: map[string]string{"NODE": "/old/node", "npm_config_node_gyp": "/old.js", "EDITOR": "", "npm_execpath": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{Env: tt.base, NPM: tt.npm}
			env := r.environ("/p", "prepack", "x", &pkgView{}, nil)
			for k, want := range tt.want {
				got, ok := env.vals[k]
				if want == "" && ok {
					t.Errorf("%s = %q, want unset", k, got)
				} else if want != "" && got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
