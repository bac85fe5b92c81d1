package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// Level grades a finding.
type Level int

const (
	OK Level = iota
	Warning
	// Problem: a publish would fail.
	Problem
)

func (l Level) String() string {
	switch l {
	case Warning:
		return "warning"
	case Problem:
		return "problem"
	}
	return "ok"
}

// MarshalText makes a Level read as its name in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Finding is one thing the diagnosis found.
type Finding struct {
	Level   Level  `json:"level"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is what a publish would find, learnt without publishing.
type Report struct {
	// Providers are the CI providers detected.
	Providers []idtoken.Provider `json:"providers"`
	// IDTokenSource says where an ID token would come from ("none" if
	// nowhere).
	IDTokenSource string `json:"idTokenSource"`
	// IDToken says whether one was obtained: "obtained", "not on offer",
	// or the failure.
	IDToken string `json:"idToken"`
	// Claims are the ID token's non-secret claims.
	Claims   []idtoken.Claim `json:"claims,omitempty"`
	Registry string          `json:"registry"`
	Audience string          `json:"audience,omitempty"`
	Package  string          `json:"package,omitempty"`
	// AuthSources lists every credential found, described, never shown.
	AuthSources []string `json:"authSources"`
	// User is who the registry says the configured token belongs to
	// (GET /-/whoami), when publish would use it and the registry said.
	User string `json:"user,omitempty"`
	// Path is what publish would use: "oidc", "token" or "none".
	Path     string    `json:"path"`
	Why      string    `json:"why"`
	Findings []Finding `json:"findings"`
}

// OK reports whether nothing found would make a publish fail.
func (r *Report) OK() bool {
	return !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Level == Problem })
}

func (r *Report) add(l Level, msg, fix string) {
	r.Findings = append(r.Findings, Finding{Level: l, Message: msg, Fix: fix})
}

// Check is what to diagnose.
type Check struct {
	Options
	// Registry is where the package would be published.
	Registry string
	// Package, if set, is tried with a real token exchange (the token
	// obtained is thrown away) to learn whether its trusted publisher
	// accepts this job.
	Package string
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Diagnose finds out, without publishing, how a publish would
// authenticate and what would stop it. It asks the CI for an ID token
// (kept in memory, never shown) and, with Package set, the registry for an
// exchange.
func Diagnose(ctx context.Context, c Check) *Report {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	r := &Report{Providers: c.Env.Providers(), Registry: c.Registry, Package: c.Package, IDTokenSource: c.Env.Source().String(), AuthSources: []string{}}
	if r.Providers == nil {
		r.Providers = []idtoken.Provider{}
	}
	aud, err := idtoken.Audience(c.Registry)
	if err != nil {
		r.add(Problem, err.Error(), "set the registry in an npmrc or with --registry")
		r.Path = "none"
		return r
	}
	r.Audience = aud

	// Every credential there is.
	if c.Env.Source() != idtoken.None {
		r.AuthSources = append(r.AuthSources, "OIDC ID token from "+c.Env.Source().String())
	}
	configured := configuredToken(c.Env, c.Config, c.Registry)
	if configured != "" {
		r.AuthSources = append(r.AuthSources, configured)
	}

	choice, err := Choose(c.Options)
	if err != nil {
		r.Path = "none"
		r.Why = err.Error()
		r.add(Problem, err.Error(), hint.Of(err))
	} else {
		r.Path, r.Why = choice.Path, choice.Why
	}

	// The ID token, and what it says.
	var id idtoken.Token
	switch {
	case c.Env.Source() == idtoken.None:
		r.IDToken = "not on offer"
		if c.Mode != OIDC && len(r.Providers) > 0 {
			e := c.Env.Unavailable()
			r.add(Warning, e.Error(), hint.Of(e))
		}
	default:
		id, err = idtoken.Fetcher{Env: c.Env, HTTP: c.HTTP}.Fetch(ctx, aud)
		if err != nil {
			r.IDToken = err.Error()
			if r.Path == "oidc" {
				r.add(Problem, err.Error(), hint.Of(err))
			} else {
				r.add(Warning, err.Error(), hint.Of(err))
			}
			break
		}
		r.IDToken = "obtained"
		r.Claims = id.Described()
		level := Warning // the ID token would not be used
		if r.Path == "oidc" {
			level = Problem
		}
		checkClaims(r, c, id, aud, now(), level)
	}

	if configured != "" && c.Env.Source() != idtoken.None && c.Mode != Token {
		r.add(Warning, fmt.Sprintf("%s is set up next to the ID token: airlock uses the ID token and never falls back to it, but npm would use it whenever trusted publishing fails, and fail with a confusing ENEEDAUTH or 404", configured),
			removeTokenAdvice(c.Env.Provider()))
	}

	client := c.Client
	if client == nil {
		client = &registry.Client{}
	}
	switch r.Path {
	case "token":
		header, src, err := (npmrc.ConfigAuth{Config: c.Config}).Authorization(ctx, c.Registry, c.Package)
		if err != nil {
			r.add(Problem, "publish would have no credentials: "+err.Error(), hint.Of(err))
			reachable(ctx, r, client, c.Registry)
			break
		}
		checkToken(ctx, r, client, c.Registry, header, src)
	case "oidc":
		if c.Package == "" || id.Value.IsZero() || !id.HasAudience(aud) {
			reachable(ctx, r, client, c.Registry)
			break
		}
		x := choice.Auth.(*exchanger)
		if _, _, err := x.Authorization(ctx, c.Registry, c.Package); err != nil {
			r.add(Problem, err.Error(), hint.Of(err))
		} else {
			r.add(OK, fmt.Sprintf("the registry exchanged the ID token for a publish token for %s (the token was thrown away)", c.Package), "")
		}
	}
	return r
}

// checkToken asks the registry whose token publish would send (GET
// /-/whoami, as npm whoami): a token the registry does not accept, or a
// registry that cannot be reached, is a problem found now rather than
// after the checks of a publish.
func checkToken(ctx context.Context, r *Report, client *registry.Client, reg string, header npmrc.Secret, src string) {
	auth := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", header.Reveal())
		return nil
	}
	user, err := client.Whoami(ctx, reg, auth)
	var he *registry.HTTPError
	switch {
	case err == nil:
		r.User = user
		r.add(OK, fmt.Sprintf("publish would authenticate with %s, which the registry accepts as %s", src, user), "")
	case errors.Is(err, registry.ErrUnauthorized), errors.Is(err, registry.ErrNoUser):
		r.add(Problem, fmt.Sprintf("the registry does not accept %s: %v", src, err),
			"the token is wrong, expired or revoked, or meant for another registry: create a new one (npm token create, or on the registry's website) and set it for this job")
	case errors.As(err, &he), !isConnection(err):
		r.add(Warning, fmt.Sprintf("publish would authenticate with %s, but the registry did not say whose it is: %v", src, err),
			"the registry may not answer npm whoami; a publish will tell")
	default:
		r.add(Problem, "the registry cannot be reached: "+err.Error(), hint.Of(err))
	}
}

// isConnection reports whether err is a failure to get an answer at all.
func isConnection(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || registry.IsCertificateError(err) || errors.Is(err, context.DeadlineExceeded)
}

// reachable checks that the registry answers at all (GET /-/ping).
func reachable(ctx context.Context, r *Report, client *registry.Client, reg string) {
	if err := client.Ping(ctx, reg); err != nil {
		r.add(Problem, "the registry cannot be reached: "+err.Error(), hint.Of(err))
	}
}

// removeTokenAdvice says how to take a long-lived token out of the
// publish job, for each CI.
func removeTokenAdvice(p idtoken.Provider) string {
	switch p {
	case idtoken.GitLabCI:
		return "remove the long-lived token from the publish job: do not give it the CI/CD variable with the token (NPM_TOKEN, NODE_AUTH_TOKEN) and drop the _authToken line from the npmrc it uses"
	case idtoken.CircleCI:
		return "remove the long-lived token from the publish job: take the variable with the token out of the job's context and project settings, and drop the _authToken line from the npmrc it uses"
	}
	return "remove the long-lived token from the publish job (with actions/setup-node, drop registry-url, or do not pass NODE_AUTH_TOKEN)"
}

// checkClaims looks for the traps an ID token's claims show.
// Problems of a token publish would not use are warnings (level).
func checkClaims(r *Report, c Check, id idtoken.Token, aud string, now time.Time, level Level) {
	if id.Claims == nil {
		r.add(Warning, "the ID token is not a JWT airlock can read, so its claims cannot be checked, and publish would not send it", "")
		return
	}
	if !id.HasAudience(aud) {
		host := strings.TrimPrefix(aud, "npm:")
		got := "no audience"
		if auds := id.Audiences(); len(auds) > 0 {
			got = audienceHosts(auds)
		}
		r.add(level, fmt.Sprintf("the ID token is for %s, not for %s, the registry (from %s), which expects aud %s: publish would not send it", got, host, registrySetting(c.Config, c.Registry, c.Package), aud),
			wrongAudienceAdvice(c.Env, aud))
	}
	if exp, ok := id.Claims.Time("exp"); ok && !now.Before(exp) {
		r.add(level, "the ID token expired at "+exp.UTC().Format(time.RFC3339), "obtain a fresh ID token in the publish step itself")
	}
	if v, _ := id.Claims.String("runner_environment"); v == "self-hosted" {
		r.add(Warning, "the job runs on a self-hosted runner: npm's trusted publishing and provenance support cloud-hosted runners only", "run the publish job on a GitHub-hosted runner")
	}
}
