package frontdoor

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airlockdev/airlock/internal/jwt"
)

// leeway is the clock skew allowed between the CI system and here.
const leeway = 30 * time.Second

// exchange handles POST /-/npm/v1/oidc/token/exchange/package/<name>:
// an ID token from a trusted CI workflow buys a short-lived token for one
// package.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request, escapedName string) {
	name, rest, ok := splitPackagePath("/" + escapedName)
	if !ok || rest != "" {
		writeError(w, http.StatusNotFound, "%q is not a package name", escapedName)
		return
	}
	fail := func(status int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.log.Info("frontdoor: token exchange refused", "package", name, "status", status, "reason", msg)
		writeError(w, status, "exchanging an ID token for %s: %s", name, msg)
	}
	raw := bearer(r)
	if raw == "" {
		fail(http.StatusUnauthorized, "no ID token: send it as Authorization: Bearer <token>")
		return
	}
	tok, err := jwt.Parse(raw)
	if err != nil {
		fail(http.StatusUnauthorized, "%v", err)
		return
	}
	if tok.Header.Alg != "RS256" && tok.Header.Alg != "ES256" {
		fail(http.StatusUnauthorized, "unsupported alg %q, want RS256 or ES256", tok.Header.Alg)
		return
	}
	iss, _ := tok.Claims.String("iss")
	provider, ok := s.issuers[iss]
	if !ok {
		fail(http.StatusUnauthorized, "issuer %q is not trusted", iss)
		return
	}
	keys, err := s.keys.get(r.Context(), iss, false)
	if err == nil {
		err = tok.Verify(keys)
		if errors.Is(err, jwt.ErrUnknownKey) {
			// The issuer may have rotated its keys since they were fetched.
			if keys, err = s.keys.get(r.Context(), iss, true); err == nil {
				err = tok.Verify(keys)
			}
		}
	}
	var fetchErr *keyFetchError
	switch {
	case errors.As(err, &fetchErr):
		fail(http.StatusBadGateway, "%v", err)
		return
	case err != nil:
		fail(http.StatusUnauthorized, "%v", err)
		return
	}
	aud := s.audience
	if aud == "" {
		aud = "npm:" + (&url.URL{Host: r.Host}).Hostname()
	}
	if err := tok.Validate(jwt.Expect{Issuer: iss, Audience: aud, Now: s.now(), Leeway: leeway}); err != nil {
		fail(http.StatusUnauthorized, "%v", err)
		return
	}
	id, err := identify(provider, tok.Claims)
	if err != nil {
		fail(http.StatusUnprocessableEntity, "%v", err)
		return
	}

	s.mu.Lock()
	pubs := s.publishers[name]
	s.mu.Unlock()
	if len(pubs) == 0 {
		fail(http.StatusNotFound, "package %s has no trusted publisher configured", name)
		return
	}
	found, _, err := s.versions(r.Context(), r.Host, "/"+escapeName(name))
	if err != nil {
		fail(http.StatusBadGateway, "checking the registry for package %s: %v", name, err)
		return
	}
	if !found {
		fail(http.StatusNotFound, "package %s does not exist on the registry: publish its first version with a user token", name)
		return
	}
	pub, mismatch := match(pubs, id)
	if pub == nil {
		fail(http.StatusForbidden, "%s", mismatch)
		return
	}

	token, err := newToken()
	if err != nil {
		fail(http.StatusInternalServerError, "making a token: %v", err)
		return
	}
	actions := pub.Actions
	if len(actions) == 0 {
		actions = []string{actionPublish, actionStage}
	}
	g := &grant{
		pkg:      name,
		actions:  slices.Clone(actions),
		expires:  s.now().Add(s.ttl),
		actor:    id.actor,
		identity: pub.Provider + ":" + pub.Repository + ":" + pub.Workflow,
	}
	if pub.Environment != "" {
		g.identity += ":" + pub.Environment
	}
	s.mu.Lock()
	s.tokens[sha256.Sum256([]byte(token))] = g
	s.mu.Unlock()
	s.log.Info("frontdoor: token exchanged", "package", name, "publisher", g.identity, "actor", g.actor,
		"actions", strings.Join(g.actions, ","), "expires", g.expires.UTC().Format(time.RFC3339))
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
}

// identity is what an ID token says about the workflow run.
type identity struct {
	provider    string
	repository  string
	workflow    string // github: the workflow file name; gitlab: the CI config path
	environment string
	actor       string
}

