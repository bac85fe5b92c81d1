package oidcauth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/npmrc"
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
		checkClaims(r, id, aud, now())
	}

	if configured != "" && c.Env.Source() != idtoken.None && c.Mode != Token {
		r.add(Warning, fmt.Sprintf("%s is set up next to the ID token: airlock uses the ID token and never falls back to it, but npm would use it whenever trusted publishing fails, and fail with a confusing ENEEDAUTH or 404", configured),
			"remove the long-lived token from the publish job (with actions/setup-node, drop registry-url, or do not pass NODE_AUTH_TOKEN)")
	}

	switch r.Path {
	case "token":
		if _, src, err := (npmrc.ConfigAuth{Config: c.Config}).Authorization(ctx, c.Registry, c.Package); err != nil {
			r.add(Problem, "publish would have no credentials: "+err.Error(), hint.Of(err))
		} else {
			r.add(OK, "publish would authenticate with "+src, "")
		}
	case "oidc":
		if c.Package == "" || id.Value.IsZero() {
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

// checkClaims looks for the traps an ID token's claims show.
func checkClaims(r *Report, id idtoken.Token, aud string, now time.Time) {
	if id.Claims == nil {
		r.add(Warning, "the ID token is not a JWT airlock can read, so its claims cannot be checked", "")
		return
	}
	if !slices.Contains(id.Claims.Audience(), aud) {
		r.add(Problem, fmt.Sprintf("the ID token's audience is %q, but the registry expects %q", fmt.Sprint(id.Claims.Audience()), aud),
			"request the token for audience "+aud+" (GitLab: id_tokens: NPM_ID_TOKEN: aud)")
	}
	if exp, ok := id.Claims.Time("exp"); ok && !now.Before(exp) {
		r.add(Problem, "the ID token expired at "+exp.UTC().Format(time.RFC3339), "obtain a fresh ID token in the publish step itself")
	}
	if v, _ := id.Claims.String("runner_environment"); v == "self-hosted" {
		r.add(Warning, "the job runs on a self-hosted runner: npm's trusted publishing and provenance support cloud-hosted runners only", "run the publish job on a GitHub-hosted runner")
	}
}
