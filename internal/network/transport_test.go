package network

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/http/httpproxy"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/network/networktest"
)

const token = "npm_oidcExchangedToken0123456789abcdef"

// rig is the attack: a registry at registry.test with its own CA, and an
// attacker who controls this job's variables and runs an intercepting
// proxy with a CA of their own, planted in the artifact.
type rig struct {
	registryCA, attackerCA *networktest.CA
	registryURL            string
	registryCAFile         string
	attackerCAFile         string
	mitm                   *networktest.Proxy
	dial                   func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{}
	var err error
	if r.registryCA, err = networktest.NewCA("registry CA"); err != nil {
		t.Fatal(err)
	}
	if r.attackerCA, err = networktest.NewCA("attacker CA"); err != nil {
		t.Fatal(err)
	}
	reg, err := networktest.NewTLSServer(r.registryCA, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"username":"release-bot"}`))
	}), "registry.test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	// registry.test resolves to the test registry, here and in the proxy.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(reg.URL, "https://"))
	r.registryURL = "https://registry.test:" + port + "/"
	r.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "registry.test:") {
			addr = "127.0.0.1:" + strings.TrimPrefix(addr, "registry.test:")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	dir := t.TempDir()
	r.registryCAFile = filepath.Join(dir, "registry-ca.pem")
	r.attackerCAFile = filepath.Join(dir, "artifact", "ca.pem")
	os.MkdirAll(filepath.Dir(r.attackerCAFile), 0o755)
	if err := os.WriteFile(r.registryCAFile, r.registryCA.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.attackerCAFile, r.attackerCA.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	r.mitm = networktest.NewProxy(networktest.ProxyOptions{Intercept: r.attackerCA, Upstream: r.registryCA.Pool(), Dial: r.dial})
	t.Cleanup(r.mitm.Close)
	return r
}

// whoami sends the token to the registry through p.
func (r *rig) whoami(t *testing.T, p *Policy) (int, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.registryURL+"-/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.Client().Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (r *rig) sawToken() bool {
	return strings.Contains(strings.Join(r.mitm.Log(), "\n"), token)
}

// The variables a dotenv report can set, in the process environment
// (where Go's defaults read them) and in the one given to the policy: the
// token does not go to the proxy, and the planted CA is not trusted.
func TestTheEnvironmentCannotRedirectTheToken(t *testing.T) {
	r := newRig(t)
	t.Setenv("HTTPS_PROXY", r.mitm.URL)
	t.Setenv("SSL_CERT_FILE", r.attackerCAFile)
	env := os.Environ()

	// Go's own proxy rule would send this request to the attacker, so the
	// rig can tell the difference.
	u, _ := url.Parse(r.registryURL)
	if p, _ := httpproxy.FromEnvironment().ProxyFunc()(u); p == nil || p.String() != r.mitm.URL {
		t.Fatalf("Go's environment proxy for %s is %v, want the attacker's: the test shows nothing", u, p)
	}

	// Without flags the registry's own CA is not known either: the
	// request fails, and the hint names what was ignored.
	p, err := New(Options{Env: env, Dial: r.dial})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.whoami(t, p)
	if err == nil {
		t.Fatal("the request succeeded without the registry's CA")
	}
	if h := hint.Of(err); !strings.Contains(h, "airlock ignored SSL_CERT_FILE") {
		t.Errorf("hint %q does not name SSL_CERT_FILE", h)
	}
	if log := r.mitm.Log(); len(log) > 0 {
		t.Fatalf("the proxy saw: %q", log)
	}

	// With the registry's CA given on purpose: straight to the registry.
	p, err = New(Options{Env: env, Dial: r.dial, Flags: Flags{CAFile: r.registryCAFile}})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := r.whoami(t, p); err != nil || status != 200 {
		t.Fatalf("whoami: %d, %v", status, err)
	}
	if log := r.mitm.Log(); len(log) > 0 {
		t.Fatalf("the proxy saw: %q", log)
	}
	if names := ignoredNames(p); strings.Join(names, ",") != "HTTPS_PROXY" {
		t.Errorf("ignored %q, want HTTPS_PROXY (SSL_CERT_FILE does not matter with --cafile)", names)
	}
}

// A proxy named on purpose is used; through an intercepting one, the
// token is refused the connection unless its CA is trusted on purpose too.
func TestFlagsAreUsed(t *testing.T) {
	r := newRig(t)

	p, err := New(Options{Dial: r.dial, Flags: Flags{Proxy: r.mitm.URL, CAFile: r.registryCAFile}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.whoami(t, p)
	if err == nil {
		t.Fatal("the intercepting proxy's certificate was accepted")
	}
	log := strings.Join(r.mitm.Log(), "\n")
	if !strings.Contains(log, "CONNECT registry.test:") || r.sawToken() {
		t.Fatalf("the proxy saw:\n%s", log)
	}

	// The rig sees a token when the trust is misplaced.
	p, err = New(Options{Dial: r.dial, Flags: Flags{Proxy: r.mitm.URL, CAFile: r.attackerCAFile}})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := r.whoami(t, p); err != nil || status != 200 {
		t.Fatalf("whoami through the interception: %d, %v", status, err)
	}
	if !r.sawToken() {
		t.Fatalf("the intercepting proxy did not see the token: %q", r.mitm.Log())
	}
}

// A tunnelling proxy given with --proxy carries the connection, and
// --noproxy takes a host out of it.
func TestTunnel(t *testing.T) {
	r := newRig(t)
	tunnel := networktest.NewProxy(networktest.ProxyOptions{Dial: r.dial})
	defer tunnel.Close()
	p, err := New(Options{Dial: r.dial, Flags: Flags{Proxy: tunnel.URL, CAFile: r.registryCAFile}})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := r.whoami(t, p); err != nil || status != 200 {
		t.Fatalf("whoami through the tunnel: %d, %v", status, err)
	}
	if log := tunnel.Log(); len(log) != 1 || !strings.HasPrefix(log[0], "CONNECT registry.test:") {
		t.Fatalf("the tunnel saw %q", log)
	}
	p, err = New(Options{Dial: r.dial, Flags: Flags{Proxy: tunnel.URL, NoProxy: "test", CAFile: r.registryCAFile}})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := r.whoami(t, p); err != nil || status != 200 {
		t.Fatalf("whoami with --noproxy: %d, %v", status, err)
	}
	if log := tunnel.Log(); len(log) != 1 {
		t.Fatalf("--noproxy test: the tunnel saw %q", log)
	}
}
