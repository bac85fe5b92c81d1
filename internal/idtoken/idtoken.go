// Package idtoken obtains a CI job's OIDC ID token the way npm 11 does
// for trusted publishing: it detects the CI provider as npm's ci-info
// does, takes NPM_ID_TOKEN where it is set, and otherwise asks GitHub
// Actions' token endpoint for a token with the registry's audience.
//
// The token is a credential: it is held in an npmrc.Secret and never
// printed. Its claims are not secret (they name the repository, workflow
// and ref) and are decoded, without verification, for diagnostics.
package idtoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jwt"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// Provider is a CI service npm can take an ID token from.
type Provider string

const (
	GitHubActions Provider = "GitHub Actions"
	GitLabCI      Provider = "GitLab CI"
	CircleCI      Provider = "CircleCI"
)

// Lookup reads an environment variable.
type Lookup func(key string) (string, bool)

// Env is the CI environment as npm sees it.
type Env struct {
	lookup Lookup
	// providers are those ci-info reports, in its order: like ci-info,
	// more than one can be set at once.
	providers []Provider
}

// Detect reads the CI environment. As in ci-info, CI=false turns all
// detection off, and a provider is detected by its variable being set to
// anything but "": GITHUB_ACTIONS, GITLAB_CI, CIRCLECI.
func Detect(lookup Lookup) *Env {
	e := &Env{lookup: lookup}
	if v, _ := lookup("CI"); v == "false" {
		return e
	}
	for _, p := range []struct {
		p   Provider
		env string
	}{{CircleCI, "CIRCLECI"}, {GitHubActions, "GITHUB_ACTIONS"}, {GitLabCI, "GITLAB_CI"}} {
		if v, _ := lookup(p.env); v != "" {
			e.providers = append(e.providers, p.p)
		}
	}
	return e
}

// Providers lists the CI providers detected, in ci-info's order.
func (e *Env) Providers() []Provider { return e.providers }

// Provider is the provider npm would name (ci-info's last match), or "".
func (e *Env) Provider() Provider {
	if len(e.providers) == 0 {
		return ""
	}
	return e.providers[len(e.providers)-1]
}

func (e *Env) is(p Provider) bool {
	for _, q := range e.providers {
		if q == p {
			return true
		}
	}
	return false
}

// Lookup reads a variable of the environment.
func (e *Env) Lookup(key string) (string, bool) { return e.lookup(key) }

func (e *Env) get(key string) string {
	v, _ := e.lookup(key)
	return v
}

// Source says where an ID token would come from, without fetching it.
type Source int

const (
	// None: no ID token is on offer (see Env.Unavailable for why).
	None Source = iota
	// Variable: NPM_ID_TOKEN is set in a supported CI.
	Variable
	// GitHubRequest: GitHub Actions offers its token request endpoint
	// (the job has the id-token: write permission).
	GitHubRequest
)

func (s Source) String() string {
	switch s {
	case Variable:
		return "NPM_ID_TOKEN"
	case GitHubRequest:
		return "the GitHub Actions ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL)"
	}
	return "none"
}

// Source reports where Fetch would take the ID token from, as npm decides:
// outside GitHub Actions, GitLab CI and CircleCI there is none at all;
// NPM_ID_TOKEN wins wherever it is set; GitHub Actions otherwise needs
// both ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (e *Env) Source() Source {
	if len(e.providers) == 0 {
		return None
	}
	if e.get("NPM_ID_TOKEN") != "" {
		return Variable
	}
	if e.is(GitHubActions) && e.get("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && e.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != "" {
		return GitHubRequest
	}
	return None
}

// Unavailable explains why Source is None, with what to do about it; it
// is nil when an ID token is on offer.
func (e *Env) Unavailable() error {
	if e.Source() != None {
		return nil
	}
	switch {
	case len(e.providers) == 0 && e.get("CI") == "false":
		return hint.With(ErrNoIDToken{"CI=false turns CI detection off, as it does in npm"}, "unset CI=false in the publish job")
	case len(e.providers) == 0 && e.get("NPM_ID_TOKEN") != "":
		return hint.With(ErrNoIDToken{"NPM_ID_TOKEN is set, but this is not GitHub Actions, GitLab CI or CircleCI, where npm uses it"},
			"trusted publishing works from those CI providers only; elsewhere publish with a token (--auth token)")
	case len(e.providers) == 0:
		return hint.With(ErrNoIDToken{"this is not GitHub Actions, GitLab CI or CircleCI, the CI providers npm takes ID tokens from"},
			"run the publish job in one of them, or publish with a token (--auth token)")
	case e.is(GitHubActions):
		return hint.With(ErrNoIDToken{"GitHub Actions did not give this job an ID token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set, which means the job lacks the id-token: write permission"},
			"add 'permissions: { id-token: write }' to the publish job (and only to it)")
	case e.is(GitLabCI):
		return hint.With(ErrNoIDToken{"GitLab CI gave this job no NPM_ID_TOKEN"},
			"declare it in the job: 'id_tokens: { NPM_ID_TOKEN: { aud: \"npm:registry.npmjs.org\" } }' (the audience is npm:<registry host>)")
	default:
		return hint.With(ErrNoIDToken{"CircleCI gave this job no NPM_ID_TOKEN"},
			"set NPM_ID_TOKEN from CircleCI's OIDC token: 'circleci run oidc get --claims '{\"aud\":\"npm:registry.npmjs.org\"}''")
	}
}

