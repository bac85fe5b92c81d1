package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

// echoRegistry answers every request with status, echoing the request's
// credentials back in every way a careless registry or proxy might.
type echoRegistry struct {
	status int
	text   bool
	mu     sync.Mutex
	dumps  []string // requests as received, without the headers Auth sets
}

func (e *echoRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	// Where Auth put the credentials they belong; anywhere else they leak.
	for _, h := range []string{"Authorization", "Cookie", "Npm-Otp"} {
		r.Header.Del(h)
	}
	dump, _ := httputil.DumpRequest(r, true)
	e.mu.Lock()
	e.dumps = append(e.dumps, string(dump))
	e.mu.Unlock()
	w.Header().Set("WWW-Authenticate", auth)
	w.Header().Set("Set-Cookie", "session="+auth)
	if e.text {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, "denied for %s", auth)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `{"error":"bad credentials %s","reason":"token \u001b[31m%s\u001b[0m","message":"%s"}`,
		auth, strings.TrimPrefix(auth, "Bearer "), strings.Join(strings.Split(strings.TrimPrefix(auth, "Bearer "), ""), `\u0000`))
}

func TestSecretsNeverLeak(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ci:"+fakeToken))
	auths := map[string]Auth{
		"bearer": bearer(fakeToken),
		"basic": func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", basic)
			return nil
		},
		"otp and cookie": func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+fakeToken)
			r.Header.Set("npm-otp", fakeToken)
			r.Header.Set("Cookie", "token="+fakeToken)
			return nil
		},
	}
	data := []byte("a tarball")
	for authName, auth := range auths {
		for _, status := range []int{401, 403, 404, 409, 422, 429, 500, 503} {
			for _, text := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/text=%v", authName, status, text), func(t *testing.T) {
					reg := &echoRegistry{status: status, text: text}
					srv := newLoopbackServer(t, reg)
					var logs bytes.Buffer
					c, _ := testClient()
					c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

					doc := npmLikeDoc("@s/p", "1.0.0", "", []byte(`{"name":"@s/p","version":"1.0.0"}`), sri(data), sha1hex(data), int64(len(data)), srv.URL)
					res, perr := c.Publish(t.Context(), srv.URL, "@s/p", doc, bytesOpener(data), auth)
					_, gerr := c.Packument(t.Context(), srv.URL, "@s/p", auth)
					if perr == nil || gerr == nil {
						t.Fatalf("Publish: %v, Packument: %v; want errors", perr, gerr)
					}
					var dry bytes.Buffer
					if err := doc.Encode(&dry, nil); err != nil {
						t.Fatal(err)
					}
					outs := map[string]string{
						"publish error":   perr.Error(),
						"publish hint":    hint.Of(perr),
						"publish result":  fmt.Sprintf("%+v", res),
						"packument error": gerr.Error(),
						"logs":            logs.String(),
						"dry run":         dry.String(),
						"requests":        strings.Join(reg.dumps, "\n"),
					}
					var herr *HTTPError
					if !errors.As(perr, &herr) {
						t.Fatalf("Publish error %v is no HTTPError", perr)
					}
					outs["HTTPError"] = fmt.Sprintf("%#v", *herr)
					// The registry's message is kept, with the credentials cut out.
					if !strings.Contains(herr.RegistryMessage, redacted) {
						t.Errorf("RegistryMessage %q shows no redaction", herr.RegistryMessage)
					}
					for what, s := range outs {
						for _, secret := range []string{fakeToken, basic, strings.TrimPrefix(basic, "Basic ")} {
							if strings.Contains(s, secret) {
								t.Errorf("%s contains a credential:\n%s", what, s)
							}
						}
						if strings.ContainsAny(s, "\x1b\x00") {
							t.Errorf("%s contains control characters: %q", what, s)
						}
					}
				})
			}
		}
	}
}

func TestRegistryURLCredentialsAreRefused(t *testing.T) {
	c, _ := testClient()
	for _, u := range []string{
		"https://ci:" + fakeToken + "@registry.example/",
		"https://registry.example/?token=" + fakeToken,
		"https://registry.example/#" + fakeToken,
	} {
		_, err := c.Packument(t.Context(), u, "p", nil)
		if err == nil {
			t.Fatalf("Packument(%q) accepted the URL", u)
		}
		mustNotContain(t, fakeToken, map[string]string{"error": err.Error()})
		data := []byte("x")
		doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), 1, "http://r/")
		res, err := c.Publish(t.Context(), u, "p", doc, bytesOpener(data), nil)
		if err == nil || res != nil {
			t.Fatalf("Publish(%q) = %+v, %v", u, res, err)
		}
		mustNotContain(t, fakeToken, map[string]string{"error": err.Error()})
	}
}

// A failing Auth stops the request before anything is sent.
func TestAuthFailure(t *testing.T) {
	var calls int
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	c, _ := testClient()
	_, err := c.Packument(t.Context(), srv.URL, "p", func(context.Context, *http.Request) error {
		return errors.New("no OIDC token available")
	})
	if err == nil || !strings.Contains(err.Error(), "no OIDC token available") || calls != 0 {
		t.Fatalf("err = %v after %d requests", err, calls)
	}
	data := []byte("x")
	doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), 1, srv.URL)
	res, err := c.Publish(t.Context(), srv.URL, "p", doc, bytesOpener(data), func(context.Context, *http.Request) error {
		return errors.New("no OIDC token available")
	})
	if err == nil || res.Outcome != NotPublished || res.Attempts != 1 || calls != 0 {
		t.Fatalf("Publish = %+v, %v after %d requests", res, err, calls)
	}
}
