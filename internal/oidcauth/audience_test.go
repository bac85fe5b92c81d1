package oidcauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// A GitLab NPM_ID_TOKEN is minted for the registry the pipeline declares;
// when a variable moves the registry, the token must not follow it.
func TestIDTokenGoesOnlyToItsAudience(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, `{"token":"npm_should_never_be_minted"}`)
	}))
	defer srv.Close()
	reg := srv.URL + "/"
	home := t.TempDir()
	rc := filepath.Join(t.TempDir(), "npmrc")
	if err := os.WriteFile(rc, []byte("\nregistry="+reg+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	npmjs := testIDToken(t, "npm:registry.npmjs.org")
	cases := []struct {
		name  string
		env   []string
		token string
		says  []string
	}{
		{"npm_config_registry", []string{"npm_config_registry=" + reg}, npmjs,
			[]string{"is for registry.npmjs.org (aud npm:registry.npmjs.org), not for 127.0.0.1, the registry (from registry in env npm_config_registry)", "so it was not sent", "aud: \"npm:127.0.0.1\""}},
		{"NPM_CONFIG_USERCONFIG", []string{"NPM_CONFIG_USERCONFIG=" + rc}, npmjs,
			[]string{"not for 127.0.0.1, the registry (from registry in " + rc + ":2)"}},
		{"not a JWT", []string{"npm_config_registry=" + reg}, "not-a-jwt",
			[]string{"has no audience airlock can read", "was not sent"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := npmrc.Load(npmrc.Sources{Env: append([]string{"HOME=" + home}, c.env...)})
			if err != nil {
				t.Fatal(err)
			}
			env := idtoken.Detect(lookupIn([]string{"GITLAB_CI=true", "NPM_ID_TOKEN=" + c.token}))
			ch, err := Choose(Options{Mode: OIDC, Env: env, Config: cfg, Client: &registry.Client{}})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = ch.Auth.Authorization(context.Background(), cfg.RegistryFor("widget"), "widget")
			if err == nil {
				t.Fatal("the ID token was exchanged")
			}
			if n := requests.Load(); n != 0 {
				t.Fatalf("%d requests reached the registry", n)
			}
			text := err.Error() + "\nhint: " + hint.Of(err)
			for _, s := range c.says {
				if !strings.Contains(text, s) {
					t.Errorf("%q does not say %q", text, s)
				}
			}
			if strings.Contains(text, c.token) && len(c.token) > 12 {
				t.Errorf("the error shows the token: %s", text)
			}
		})
	}
}

// Advice names the settings of the CI the job runs in.
func TestAdviceMatchesProvider(t *testing.T) {
	srv, _ := exchangeServer(t, 403, `{"message":"claims mismatch"}`)
	reg := srv.URL + "/"
	tok := testIDToken(t, "npm:127.0.0.1")
	cases := []struct {
		env       []string
		says, not string
	}{
		{[]string{"GITLAB_CI=true", "NPM_ID_TOKEN=" + tok}, "pipeline file name", "workflow file"},
		{[]string{"CIRCLECI=true", "NPM_ID_TOKEN=" + tok}, "pipeline definition", "workflow file"},
		{[]string{"GITHUB_ACTIONS=true", "NPM_ID_TOKEN=" + tok}, "workflow file name", "pipeline"},
	}
	for _, c := range cases {
		ch, err := Choose(Options{Mode: OIDC, Env: idtoken.Detect(lookupIn(c.env)), Config: config(t, reg), Client: &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ch.Auth.Authorization(context.Background(), reg, "widget")
		h := hint.Of(err)
		if !strings.Contains(h, c.says) || strings.Contains(h, c.not) {
			t.Errorf("%v: hint %q should say %q and not %q", c.env, h, c.says, c.not)
		}
	}

	// doctor's advice about a token next to the ID token.
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := config(t, reg, "npm_config_//"+host+"/:_authToken=npm_longlived_1234")
	for _, c := range []struct {
		env       []string
		says, not string
	}{
		{[]string{"GITLAB_CI=true", "NPM_ID_TOKEN=" + tok}, "CI/CD variable", "setup-node"},
		{[]string{"GITHUB_ACTIONS=true", "NPM_ID_TOKEN=" + tok}, "setup-node", "CI/CD"},
	} {
		env := idtoken.Detect(lookupIn(c.env))
		r := Diagnose(context.Background(), Check{Options: Options{Mode: Auto, Env: env, Config: cfg}, Registry: reg})
		found := false
		for _, f := range r.Findings {
			if strings.Contains(f.Message, "is set up next to the ID token") {
				found = true
				if !strings.Contains(f.Fix, c.says) || strings.Contains(f.Fix, c.not) {
					t.Errorf("%v: fix %q should say %q and not %q", c.env, f.Fix, c.says, c.not)
				}
			}
		}
		if !found {
			t.Errorf("%v: no warning about the configured token: %+v", c.env, r.Findings)
		}
	}
}

// doctor asks the registry whose token publish would send, and says when
// it is refused or the registry cannot be reached.
func TestDiagnoseChecksTheToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/npm/-/whoami":
			w.WriteHeader(http.StatusNotFound)
		case r.Header.Get("Authorization") == "Bearer npm_good_token_1234":
			fmt.Fprint(w, `{"username":"alice"}`)
		case r.Header.Get("Authorization") == "Bearer npm_anonymous_token_1234":
			fmt.Fprint(w, `{}`) // Verdaccio's answer for a token it does not know
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"bad token"}`)
		}
	}))
	defer srv.Close()
	reg := srv.URL + "/npm/"
	host := strings.TrimPrefix(srv.URL, "http://")
	closed := httptest.NewServer(http.NotFoundHandler())
	down := closed.URL + "/"
	closed.Close()

	cases := []struct {
		name, reg, token string
		ok               bool
		says, fix        string
	}{
		{"accepted", reg, "npm_good_token_1234", true, "which the registry accepts as alice", ""},
		{"refused", reg, "npm_bogus_token_9876", false, "the registry does not accept //" + host + "/npm/:_authToken", "expired or revoked"},
		{"anonymous", reg, "npm_anonymous_token_1234", false, "names no user for these credentials", "expired or revoked"},
		{"down", down, "npm_bogus_token_9876", false, "the registry cannot be reached", "nothing accepts connections at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nerf := "//" + strings.TrimPrefix(strings.TrimPrefix(c.reg, "http:"), "//")
			cfg := config(t, c.reg, "npm_config_"+nerf+":_authToken="+c.token)
			r := Diagnose(context.Background(), Check{
				Options:  Options{Mode: Auto, Env: idtoken.Detect(lookupIn(nil)), Config: cfg, Client: &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}},
				Registry: c.reg,
			})
			if r.OK() != c.ok {
				t.Errorf("OK() = %v, want %v: %+v", r.OK(), c.ok, r.Findings)
			}
			var all string
			for _, f := range r.Findings {
				all += f.Level.String() + ": " + f.Message + "\n  fix: " + f.Fix + "\n"
			}
			if !strings.Contains(all, c.says) || !strings.Contains(all, c.fix) {
				t.Errorf("findings do not say %q and %q:\n%s", c.says, c.fix, all)
			}
			if strings.Contains(all, c.token) {
				t.Errorf("findings show the token:\n%s", all)
			}
			if c.ok && r.User != "alice" {
				t.Errorf("User = %q", r.User)
			}
		})
	}
}
