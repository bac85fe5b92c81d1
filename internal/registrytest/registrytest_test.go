package registrytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestVersionMatchesInstallScript(t *testing.T) {
	data, err := os.ReadFile("install.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VERSION=(\S+)$`).FindSubmatch(data)
	if m == nil || string(m[1]) != Version {
		t.Fatalf("install.sh pins %q, registrytest.Version is %q", m, Version)
	}
}

func TestStart(t *testing.T) {
	s := Start(t)
	if got := s.URL(); got[len(got)-1] != '/' {
		t.Errorf("URL() = %q, want a trailing slash", got)
	}
	resp, err := http.Get(s.URL() + "-/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ping: %s", resp.Status)
	}
	// Nothing is proxied: an unknown package is a 404, not a fetch.
	resp, err = http.Get(s.URL() + "lodash")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET lodash: %s, want 404 (no uplinks)", resp.Status)
	}
}

// TestLaunchAndClose is Launch without a test: its own folder, removed by
// Close, and nothing left answering.
func TestLaunchAndClose(t *testing.T) {
	s, err := Launch(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateUser(t.Context(), "carol", "carol-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FetchPackument(t.Context(), "@airlock/none"); !errors.Is(err, ErrNoPackage) {
		t.Fatalf("FetchPackument of a missing package: %v, want ErrNoPackage", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s behind (%v)", s.dir, err)
	}
	if resp, err := http.Get(s.URL() + "-/ping"); err == nil {
		resp.Body.Close()
		t.Errorf("Verdaccio still answers after Close")
	}
}

// TestLaunchStopsWhenCancelled: a start given up on leaves no Verdaccio.
func TestLaunchStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := Launch(ctx, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Launch with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Launch with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestPublishAndInstallWithNPM(t *testing.T) {
	s := Start(t)
	token := s.AddUser(t, "alice", "correct-horse")
	if token == "" {
		t.Fatal("AddUser returned no token")
	}

	for _, name := range []string{"@airlock/harness", "airlock-harness"} {
		t.Run(name, func(t *testing.T) {
			pkg := t.TempDir()
			write(t, filepath.Join(pkg, "package.json"), `{"name":"`+name+`","version":"1.2.3","main":"index.js"}`)
			write(t, filepath.Join(pkg, "index.js"), "module.exports = 'hello from the harness'\n")
			s.NPM(t, pkg, token, "publish", "--ignore-scripts", "--access", "public")

			doc := s.Packument(t, name)
			tags, _ := doc["dist-tags"].(map[string]any)
			if tags["latest"] != "1.2.3" {
				t.Fatalf("dist-tags = %v, want latest 1.2.3", doc["dist-tags"])
			}

			dir := s.Install(t, name+"@1.2.3", name)
			got, err := os.ReadFile(filepath.Join(dir, "index.js"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "module.exports = 'hello from the harness'\n" {
				t.Fatalf("installed index.js = %q", got)
			}
		})
	}
}

func TestPublishNeedsAUser(t *testing.T) {
	s := Start(t)
	pkg := t.TempDir()
	write(t, filepath.Join(pkg, "package.json"), `{"name":"airlock-anon","version":"1.0.0"}`)
	out, err := s.NPMCommand(t, pkg, "", "publish", "--ignore-scripts").CombinedOutput()
	if err == nil {
		t.Fatalf("npm publish without a token succeeded:\n%s", out)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMissingInstallFailsNamingTheInstallStep(t *testing.T) {
	t.Setenv("AIRLOCK_VERDACCIO", filepath.Join(t.TempDir(), "nowhere"))
	ft := &fatalT{TB: t}
	func() {
		defer func() { _ = recover() }()
		Start(ft)
	}()
	if !strings.Contains(ft.msg, "install.sh") || !strings.Contains(ft.msg, "make deps") {
		t.Fatalf("Start without an install failed with %q, want a message naming the install step", ft.msg)
	}
}

// fatalT records Fatalf's message and stops the function that called it.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}
func (f *fatalT) Helper() {}
