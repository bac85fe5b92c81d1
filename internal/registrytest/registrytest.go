// Package registrytest starts a real npm registry for tests: a Verdaccio
// on 127.0.0.1 with its storage in a temporary folder and no uplinks, so
// nothing a test publishes leaves the machine and nothing is fetched from
// elsewhere.
//
// Verdaccio is installed by `make test` (internal/registrytest/install.sh)
// into <repo root>/.cache/tools/verdaccio, or wherever $AIRLOCK_VERDACCIO
// points. A missing install fails the test: it never skips.
package registrytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// Version is the Verdaccio release install.sh pins; Start refuses any other.
const Version = "6.8.0"

// MaxBodySize is the largest publish body the test registry accepts. A
// 100 MB tarball is about 134 MB once base64-encoded in the JSON body.
const MaxBodySize = "1gb"

const startTimeout = 30 * time.Second

// Server is a running Verdaccio.
type Server struct {
	url     string
	dir     string
	logFile string
	outFile string
	cmd     *exec.Cmd
	exited  chan struct{}
	// Startup is how long Start waited for Verdaccio to answer /-/ping.
	Startup time.Duration
}

// Start starts a Verdaccio with empty storage and stops it when the test
// ends. It fails the test if Verdaccio is not installed or does not come
// up within 30 seconds.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := verdaccioBin(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("registrytest: node is required to run Verdaccio but was not found on PATH: %v", err)
	}
	dir := t.TempDir()
	s := &Server{
		dir:     dir,
		logFile: filepath.Join(dir, "verdaccio.log"),
		outFile: filepath.Join(dir, "verdaccio.out"),
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(config(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The port is picked by the kernel and released for Verdaccio to take:
	// another process may grab it in between, so a failed bind is retried.
	var lastErr error
	for try := 0; try < 3; try++ {
		addr, err := freePort()
		if err != nil {
			t.Fatalf("registrytest: picking a port: %v", err)
		}
		start := time.Now()
		if lastErr = s.start(t, node, bin, cfg, addr); lastErr == nil {
			s.Startup = time.Since(start)
			t.Logf("registrytest: verdaccio %s at %s, up in %v", Version, s.url, s.Startup.Round(time.Millisecond))
			return s
		}
		if !strings.Contains(lastErr.Error(), "EADDRINUSE") {
			break
		}
	}
	t.Fatalf("registrytest: starting verdaccio: %v", lastErr)
	return nil
}

func (s *Server) start(t testing.TB, node, bin, cfg, addr string) error {
	out, err := os.Create(s.outFile)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(node, bin, "--config", cfg, "--listen", addr)
	cmd.Dir = s.dir
	cmd.Env = env()
	cmd.Stdout, cmd.Stderr = out, out
	devtools.OwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		devtools.KillGroup(cmd.Process)
		<-exited
	}
	s.cmd, s.exited = cmd, exited
	s.url = "http://" + addr + "/"

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("verdaccio exited before answering %s-/ping:\n%s", s.url, s.logTail())
		default:
		}
		if resp, err := client.Get(s.url + "-/ping"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("verdaccio did not answer %s-/ping within %v:\n%s", s.url, startTimeout, s.logTail())
		}
		time.Sleep(15 * time.Millisecond)
	}
}

// URL is the registry's address, with a trailing slash.
func (s *Server) URL() string { return s.url }

// Host is the registry's host:port.
func (s *Server) Host() string { return strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/") }

// Log returns what Verdaccio logged so far (warnings and errors).
func (s *Server) Log() string { return s.logTail() }

// AddUser creates a user and returns the token Verdaccio issued for it.
func (s *Server) AddUser(t testing.TB, name, password string) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"_id":      "org.couchdb.user:" + name,
		"name":     name,
		"password": password,
		"type":     "user",
		"roles":    []string{},
		"date":     time.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut,
		s.url+"-/user/org.couchdb.user:"+url.PathEscape(name), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("registrytest: adding user %s: %v", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var answer struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &answer) != nil || answer.Token == "" {
		t.Fatalf("registrytest: adding user %s: verdaccio answered %s: %s", name, resp.Status, data)
	}
	return answer.Token
}

// Packument returns the registry's document for the package name, failing
// the test unless the registry answers 200.
func (s *Server) Packument(t testing.TB, name string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+strings.Replace(name, "/", "%2f", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("registrytest: fetching packument of %s: %v", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registrytest: fetching packument of %s: verdaccio answered %s: %s", name, resp.Status, data)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("registrytest: decoding packument of %s: %v", name, err)
	}
	return doc
}

// config is Verdaccio's configuration: everything under dir, no uplinks,
// anyone may read, users who logged in may publish, and registration is
// open (max_users is left out: its default is unlimited, and -1 would
// close registration).
func config(dir string) string {
	q := func(p string) string { b, _ := json.Marshal(filepath.Join(dir, p)); return string(b) }
	return `# written by registrytest
storage: ` + q("storage") + `
auth:
  htpasswd:
    file: ` + q("htpasswd") + `
uplinks: {}
packages:
  '@*/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
max_body_size: ` + MaxBodySize + `
userRateLimit:
  windowMs: 1000
  max: 100000
web:
  enable: false
middlewares:
  audit:
    enabled: false
server:
  keepAliveTimeout: 60
log:
  type: file
  path: ` + q("verdaccio.log") + `
  level: warn
`
}

func (s *Server) logTail() string {
	var b strings.Builder
	for _, f := range []string{s.logFile, s.outFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(data) > 4000 {
			data = append([]byte("…"), data[len(data)-4000:]...)
		}
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(f), bytes.TrimSpace(data))
	}
	return b.String()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// env is the environment Verdaccio runs with: the test's, less npm's
// settings and NODE_OPTIONS, which could change how node behaves.
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToLower(k), "npm_") || k == "NODE_OPTIONS" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// InstallDir is where Verdaccio is installed: $AIRLOCK_VERDACCIO, or
// .cache/tools/verdaccio at the root of the module the test runs in.
func InstallDir() (string, error) { return devtools.Dir("AIRLOCK_VERDACCIO", "verdaccio") }

const installHint = "install it with `make deps` (it runs `sh internal/registrytest/install.sh .cache/tools/verdaccio`), " +
	"or point $AIRLOCK_VERDACCIO at a folder holding node_modules/verdaccio@" + Version

func verdaccioBin(t testing.TB) string {
	t.Helper()
	dir, err := InstallDir()
	if err != nil {
		t.Fatalf("registrytest: finding the Verdaccio install: %v\n%s", err, installHint)
	}
	pkg := filepath.Join(dir, "node_modules", "verdaccio")
	data, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		t.Fatalf("registrytest: Verdaccio is not installed in %s: %v\n%s", dir, err, installHint)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Version != Version {
		t.Fatalf("registrytest: %s holds verdaccio %q, want %s\n%s", pkg, meta.Version, Version, installHint)
	}
	return filepath.Join(pkg, "bin", "verdaccio")
}