// ErrNoIDToken says why no ID token is on offer.
type ErrNoIDToken struct{ Reason string }

func (e ErrNoIDToken) Error() string { return "no OIDC ID token: " + e.Reason }

// Token is an ID token and what it says about the job.
type Token struct {
	Value  npmrc.Secret
	Source Source
	// Claims are the token's claims, decoded without verification; nil
	// when the token is not a JWT airlock can read.
	Claims jwt.Claims
}

// Audience is the audience npm asks for to publish to registryURL:
// "npm:" and the registry's host name, without port.
func Audience(registryURL string) (string, error) {
	u, err := url.Parse(registryURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("no host name in the registry URL %q", registryURL)
	}
	return "npm:" + u.Hostname(), nil
}

// Fetcher obtains ID tokens.
type Fetcher struct {
	Env *Env
	// HTTP sends the request to GitHub's endpoint; nil means a client on
	// http.DefaultTransport. The request is bounded to 30 seconds unless
	// HTTP has a timeout of its own.
	HTTP *http.Client
}

const requestTimeout = 30 * time.Second

// Fetch obtains an ID token for audience (GitHub Actions only; the other
// providers fix the audience when they set NPM_ID_TOKEN).
func (f Fetcher) Fetch(ctx context.Context, audience string) (Token, error) {
	var t Token
	switch f.Env.Source() {
	case Variable:
		t = Token{Value: npmrc.NewSecret(f.Env.get("NPM_ID_TOKEN")), Source: Variable}
	case GitHubRequest:
		v, err := f.github(ctx, audience)
		if err != nil {
			return Token{}, err
		}
		t = Token{Value: v, Source: GitHubRequest}
	default:
		return Token{}, f.Env.Unavailable()
	}
	if parsed, err := jwt.Parse(t.Value.Reveal()); err == nil {
		t.Claims = parsed.Claims
	}
	return t, nil
}

// ErrEndpoint marks a failure of GitHub's ID-token endpoint.
var ErrEndpoint = errors.New("the GitHub Actions ID-token endpoint failed")

// maxAnswer bounds the endpoint's answer.
const maxAnswer = 64 << 10

