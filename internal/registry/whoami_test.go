package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

func TestWhoami(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/npm/-/whoami" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			fmt.Fprint(w, `{"username":"alice"}`)
		case "Bearer unknown":
			fmt.Fprint(w, `{}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	c := &Client{Retry: RetryPolicy{MaxAttempts: 1}}
	bearer := func(tok string) Auth {
		return func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	}
	if u, err := c.Whoami(context.Background(), srv.URL+"/npm/", bearer("good")); err != nil || u != "alice" {
		t.Errorf("good token: %q, %v", u, err)
	}
	if _, err := c.Whoami(context.Background(), srv.URL+"/npm", bearer("unknown")); !errors.Is(err, ErrNoUser) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := c.Whoami(context.Background(), srv.URL+"/npm/", bearer("bad")); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("bad token: %v", err)
	}
	if err := c.Ping(context.Background(), srv.URL+"/npm/"); err != nil {
		t.Errorf("Ping of a registry that answers 404: %v", err)
	}
}

// failing is a transport that fails every request with err.
type failing struct {
	err   error
	calls atomic.Int32
}

func (f *failing) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, f.err
}

func TestConnectionHints(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name  string
		err   error
		says  string
		tries int32
	}{
		{"refused", refused, "nothing accepts connections at registry.example:8443", 2},
		{"dns", &net.DNSError{Err: "no such host", Name: "registry.example", IsNotFound: true}, "the host name registry.example does not resolve", 2},
		{"proxy", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: syscall.ECONNREFUSED}, "the proxy could not be reached", 2},
		{"certificate", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "TLS certificate is not trusted", 1},
		{"with the transport's own advice", hint.With(syscall.ECONNREFUSED, "airlock ignored HTTPS_PROXY (see the warnings above)"), "; airlock ignored HTTPS_PROXY", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &failing{err: c.err}
			cl := &Client{HTTP: &http.Client{Transport: tr}, Retry: RetryPolicy{MaxAttempts: 2, BaseDelay: 1}}
			_, err := cl.Whoami(context.Background(), "https://registry.example:8443/", nil)
			if h := hint.Of(err); !strings.Contains(h, c.says) {
				t.Errorf("hint %q does not say %q (error %v)", h, c.says, err)
			}
			if n := tr.calls.Load(); n != c.tries {
				t.Errorf("%d attempts, want %d", n, c.tries)
			}
		})
	}
}