// identify reads the claims the provider's tokens carry.
func identify(provider string, c jwt.Claims) (identity, error) {
	id := identity{provider: provider}
	id.environment, _ = c.String("environment")
	need := func(name string) (string, error) {
		v, ok := c.String(name)
		if !ok || v == "" {
			return "", fmt.Errorf("the ID token has no %s claim, which %s tokens carry", name, providerName(provider))
		}
		return v, nil
	}
	var err error
	switch provider {
	case "github":
		if id.repository, err = need("repository"); err != nil {
			return id, err
		}
		ref, err := need("workflow_ref")
		if err != nil {
			return id, err
		}
		// owner/repo/.github/workflows/release.yml@refs/heads/main
		p, _, _ := strings.Cut(ref, "@")
		repo, file, ok := strings.Cut(p, "/.github/workflows/")
		if !ok || !strings.EqualFold(repo, id.repository) || file == "" || strings.Contains(file, "/") {
			return id, fmt.Errorf("workflow_ref %q is not %s/.github/workflows/<file>@<ref>", ref, id.repository)
		}
		id.workflow = file
		id.actor, _ = c.String("actor")
	case "gitlab":
		if id.repository, err = need("project_path"); err != nil {
			return id, err
		}
		ref, err := need("ci_config_ref_uri")
		if err != nil {
			return id, err
		}
		// gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main
		_, p, ok := strings.Cut(ref, "//")
		p, _, _ = strings.Cut(p, "@")
		if !ok || p == "" {
			return id, fmt.Errorf("ci_config_ref_uri %q is not <host>/<project>//<path>@<ref>", ref)
		}
		id.workflow = p
		id.actor, _ = c.String("user_login")
	default:
		return id, fmt.Errorf("provider %q is not supported", provider)
	}
	return id, nil
}

func providerName(p string) string {
	switch p {
	case "github":
		return "GitHub Actions"
	case "gitlab":
		return "GitLab CI"
	}
	return p
}

// match returns the first publisher id fits, or, when none does, what
// differs from the publisher that came closest.
func match(pubs []TrustedPublisher, id identity) (*TrustedPublisher, string) {
	best, why := -1, ""
	for i := range pubs {
		p := &pubs[i]
		score, reason := 0, ""
		eq := func(a, b string) bool {
			if id.provider == "github" {
				return strings.EqualFold(a, b)
			}
			return a == b
		}
		switch {
		case p.Provider != id.provider:
			reason = fmt.Sprintf("the token is from %s, the trusted publisher is on %s", providerName(id.provider), providerName(p.Provider))
		case !eq(id.repository, p.Repository):
			score, reason = 1, fmt.Sprintf("repository %q does not match the trusted publisher's %q", id.repository, p.Repository)
		case id.workflow != p.Workflow:
			score, reason = 2, fmt.Sprintf("workflow %q does not match the trusted publisher's %q", id.workflow, p.Workflow)
		case p.Environment != "" && id.environment != p.Environment:
			score, reason = 3, fmt.Sprintf("environment %q does not match the trusted publisher's %q", id.environment, p.Environment)
		default:
			return p, ""
		}
		if score > best {
			best, why = score, reason
		}
	}
	return nil, why
}

// keyCache holds each issuer's key set, found through OIDC discovery.
type keyCache struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex // held while fetching, so concurrent misses fetch once
	sets   map[string]*keySet
}

type keySet struct {
	keys    jwt.JWKS
	fetched time.Time
}

// keyMaxAge is how long a key set is used before it is fetched again.
const keyMaxAge = time.Hour

// keyFetchError is a failure to get an issuer's keys: the token may be
// fine, the check could not be done.
type keyFetchError struct {
	issuer string
	err    error
}

func (e *keyFetchError) Error() string {
	return fmt.Sprintf("fetching the keys of issuer %q: %v", e.issuer, e.err)
}

func (e *keyFetchError) Unwrap() error { return e.err }

func (c *keyCache) get(ctx context.Context, iss string, refresh bool) (jwt.JWKS, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ks := c.sets[iss]; ks != nil && !refresh && c.now().Sub(ks.fetched) < keyMaxAge {
		return ks.keys, nil
	}
	keys, err := c.fetch(ctx, iss)
	if err != nil {
		return jwt.JWKS{}, &keyFetchError{issuer: iss, err: err}
	}
	c.sets[iss] = &keySet{keys: keys, fetched: c.now()}
	return keys, nil
}

func (c *keyCache) fetch(ctx context.Context, iss string) (jwt.JWKS, error) {
	var conf struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := c.getJSON(ctx, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", &conf); err != nil {
		return jwt.JWKS{}, err
	}
	if conf.Issuer != iss {
		return jwt.JWKS{}, fmt.Errorf("its discovery document names issuer %q", conf.Issuer)
	}
	if u, err := url.Parse(conf.JWKSURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return jwt.JWKS{}, fmt.Errorf("its discovery document has jwks_uri %q, not an http(s) URL", conf.JWKSURI)
	}
	var keys jwt.JWKS
	if err := c.getJSON(ctx, conf.JWKSURI, &keys); err != nil {
		return jwt.JWKS{}, err
	}
	return keys, nil
}

func (c *keyCache) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, 1<<20)
	if err != nil {
		return fmt.Errorf("reading %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", u, resp.Status)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %s: %v", u, err)
	}
	return nil
}
