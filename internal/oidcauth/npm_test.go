package oidcauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/jwt"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/registrytest"
)

// recorder plays both the GitHub ID-token endpoint and a registry that
// exchanges ID tokens, and records the requests that matter to trusted
// publishing: the token request and the exchange.
type recorder struct {
	mu       sync.Mutex
	requests []string
	idToken  string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.requests = append(rc.requests, fmt.Sprintf("%s %s?%s auth=%q", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization")))
	}
	switch {
	case r.URL.Path == "/_apis/idtoken":
		rec()
		fmt.Fprintf(w, `{"count":1,"value":%q}`, rc.idToken)
	case strings.HasPrefix(r.URL.Path, "/-/npm/v1/oidc/token/exchange/package/"):
		rec()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"token":"npm_exchanged0123456789"}`)
	case r.Method == http.MethodGet:
		http.NotFound(w, r)
	default:
		// The publish itself: accepted, not recorded.
		fmt.Fprint(w, `{}`)
	}
}

func (rc *recorder) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.requests
	rc.requests = nil
	return out
}

func testIDToken(t *testing.T, aud string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Sign(key, "k1", map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "aud": aud,
		"repository": "acme/widget", "workflow_ref": "acme/widget/.github/workflows/release.yml@refs/heads/main",
		// Not public, so npm does not go on to turn provenance on.
		"repository_visibility": "private",
		"exp":                   time.Now().Add(time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ciVars are the variables that decide trusted publishing; they are
// removed from the test's own environment.
var ciVars = []string{"CI", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "NPM_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "NODE_AUTH_TOKEN"}

func withoutCI(env []string) []string {
	return slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(ciVars, k)
	})
}

// TestTrustedPublishingRequestsMatchNPM runs the real npm publish and
// airlock under the same CI environments and compares when each asks for
// an ID token and exchanges it, and the requests themselves.
func TestTrustedPublishingRequestsMatchNPM(t *testing.T) {
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	reg := srv.URL + "/"
	rc.idToken = testIDToken(t, "npm:127.0.0.1")
	gitlabToken := testIDToken(t, "npm:127.0.0.1")
	reqURL := srv.URL + "/_apis/idtoken?api-version=2.0"

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"@acme/widget","version":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, tgz := npmtest.Pack(t, dir, t.TempDir())

	cases := []struct {
		name string
		vars []string
	}{
		{"github", []string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-secret-1"}},
		{"github CI=false", []string{"CI=false", "GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-secret-1"}},
		{"github no permission", []string{"GITHUB_ACTIONS=true"}},
		{"github request URL only", []string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL}},
		{"github NPM_ID_TOKEN wins", []string{"GITHUB_ACTIONS=true", "NPM_ID_TOKEN=" + gitlabToken, "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-secret-1"}},
		{"gitlab", []string{"GITLAB_CI=true", "NPM_ID_TOKEN=" + gitlabToken}},
		{"gitlab without token", []string{"GITLAB_CI=true"}},
		{"circleci", []string{"CIRCLECI=true", "NPM_ID_TOKEN=" + gitlabToken}},
		{"no CI", []string{"NPM_ID_TOKEN=" + gitlabToken}},
		{"empty GITHUB_ACTIONS", []string{"GITHUB_ACTIONS=", "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=request-secret-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc.take()
			cmd := npmtest.Command(t, dir, "publish", tgz, "--registry", reg, "--ignore-scripts")
			cmd.Env = append(withoutCI(registrytest.NPMEnvFor(t, reg, "")), c.vars...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			_ = cmd.Run() // without OIDC npm fails with ENEEDAUTH: only the requests matter
			npmReqs := rc.take()

			vars := append(withoutCI(os.Environ()), c.vars...)
			env := idtoken.Detect(lookupIn(vars))
			cfg, err := npmrc.Load(npmrc.Sources{Env: withoutCI(registrytest.NPMEnvFor(t, reg, "")), Flags: map[string]string{"registry": reg}})
			if err != nil {
				t.Fatal(err)
			}
			choice, err := Choose(Options{Mode: Auto, Env: env, Config: cfg, Client: &registry.Client{}})
			if err != nil {
				t.Fatal(err)
			}
			if choice.Path == "oidc" {
				if _, _, err := choice.Auth.Authorization(context.Background(), reg, "@acme/widget"); err != nil {
					t.Fatalf("airlock's exchange failed: %v", err)
				}
			}
			ours := rc.take()
			if !slices.Equal(npmReqs, ours) {
				t.Errorf("requests differ\nnpm:\n  %s\nairlock:\n  %s\nnpm output:\n%s", strings.Join(npmReqs, "\n  "), strings.Join(ours, "\n  "), out.String())
			}
			if (len(npmReqs) > 0) != (choice.Path == "oidc") {
				t.Errorf("npm made %d trusted-publishing requests, airlock chose %s", len(npmReqs), choice.Path)
			}
		})
	}
}

func lookupIn(vars []string) idtoken.Lookup {
	return func(key string) (string, bool) {
		for i := len(vars) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(vars[i], "="); ok && k == key {
				return v, true
			}
		}
		return "", false
	}
}
