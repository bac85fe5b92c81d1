package oidcauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Auto, "auto": Auto, "oidc": OIDC, "token": Token} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("OIDC"); err == nil {
		t.Error("ParseMode accepted OIDC (modes are lower case)")
	}
}

func config(t *testing.T, reg string, rc ...string) *npmrc.Config {
	t.Helper()
	env := []string{"HOME=" + t.TempDir()}
	cfg, err := npmrc.Load(npmrc.Sources{Env: append(env, rc...), Flags: map[string]string{"registry": reg}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestChoose(t *testing.T) {
	const reg = "https://registry.example/"
	gh := []string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x/", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r"}
	cases := []struct {
		mode Mode
		env  []string
		path string // "" for an error
		says string
	}{
		{Auto, gh, "oidc", "using trusted publishing: GitHub Actions offers an ID token (id-token: write), exchanged for a short-lived publish token for each package; a configured token is not used as a fallback"},
		{OIDC, gh, "oidc", "using trusted publishing: GitHub Actions offers an ID token (id-token: write), exchanged for a short-lived publish token for each package"},
		{Auto, []string{"GITLAB_CI=true", "NPM_ID_TOKEN=x"}, "oidc", "using trusted publishing: GitLab CI offers an ID token (NPM_ID_TOKEN)"},
		{Token, gh, "token", "using the npm configuration's credentials, as --auth token asks; the ID token GitHub Actions offers is not used"},
		{Auto, []string{"GITHUB_ACTIONS=true"}, "token", "using the npm configuration's credentials, since there is no OIDC ID token on offer: GitHub Actions did not give this job an ID token"},
		{OIDC, []string{"GITHUB_ACTIONS=true"}, "", "id-token: write"},
		{OIDC, nil, "", "not GitHub Actions"},
		{Auto, nil, "token", "using the npm configuration's credentials, since there is no OIDC ID token on offer: this is not GitHub Actions"},
	}
	for _, c := range cases {
		ch, err := Choose(Options{Mode: c.mode, Env: idtoken.Detect(lookupIn(c.env)), Config: config(t, reg)})
		switch {
		case c.path == "" && err == nil:
			t.Errorf("%s %v: chose %s, want an error", c.mode, c.env, ch.Path)
		case c.path == "" && !strings.Contains(err.Error()+hint.Of(err), c.says):
			t.Errorf("%s %v: error %q does not say %q", c.mode, c.env, err, c.says)
		case c.path != "" && err != nil:
			t.Errorf("%s %v: %v", c.mode, c.env, err)
		case c.path != "" && (ch.Path != c.path || !strings.Contains(ch.Why, c.says)):
			t.Errorf("%s %v: chose %s (%s), want %s saying %q", c.mode, c.env, ch.Path, ch.Why, c.path, c.says)
		}
	}
}

// exchangeServer answers ID-token requests and exchanges as told.
func exchangeServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	var exchanges atomic.Int32
	idTok := testIDToken(t, "npm:127.0.0.1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_apis/idtoken" {
			fmt.Fprintf(w, `{"value":%q}`, idTok)
			return
		}
		exchanges.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &exchanges
}

func githubEnv(srv *httptest.Server, extra ...string) *idtoken.Env {
	return idtoken.Detect(lookupIn(append([]string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + srv.URL + "/_apis/idtoken", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-token-77"}, extra...)))
}

func TestExchangeRefusalsAreExplained(t *testing.T) {
	cases := []struct {
		status int
		body   string
		says   []string
	}{
		{404, `{"message":"not found"}`, []string{"no trusted publisher for @acme/widget", "does not exist yet", "first version", "--auth token"}},
		{401, `{"message":"claims mismatch"}`, []string{"refused the ID token", "repository: acme/widget", "workflow_ref: acme/widget/.github/workflows/release.yml@refs/heads/main", "registry says: claims mismatch", "workflow file name"}},
		{403, `{"message":"workflow mismatch"}`, []string{"answered 403", "repository_visibility: private"}},
		{422, `{"message":"unprocessable"}`, []string{"could not use the ID token", "audience is npm:127.0.0.1", "cloud-hosted"}},
		{500, `{"message":"boom"}`, []string{"exchanging the ID token", "500"}},
	}
	for _, c := range cases {
		srv, _ := exchangeServer(t, c.status, c.body)
		reg := srv.URL + "/"
		ch, err := Choose(Options{Mode: Auto, Env: githubEnv(srv), Config: config(t, reg), Client: &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ch.Auth.Authorization(context.Background(), reg, "@acme/widget")
		if err == nil {
			t.Fatalf("%d: exchange succeeded", c.status)
		}
		text := err.Error() + "\nhint: " + hint.Of(err)
		for _, s := range c.says {
			if !strings.Contains(text, s) {
				t.Errorf("%d: %q does not say %q", c.status, text, s)
			}
		}
		if strings.Contains(text, "request-token-77") || strings.Contains(text, "eyJ") {
			t.Errorf("%d: error shows a token: %s", c.status, text)
		}
	}
}

func TestNoFallbackNamesTheConfiguredToken(t *testing.T) {
	srv, _ := exchangeServer(t, 404, `{}`)
	reg := srv.URL + "/"
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := config(t, reg, "npm_config_//"+host+"/:_authToken=${NODE_AUTH_TOKEN}", "NODE_AUTH_TOKEN=XXXXX-XXXXX-XXXXX-XXXXX")
	ch, err := Choose(Options{Mode: Auto, Env: githubEnv(srv, "NODE_AUTH_TOKEN=XXXXX-XXXXX-XXXXX-XXXXX"), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ch.Auth.Authorization(context.Background(), reg, "widget")
	if err == nil || !strings.Contains(err.Error(), "was not used instead") || !strings.Contains(err.Error(), "setup-node's placeholder") {
		t.Fatalf("error %v does not say the configured token was not used", err)
	}
	if strings.Contains(err.Error(), "XXXXX-XXXXX") {
		t.Fatalf("error shows the token value: %v", err)
	}
}

func TestOneExchangePerPackage(t *testing.T) {
	srv, exchanges := exchangeServer(t, 201, `{"token":"npm_short_lived_token_1"}`)
	reg := srv.URL + "/"
	ch, err := Choose(Options{Mode: OIDC, Env: githubEnv(srv), Config: config(t, reg)})
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"a", "a", "b", "a", "b"} {
		h, src, err := ch.Auth.Authorization(context.Background(), reg, pkg)
		if err != nil {
			t.Fatal(err)
		}
		if h.Reveal() != "Bearer npm_short_lived_token_1" || !strings.Contains(src, "OIDC") || !strings.Contains(src, pkg) {
			t.Fatalf("got header %v from %q", h, src)
		}
	}
	if n := exchanges.Load(); n != 2 {
		t.Fatalf("%d exchanges for 2 packages, want 2", n)
	}
}
