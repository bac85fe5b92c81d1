package idtoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jwt"
)

func vars(kv ...string) Lookup {
	return func(key string) (string, bool) {
		for _, s := range kv {
			if k, v, ok := strings.Cut(s, "="); ok && k == key {
				return v, true
			}
		}
		return "", false
	}
}

func TestSourceAndWhyNot(t *testing.T) {
	cases := []struct {
		env      []string
		source   Source
		provider Provider
		why      string // in Unavailable's error or hint
	}{
		{nil, None, "", "not GitHub Actions, GitLab CI or CircleCI"},
		{[]string{"NPM_ID_TOKEN=x"}, None, "", "NPM_ID_TOKEN is set, but this is not"},
		{[]string{"CI=false", "GITHUB_ACTIONS=true", "NPM_ID_TOKEN=x"}, None, "", "CI=false"},
		{[]string{"GITHUB_ACTIONS=true"}, None, GitHubActions, "id-token: write"},
		{[]string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x"}, None, GitHubActions, "id-token: write"},
		{[]string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r"}, GitHubRequest, GitHubActions, ""},
		{[]string{"GITHUB_ACTIONS=true", "NPM_ID_TOKEN=t", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r"}, Variable, GitHubActions, ""},
		{[]string{"GITLAB_CI=true"}, None, GitLabCI, "id_tokens"},
		{[]string{"GITLAB_CI=true", "NPM_ID_TOKEN=t"}, Variable, GitLabCI, ""},
		{[]string{"CIRCLECI=true"}, None, CircleCI, "circleci run oidc"},
		{[]string{"CIRCLECI=true", "NPM_ID_TOKEN=t"}, Variable, CircleCI, ""},
		// ci-info lets the last vendor in its list win the name.
		{[]string{"CIRCLECI=true", "GITLAB_CI=true"}, None, GitLabCI, "id_tokens"},
	}
	for _, c := range cases {
		e := Detect(vars(c.env...))
		if got := e.Source(); got != c.source {
			t.Errorf("%v: source %v, want %v", c.env, got, c.source)
		}
		if got := e.Provider(); got != c.provider {
			t.Errorf("%v: provider %q, want %q", c.env, got, c.provider)
		}
		err := e.Unavailable()
		if c.why == "" {
			if err != nil {
				t.Errorf("%v: Unavailable = %v, want nil", c.env, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: Unavailable = nil", c.env)
			continue
		}
		if text := err.Error() + " " + hint.Of(err); !strings.Contains(text, c.why) {
			t.Errorf("%v: %q does not say %q", c.env, text, c.why)
		}
		if hint.Of(err) == "" {
			t.Errorf("%v: no advice in %v", c.env, err)
		}
	}
}

func TestAudience(t *testing.T) {
	for in, want := range map[string]string{
		"https://registry.npmjs.org/":        "npm:registry.npmjs.org",
		"http://127.0.0.1:4873/":             "npm:127.0.0.1",
		"https://npm.example.com:8443/path/": "npm:npm.example.com",
	} {
		if got, err := Audience(in); err != nil || got != want {
			t.Errorf("Audience(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Audience("not a url"); err == nil {
		t.Error("Audience accepted a URL without a host")
	}
}

func signed(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Sign(key, "k", claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestFetchFromGitHub(t *testing.T) {
	const requestToken = "request-token-secret-42"
	idTok := signed(t, map[string]any{"aud": "npm:127.0.0.1", "repository": "acme/widget", "exp": time.Now().Add(time.Hour).Unix(), "secret_looking": "x"})
	var answer func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad bearer", http.StatusUnauthorized)
			return
		}
		if got := r.URL.Query().Get("audience"); got != "npm:127.0.0.1" {
			http.Error(w, "audience "+got, http.StatusBadRequest)
			return
		}
		answer(w)
	}))
	defer srv.Close()
	env := Detect(vars("GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL="+srv.URL+"/_apis/idtoken?api-version=2.0&secret=s3cr3tq", "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken))
	f := Fetcher{Env: env}

	answer = func(w http.ResponseWriter) { fmt.Fprintf(w, `{"count":1,"value":%q}`, idTok) }
	tok, err := f.Fetch(context.Background(), "npm:127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value.Reveal() != idTok || tok.Source != GitHubRequest {
		t.Fatalf("got the wrong token from %v", tok.Source)
	}
	if fmt.Sprint(tok) != fmt.Sprint(Token{Value: tok.Value, Source: tok.Source, Claims: tok.Claims}) || strings.Contains(fmt.Sprintf("%v %+v", tok, tok), idTok) {
		t.Fatal("printing a Token shows the ID token")
	}
	got := fmt.Sprint(tok.Described())
	for _, want := range []string{"{aud npm:127.0.0.1}", "{repository acme/widget}", "{exp "} {
		if !strings.Contains(got, want) {
			t.Errorf("claims %s lack %s", got, want)
		}
	}
	if strings.Contains(got, "secret_looking") {
		t.Errorf("claims %s show a claim not on the list", got)
	}

	for _, c := range []struct {
		answer func(w http.ResponseWriter)
		want   string
	}{
		{func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) }, "answered 500"},
		{func(w http.ResponseWriter) { fmt.Fprint(w, `{}`) }, `without a token (no "value")`},
		{func(w http.ResponseWriter) { fmt.Fprint(w, `not json`) }, `without a token`},
	} {
		answer = c.answer
		_, err := f.Fetch(context.Background(), "npm:127.0.0.1")
		if !errors.Is(err, ErrEndpoint) || !strings.Contains(err.Error(), c.want) || hint.Of(err) == "" {
			t.Errorf("Fetch = %v, want ErrEndpoint saying %q with a hint", err, c.want)
		}
		for _, secret := range []string{requestToken, "s3cr3tq"} {
			if strings.Contains(err.Error()+hint.Of(err), secret) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
}

func TestFetchFromVariable(t *testing.T) {
	tok, err := Fetcher{Env: Detect(vars("GITLAB_CI=true", "NPM_ID_TOKEN=not-a-jwt"))}.Fetch(context.Background(), "npm:x")
	if err != nil || tok.Value.Reveal() != "not-a-jwt" || tok.Source != Variable || tok.Claims != nil {
		t.Fatalf("Fetch = %+v, %v", tok.Source, err)
	}
	if _, err := (Fetcher{Env: Detect(vars("GITLAB_CI=true"))}).Fetch(context.Background(), "npm:x"); !errors.As(err, new(ErrNoIDToken)) {
		t.Fatalf("Fetch without a token = %v, want ErrNoIDToken", err)
	}
}

func TestSigstoreToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":"for-%s"}`, r.URL.Query().Get("audience"))
	}))
	defer srv.Close()
	gh := Detect(vars("GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL="+srv.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r", "NPM_ID_TOKEN=npm-audience"))
	if tok, err := (Fetcher{Env: gh}).Sigstore(context.Background()); err != nil || tok.Value.Reveal() != "for-sigstore" {
		t.Fatalf("GitHub: %v (NPM_ID_TOKEN must not be used for signing)", err)
	}
	gl := Detect(vars("GITLAB_CI=true", "SIGSTORE_ID_TOKEN=gitlab-sigstore", "NPM_ID_TOKEN=npm-audience"))
	if tok, err := (Fetcher{Env: gl}).Sigstore(context.Background()); err != nil || tok.Value.Reveal() != "gitlab-sigstore" {
		t.Fatalf("GitLab: %v", err)
	}
	for env, want := range map[string]string{
		"GITHUB_ACTIONS=true": `"write" access to the "id-token" permission`,
		"GITLAB_CI=true":      `requires "SIGSTORE_ID_TOKEN"`,
		"CIRCLECI=true":       "not supported for provider: CircleCI",
		"CI=false":            "not supported for provider: none",
	} {
		_, err := (Fetcher{Env: Detect(vars(env))}).Sigstore(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) || hint.Of(err) == "" {
			t.Errorf("%s: %v, want %q with a hint", env, err, want)
		}
	}
}