func (f Fetcher) github(ctx context.Context, audience string) (npmrc.Secret, error) {
	raw := f.Env.get("ACTIONS_ID_TOKEN_REQUEST_URL")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return npmrc.Secret{}, hint.With(fmt.Errorf("%w: ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL", ErrEndpoint),
			"do not override ACTIONS_ID_TOKEN_REQUEST_URL; GitHub sets it")
	}
	// Appended, as npm appends it, keeping the query GitHub gave.
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += "audience=" + url.QueryEscape(audience)
	shown := u.Scheme + "://" + u.Host + u.EscapedPath()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return npmrc.Secret{}, fmt.Errorf("%w: %s", ErrEndpoint, shown)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.Env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	hc := &http.Client{Timeout: requestTimeout}
	if f.HTTP != nil {
		*hc = *f.HTTP
		if hc.Timeout == 0 {
			hc.Timeout = requestTimeout
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		advice := "run the job again; GitHub's token service may be unavailable"
		if inner := hint.Of(err); inner != "" {
			advice += "; " + inner
		}
		// %v, not %w: nothing of the request, which carries the request
		// token, is kept.
		return npmrc.Secret{}, hint.With(fmt.Errorf("%w: GET %s: %v", ErrEndpoint, shown, err), advice)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil || len(body) > maxAnswer {
		return npmrc.Secret{}, hint.With(fmt.Errorf("%w: GET %s: unreadable answer", ErrEndpoint, shown), "run the job again")
	}
	if resp.StatusCode != http.StatusOK {
		return npmrc.Secret{}, hint.With(fmt.Errorf("%w: GET %s answered %d %s", ErrEndpoint, shown, resp.StatusCode, http.StatusText(resp.StatusCode)),
			"run the job again; if it keeps failing, check githubstatus.com and that the job's id-token: write permission is not overridden")
	}
	var answer struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Value == "" {
		return npmrc.Secret{}, hint.With(fmt.Errorf("%w: GET %s answered without a token (no \"value\")", ErrEndpoint, shown),
			"run the job again; if it keeps failing, report it to GitHub support")
	}
	return npmrc.NewSecret(strings.TrimSpace(answer.Value)), nil
}

// Audiences are the token's aud claim; nil when the token is not a JWT
// airlock can read or has no aud.
func (t Token) Audiences() []string {
	if t.Claims == nil {
		return nil
	}
	return t.Claims.Audience()
}

// HasAudience reports whether aud is one of the token's audiences.
func (t Token) HasAudience(aud string) bool {
	for _, a := range t.Audiences() {
		if strings.EqualFold(a, aud) {
			return true
		}
	}
	return false
}

// Described lists the claims worth showing to compare a token with a
// trusted publisher's settings, in a fixed order, with their values.
// None of them is secret.
func (t Token) Described() []Claim {
	return Describe(t.Claims)
}

// Claim is one claim shown.
type Claim struct{ Name, Value string }

// shownClaims are the claims npm's trusted publishers are matched
// against, and those that explain a refusal, for each provider.
var shownClaims = []string{
	"iss", "aud", "sub",
	"repository", "repository_owner", "repository_visibility", "workflow_ref", "job_workflow_ref", "environment", "ref", "event_name", "runner_environment",
	"project_path", "namespace_path", "project_visibility", "ci_config_ref_uri", "pipeline_source",
	"oidc.circleci.com/project-id", "oidc.circleci.com/context-ids",
	"exp",
}

// Describe picks the claims worth showing from claims, in a fixed order.
// Values are printed as compact JSON when not strings, times as RFC 3339.
func Describe(claims jwt.Claims) []Claim {
	var out []Claim
	for _, name := range shownClaims {
		raw, ok := claims[name]
		if !ok {
			continue
		}
		var v string
		switch {
		case name == "exp":
			if t, ok := claims.Time(name); ok {
				v = t.UTC().Format(time.RFC3339)
			}
		case name == "aud":
			v = strings.Join(claims.Audience(), ", ")
		default:
			if s, ok := claims.String(name); ok {
				v = s
			} else {
				v = string(raw)
			}
		}
		out = append(out, Claim{name, registry.Sanitize(v, nil)})
	}
	return out
}

// SigstoreAudience is the audience Fulcio expects of the ID token it
// certifies.
const SigstoreAudience = "sigstore"

// Sigstore obtains the ID token npm signs provenance with: on GitHub
// Actions one requested from the token endpoint for the audience
// "sigstore", on GitLab CI SIGSTORE_ID_TOKEN. Other CI providers have
// none, as in npm.
func (f Fetcher) Sigstore(ctx context.Context) (Token, error) {
	var t Token
	switch {
	case f.Env.is(GitHubActions):
		if f.Env.get("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || f.Env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
			return Token{}, hint.With(errors.New(`provenance generation in GitHub Actions requires "write" access to the "id-token" permission`),
				"add 'permissions: { id-token: write }' to the publish job")
		}
		v, err := f.github(ctx, SigstoreAudience)
		if err != nil {
			return Token{}, err
		}
		t = Token{Value: v, Source: GitHubRequest}
	case f.Env.is(GitLabCI):
		v := f.Env.get("SIGSTORE_ID_TOKEN")
		if v == "" {
			return Token{}, hint.With(errors.New(`provenance generation in GitLab CI requires "SIGSTORE_ID_TOKEN" with "sigstore" audience to be present in "id_tokens"`),
				"declare it in the job: 'id_tokens: { SIGSTORE_ID_TOKEN: { aud: sigstore } }'")
		}
		t = Token{Value: npmrc.NewSecret(v), Source: Variable}
	default:
		return Token{}, hint.With(fmt.Errorf("provenance generation is not supported for provider: %s", orNone(string(f.Env.Provider()))),
			"provenance can be made in GitHub Actions and GitLab CI only; publish without --provenance elsewhere")
	}
	if parsed, err := jwt.Parse(t.Value.Reveal()); err == nil {
		t.Claims = parsed.Claims
	}
	return t, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
