// Package registrytest starts a real npm registry for tests and for
// `make example`: a Verdaccio on 127.0.0.1 with its storage in a temporary
// folder and no uplinks, so nothing published to it leaves the machine and
// nothing is fetched from elsewhere.
//
// Verdaccio is installed by `make test` (internal/registrytest/install.sh)
// into <repo root>/.cache/tools/verdaccio, or wherever $AIRLOCK_VERDACCIO
// points. A missing install fails the test: it never skips.
package registrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// Version is the Verdaccio release install.sh pins; Launch refuses any other.
const Version = "6.8.0"

// MaxBodySize is the largest publish body the test registry accepts. A
// 100 MB tarball is about 134 MB once base64-encoded in the JSON body.
const MaxBodySize = "1gb"

const startTimeout = 30 * time.Second

// Server is a running Verdaccio.
type Server struct {
	url     string
	dir     string
	ownDir  bool // dir was made by Launch, and Close removes it
	logFile string
	outFile string
	cmd     *exec.Cmd
	exited  chan struct{}
	closed  sync.Once
	// Startup is how long Launch waited for Verdaccio to answer /-/ping.
	Startup time.Duration
}

// Options say how Launch starts Verdaccio.
type Options struct {
	// Dir holds Verdaccio's configuration, storage and logs. "" means a
	// new temporary folder, which Close removes.
	Dir string
}

// Start starts a Verdaccio with empty storage and stops it when the test
// ends. It fails the test if Verdaccio is not installed or does not come
// up within 30 seconds.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Launch(t.Context(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	t.Logf("registrytest: verdaccio %s at %s, up in %v", Version, s.url, s.Startup.Round(time.Millisecond))
	return s
}

// Launch starts a Verdaccio with empty storage on 127.0.0.1 and returns
// once it answers. The caller stops it with Close; ctx bounds only the
// start. It fails if Verdaccio is not installed, or does not come up
// within 30 seconds.
func Launch(ctx context.Context, o Options) (*Server, error) {
	bin, err := verdaccioBin()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("registrytest: node is required to run Verdaccio but was not found on PATH: %w", err)
	}
	s := &Server{dir: o.Dir}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "airlock-verdaccio-"); err != nil {
			return nil, fmt.Errorf("registrytest: making Verdaccio's folder: %w", err)
		}
		s.ownDir = true
	}
	s.logFile = filepath.Join(s.dir, "verdaccio.log")
	s.outFile = filepath.Join(s.dir, "verdaccio.out")
	fail := func(err error) (*Server, error) {
		if s.ownDir {
			_ = os.RemoveAll(s.dir)
		}
		return nil, err
	}
	cfg := filepath.Join(s.dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(config(s.dir)), 0o600); err != nil {
		return fail(fmt.Errorf("registrytest: writing Verdaccio's configuration: %w", err))
	}
	// The port is picked by the kernel and released for Verdaccio to take:
	// another process may grab it in between, so a failed bind is retried.
	var lastErr error
	for try := 0; try < 3; try++ {
		addr, err := freePort()
		if err != nil {
			return fail(fmt.Errorf("registrytest: picking a port: %w", err))
		}
		start := time.Now()
		if lastErr = s.start(ctx, node, bin, cfg, addr); lastErr == nil {
			s.Startup = time.Since(start)
			return s, nil
		}
		if !strings.Contains(lastErr.Error(), "EADDRINUSE") {
			break
		}
	}
	return fail(fmt.Errorf("registrytest: starting verdaccio: %w", lastErr))
}

// Close stops Verdaccio and everything it started, and removes its folder
// if Launch made it. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		s.stop()
		if s.ownDir {
			err = os.RemoveAll(s.dir)
		}
	})
	return err
}

func (s *Server) stop() {
	if s.cmd != nil {
		devtools.KillGroup(s.cmd.Process)
		<-s.exited
	}
}

func (s *Server) start(ctx context.Context, node, bin, cfg, addr string) error {
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
	s.cmd, s.exited = cmd, exited
	s.url = "http://" + addr + "/"
	stop := func() { s.stop(); s.cmd = nil }

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			stop() // what it started may still run
			return fmt.Errorf("verdaccio exited before answering %s-/ping:\n%s", s.url, s.logTail())
		case <-ctx.Done():
			stop()
			return fmt.Errorf("waiting for %s-/ping: %w", s.url, ctx.Err())
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"-/ping", nil)
		if err != nil {
			stop()
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
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

// AddUser creates a user and returns the token Verdaccio issued for it,
// failing the test if it cannot.
func (s *Server) AddUser(t testing.TB, name, password string) string {
	t.Helper()
	token, err := s.CreateUser(t.Context(), name, password)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return token
}

// CreateUser creates a user and returns the token Verdaccio issued for it.
func (s *Server) CreateUser(ctx context.Context, name, password string) (string, error) {
	body, err := json.Marshal(map[string]any{
		"_id":      "org.couchdb.user:" + name,
		"name":     name,
		"password": password,
		"type":     "user",
		"roles":    []string{},
		"date":     time.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		return "", fmt.Errorf("registrytest: adding user %s: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		s.url+"-/user/org.couchdb.user:"+url.PathEscape(name), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("registrytest: adding user %s: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("registrytest: adding user %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var answer struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &answer) != nil || answer.Token == "" {
		return "", fmt.Errorf("registrytest: adding user %s: verdaccio answered %s: %s", name, resp.Status, data)
	}
	return answer.Token, nil
}

// Packument returns the registry's document for the package name, failing
// the test unless the registry answers 200.
func (s *Server) Packument(t testing.TB, name string) map[string]any {
	t.Helper()
	doc, err := s.FetchPackument(t.Context(), name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return doc
}

// ErrNoPackage is what FetchPackument's error wraps when the registry has
// no package of that name.
var ErrNoPackage = errors.New("no such package")

// FetchPackument returns the registry's document for the package name.
// When the registry answers 404 the error wraps ErrNoPackage.
func (s *Server) FetchPackument(ctx context.Context, name string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+strings.Replace(name, "/", "%2f", 1), nil)
	if err != nil {
		return nil, fmt.Errorf("registrytest: fetching packument of %s: %w", name, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registrytest: fetching packument of %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("registrytest: fetching packument of %s: %w (verdaccio answered %s)", name, ErrNoPackage, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("registrytest: fetching packument of %s: verdaccio answered %s: %s", name, resp.Status, data)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("registrytest: decoding packument of %s: %w", name, err)
	}
	return doc, nil
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

func verdaccioBin() (string, error) {
	dir, err := InstallDir()
	if err != nil {
		return "", fmt.Errorf("registrytest: finding the Verdaccio install: %w\n%s", err, installHint)
	}
	pkg := filepath.Join(dir, "node_modules", "verdaccio")
	data, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		return "", fmt.Errorf("registrytest: Verdaccio is not installed in %s: %w\n%s", dir, err, installHint)
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Version != Version {
		return "", fmt.Errorf("registrytest: %s holds verdaccio %q, want %s\n%s", pkg, meta.Version, Version, installHint)
	}
	return filepath.Join(pkg, "bin", "verdaccio"), nil
}
