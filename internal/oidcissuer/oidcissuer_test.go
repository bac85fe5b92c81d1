package oidcissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/jwt"
)

func start(t *testing.T) *Issuer {
	t.Helper()
	i, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(i.Close)
	return i
}

// getJSON fetches url and decodes its JSON body into out, returning the
// status code.
func getJSON(t *testing.T, url, bearer string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s answered Content-Type %q", url, ct)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s answered %d %q: %v", url, resp.StatusCode, body, err)
	}
	return resp.StatusCode
}

// fetchKeys does what a verifier does: discovery, then the JWKS.
func fetchKeys(t *testing.T, i *Issuer) jwt.JWKS {
	t.Helper()
	var disc struct {
		Issuer   string   `json:"issuer"`
		JWKSURI  string   `json:"jwks_uri"`
		Algs     []string `json:"id_token_signing_alg_values_supported"`
		Scopes   []string `json:"scopes_supported"`
		Claims   []string `json:"claims_supported"`
		Subjects []string `json:"subject_types_supported"`
		Response []string `json:"response_types_supported"`
	}
	if code := getJSON(t, i.URL()+"/.well-known/openid-configuration", "", &disc); code != 200 {
		t.Fatalf("discovery answered %d", code)
	}
	if disc.Issuer != i.URL() || disc.JWKSURI != i.URL()+"/.well-known/jwks" {
		t.Errorf("discovery names issuer %q and jwks_uri %q", disc.Issuer, disc.JWKSURI)
	}
	if !reflect.DeepEqual(disc.Algs, []string{"RS256", "ES256"}) || !reflect.DeepEqual(disc.Scopes, []string{"openid"}) ||
		!reflect.DeepEqual(disc.Response, []string{"id_token"}) || len(disc.Subjects) == 0 || !contains(disc.Claims, "workflow_ref") {
		t.Errorf("discovery document %+v", disc)
	}
	var set jwt.JWKS
	if code := getJSON(t, disc.JWKSURI, "", &set); code != 200 {
		t.Fatalf("jwks answered %d", code)
	}
	if len(set.Keys) != 2 || set.Keys[0].KeyID != "rsa-1" || set.Keys[1].KeyID != "ec-1" {
		t.Fatalf("jwks %+v", set)
	}
	return set
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseVerify(t *testing.T, set jwt.JWKS, token string) *jwt.Token {
	t.Helper()
	tok, err := jwt.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(set); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return tok
}

func TestMintRoundTrip(t *testing.T) {
	i := start(t)
	if !strings.HasPrefix(i.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q is not on 127.0.0.1", i.URL())
	}
	set := fetchKeys(t, i)
	claims := GitHubClaims(GitHubRun{Repository: "acme/widget", Workflow: "release.yml", Ref: "refs/heads/main", SHA: "abc"})
	for _, tt := range []struct{ alg, kid string }{{"", "rsa-1"}, {"RS256", "rsa-1"}, {"ES256", "ec-1"}} {
		t.Run("alg "+tt.alg, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			token, err := i.Mint(claims, Options{Alg: tt.alg, Audience: "npm:registry.npmjs.org"})
			if err != nil {
				t.Fatal(err)
			}
			tok := parseVerify(t, set, token)
			if tok.Header.Kid != tt.kid || tok.Header.Typ != "JWT" {
				t.Errorf("header %+v", tok.Header)
			}
			if err := tok.Validate(jwt.Expect{Issuer: i.URL(), Audience: "npm:registry.npmjs.org", Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
			iat, _ := tok.Claims.Time("iat")
			exp, _ := tok.Claims.Time("exp")
			nbf, _ := tok.Claims.Time("nbf")
			if iat.Before(before) || exp.Sub(iat) != 5*time.Minute || !nbf.Equal(iat) {
				t.Errorf("iat %v nbf %v exp %v", iat, nbf, exp)
			}
			if jti, _ := tok.Claims.String("jti"); len(jti) != 32 {
				t.Errorf("jti %q", jti)
			}
			if wr, _ := tok.Claims.String("workflow_ref"); wr != "acme/widget/.github/workflows/release.yml@refs/heads/main" {
				t.Errorf("workflow_ref %q", wr)
			}
		})
	}
}

func TestMintOptions(t *testing.T) {
	i := start(t)
	set := i.JWKS()
	foreignRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreignEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	expect := jwt.Expect{Issuer: i.URL(), Audience: "aud", Now: time.Now(), Leeway: 30 * time.Second}
	for _, tt := range []struct {
		name     string
		o        Options
		verify   error // from Verify
		validate error // from Validate
	}{
		{"defaults", Options{Audience: "aud"}, nil, nil},
		{"expired", Options{Audience: "aud", TTL: -time.Minute}, nil, jwt.ErrExpired},
		{"short TTL", Options{Audience: "aud", TTL: time.Second}, nil, nil},
		{"not yet valid", Options{Audience: "aud", NotBefore: time.Now().Add(time.Hour)}, nil, jwt.ErrNotYetValid},
		{"other issuer", Options{Audience: "aud", Issuer: "https://token.actions.githubusercontent.com"}, nil, jwt.ErrIssuer},
		{"other audience", Options{Audience: "other"}, nil, jwt.ErrAudience},
		{"no audience", Options{}, nil, jwt.ErrAudience},
		{"unknown kid", Options{Audience: "aud", Kid: "rsa-2"}, jwt.ErrUnknownKey, nil},
		{"kid of the other key", Options{Audience: "aud", Kid: "ec-1"}, jwt.ErrUnknownKey, nil},
		{"foreign RSA key", Options{Audience: "aud", SignWith: foreignRSA}, jwt.ErrSignature, nil},
		{"foreign EC key", Options{Audience: "aud", Alg: "ES256", SignWith: foreignEC}, jwt.ErrSignature, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token, err := i.Mint(map[string]any{"sub": "x"}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.Parse(token)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(set); !errors.Is(err, tt.verify) || (tt.verify == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.verify)
			}
			if tt.verify != nil {
				return
			}
			if err := tok.Validate(expect); !errors.Is(err, tt.validate) || (tt.validate == nil && err != nil) {
				t.Fatalf("Validate = %v, want %v", err, tt.validate)
			}
		})
	}
}

func TestMintRefusals(t *testing.T) {
	i := start(t)
	foreignEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		claims map[string]any
		o      Options
		want   string
	}{
		{"iss in claims", map[string]any{"iss": "x"}, Options{}, `claim "iss" is set by Mint`},
		{"exp in claims", map[string]any{"exp": 1}, Options{}, `claim "exp" is set by Mint`},
		{"unknown alg", nil, Options{Alg: "HS256"}, `unsupported Options.Alg "HS256"`},
		{"alg and key differ", nil, Options{Alg: "RS256", SignWith: foreignEC}, "cannot sign RS256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := i.Mint(tt.claims, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

type idTokenAnswer struct {
	Count   int    `json:"count"`
	Value   string `json:"value"`
	Message string `json:"message"`
}

func TestRequestEndpoint(t *testing.T) {
	i := start(t)
	set := fetchKeys(t, i)
	claims := GitHubClaims(GitHubRun{Repository: "acme/widget", Workflow: "release.yml", Ref: "refs/tags/v1.0.0", Environment: "npm"})
	url, token := i.NewRequestToken(claims, Options{Alg: "ES256"})
	if url != i.URL()+"/_apis/idtoken?api-version=2.0" {
		t.Fatalf("request URL %q", url)
	}

	var got idTokenAnswer
	if code := getJSON(t, url+"&audience=npm:registry.npmjs.org", token, &got); code != 200 {
		t.Fatalf("answered %d %+v", code, got)
	}
	if got.Count != len(got.Value) {
		t.Errorf("count %d for a value of %d bytes", got.Count, len(got.Value))
	}
	tok := parseVerify(t, set, got.Value)
	if tok.Header.Alg != "ES256" {
		t.Errorf("alg %q", tok.Header.Alg)
	}
	if err := tok.Validate(jwt.Expect{Issuer: i.URL(), Audience: "npm:registry.npmjs.org", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if sub, _ := tok.Claims.String("sub"); sub != "repo:acme/widget:environment:npm" {
		t.Errorf("sub %q", sub)
	}

	// Without an audience parameter, GitHub's default: the owner's URL.
	if code := getJSON(t, url, token, &got); code != 200 {
		t.Fatalf("answered %d %+v", code, got)
	}
	if aud := parseVerify(t, set, got.Value).Claims.Audience(); !reflect.DeepEqual(aud, []string{"https://github.com/acme"}) {
		t.Errorf("default aud %q", aud)
	}

	// Each request token stands for its own claims.
	url2, token2 := i.NewRequestToken(GitHubClaims(GitHubRun{Repository: "other/repo", Ref: "refs/heads/dev"}), Options{})
	if code := getJSON(t, url2+"&audience=x", token2, &got); code != 200 {
		t.Fatalf("answered %d %+v", code, got)
	}
	if repo, _ := parseVerify(t, set, got.Value).Claims.String("repository"); repo != "other/repo" {
		t.Errorf("second request token minted for %q", repo)
	}

	want := []Request{
		{Method: "GET", Path: "/_apis/idtoken", Audience: "npm:registry.npmjs.org", HasAudience: true, ValidBearer: true},
		{Method: "GET", Path: "/_apis/idtoken", ValidBearer: true},
		{Method: "GET", Path: "/_apis/idtoken", Audience: "x", HasAudience: true, ValidBearer: true},
	}
	if reqs := i.Requests(); !reflect.DeepEqual(reqs, want) {
		t.Errorf("Requests() = %+v\nwant %+v", reqs, want)
	}
}

func TestRequestEndpointRefusals(t *testing.T) {
	i := start(t)
	url, token := i.NewRequestToken(GitHubClaims(GitHubRun{Repository: "acme/widget"}), Options{})
	for _, tt := range []struct {
		name   string
		header string
	}{
		{"no Authorization", ""},
		{"unknown bearer", "Bearer " + strings.Repeat("0", 64)},
		{"basic auth", "Basic " + token},
		{"bearer in lower case", "bearer " + token},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, url+"&audience=a", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got idTokenAnswer
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnauthorized || got.Value != "" || got.Message == "" {
				t.Fatalf("answered %d %+v", resp.StatusCode, got)
			}
		})
	}
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST answered %d", resp.StatusCode)
	}
	for _, r := range i.Requests() {
		if r.ValidBearer {
			t.Errorf("request %+v counted as valid", r)
		}
	}
	if n := len(i.Requests()); n != 6 {
		t.Errorf("%d requests recorded, want 6", n)
	}
}

func TestFailRequests(t *testing.T) {
	i := start(t)
	url, token := i.NewRequestToken(GitHubClaims(GitHubRun{Repository: "acme/widget"}), Options{})
	_, other := i.NewRequestToken(GitHubClaims(GitHubRun{Repository: "acme/widget"}), Options{})

	var got map[string]any
	i.FailRequests(token, http.StatusServiceUnavailable, `{"message":"try later"}`)
	if code := getJSON(t, url+"&audience=a", token, &got); code != 503 || got["message"] != "try later" {
		t.Errorf("answered %d %v", code, got)
	}
	if code := getJSON(t, url+"&audience=a", other, &got); code != 200 || got["value"] == nil {
		t.Errorf("the other request token answered %d %v", code, got)
	}

	// GitHub sometimes answers 200 without a value.
	i.FailRequests(token, http.StatusOK, `{}`)
	got = nil
	if code := getJSON(t, url+"&audience=a", token, &got); code != 200 || len(got) != 0 {
		t.Errorf("answered %d %v", code, got)
	}

	i.FailRequests(token, 0, "")
	if code := getJSON(t, url+"&audience=a", token, &got); code != 200 || got["value"] == nil {
		t.Errorf("after restoring, answered %d %v", code, got)
	}

	defer func() {
		if recover() == nil {
			t.Error("FailRequests took a request token NewRequestToken did not make")
		}
	}()
	i.FailRequests("nope", 500, "")
}

func TestRequestsHoldNoBearer(t *testing.T) {
	i := start(t)
	url, token := i.NewRequestToken(GitHubClaims(GitHubRun{Repository: "acme/widget"}), Options{})
	var got map[string]any
	getJSON(t, url+"&audience=a", token, &got)
	getJSON(t, url+"&audience=a", token+"x", &got)
	data, err := json.Marshal(i.Requests())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) || len(i.Requests()) != 2 {
		t.Errorf("Requests() = %s", data)
	}
}

func TestGitHubClaims(t *testing.T) {
	got := GitHubClaims(GitHubRun{
		Repository: "acme/widget",
		Workflow:   "release.yml",
		Ref:        "refs/heads/main",
		SHA:        "0123456789abcdef0123456789abcdef01234567",
		Actor:      "octocat",
	})
	want := map[string]any{
		"sub":                   "repo:acme/widget:ref:refs/heads/main",
		"repository":            "acme/widget",
		"repository_owner":      "acme",
		"repository_visibility": "public",
		"actor":                 "octocat",
		"workflow":              "release.yml",
		"workflow_ref":          "acme/widget/.github/workflows/release.yml@refs/heads/main",
		"workflow_sha":          "0123456789abcdef0123456789abcdef01234567",
		"job_workflow_ref":      "acme/widget/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_sha":      "0123456789abcdef0123456789abcdef01234567",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"ref_protected":         "false",
		"sha":                   "0123456789abcdef0123456789abcdef01234567",
		"event_name":            "push",
		"run_number":            "1",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
		"head_ref":              "",
		"base_ref":              "",
	}
	checkClaims(t, got, want, "repository_id", "repository_owner_id", "actor_id", "run_id")
	if _, ok := got["environment"]; ok {
		t.Error("environment set for a job without one")
	}

	env := GitHubClaims(GitHubRun{
		Repository: "acme/widget", Workflow: "publish.yaml", Ref: "refs/tags/v1.2.3", Environment: "npm",
		RunnerEnvironment: "self-hosted", Visibility: "private", EventName: "release",
	})
	for k, v := range map[string]any{
		"sub":                   "repo:acme/widget:environment:npm",
		"environment":           "npm",
		"ref_type":              "tag",
		"workflow_ref":          "acme/widget/.github/workflows/publish.yaml@refs/tags/v1.2.3",
		"runner_environment":    "self-hosted",
		"repository_visibility": "private",
		"event_name":            "release",
	} {
		if env[k] != v {
			t.Errorf("%s = %v, want %v", k, env[k], v)
		}
	}
	if env["repository_id"] != got["repository_id"] || env["repository_owner_id"] != got["repository_owner_id"] {
		t.Error("ids differ for the same repository")
	}
	if other := GitHubClaims(GitHubRun{Repository: "acme/gadget"}); other["repository_id"] == got["repository_id"] {
		t.Error("two repositories have the same id")
	}
}

func TestGitLabClaims(t *testing.T) {
	got := GitLabClaims(GitLabRun{
		Project: "acme/tools/widget",
		Ref:     "main",
		SHA:     "0123456789abcdef0123456789abcdef01234567",
		User:    "alice",
	})
	want := map[string]any{
		"sub":                "project_path:acme/tools/widget:ref_type:branch:ref:main",
		"namespace_path":     "acme/tools",
		"project_path":       "acme/tools/widget",
		"project_visibility": "public",
		"user_login":         "alice",
		"pipeline_source":    "push",
		"ref":                "main",
		"ref_type":           "branch",
		"ref_path":           "refs/heads/main",
		"ref_protected":      "false",
		"runner_id":          1,
		"runner_environment": "gitlab-hosted",
		"sha":                "0123456789abcdef0123456789abcdef01234567",
		"ci_config_ref_uri":  "gitlab.com/acme/tools/widget//.gitlab-ci.yml@refs/heads/main",
		"ci_config_sha":      "0123456789abcdef0123456789abcdef01234567",
	}
	checkClaims(t, got, want, "namespace_id", "project_id", "user_id", "pipeline_id", "job_id")

	tag := GitLabClaims(GitLabRun{
		Project: "acme/widget", Ref: "refs/tags/v1.0.0", ConfigPath: "ci/release.yml", Environment: "npm",
		Visibility: "internal", RunnerEnvironment: "self-hosted",
	})
	for k, v := range map[string]any{
		"sub":                "project_path:acme/widget:ref_type:tag:ref:v1.0.0",
		"namespace_path":     "acme",
		"ref":                "v1.0.0",
		"ref_type":           "tag",
		"ref_path":           "refs/tags/v1.0.0",
		"ci_config_ref_uri":  "gitlab.com/acme/widget//ci/release.yml@refs/tags/v1.0.0",
		"environment":        "npm",
		"project_visibility": "internal",
		"runner_environment": "self-hosted",
	} {
		if tag[k] != v {
			t.Errorf("%s = %v, want %v", k, tag[k], v)
		}
	}
	if b := GitLabClaims(GitLabRun{Project: "acme/widget", Ref: "refs/heads/main"}); b["ref"] != "main" || b["ref_path"] != "refs/heads/main" {
		t.Errorf("refs/heads/main gave ref %v, ref_path %v", b["ref"], b["ref_path"])
	}
}

// checkClaims compares got with want, and checks that each of ids is a
// numeric string; got must hold nothing else.
func checkClaims(t *testing.T, got, want map[string]any, ids ...string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range ids {
		s, ok := got[k].(string)
		if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
			t.Errorf("%s = %#v, want a numeric string", k, got[k])
		}
	}
	if len(got) != len(want)+len(ids) {
		for k := range got {
			if _, ok := want[k]; !ok && !contains(ids, k) {
				t.Errorf("unexpected claim %s = %#v", k, got[k])
			}
		}
	}
}
