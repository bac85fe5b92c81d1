// Package frontdoor is the server side of the npm registry features that
// Verdaccio lacks: the OIDC token exchange of trusted publishing, staged
// publishing with 2FA approval, and storage of provenance bundles. It is
// an http.Handler put in front of a real registry; it refuses what the
// public registry refuses and passes everything else through unchanged.
package frontdoor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TrustedPublisher is a CI workflow allowed to publish a package without
// a long-lived token.
type TrustedPublisher struct {
	Provider string // "github" or "gitlab"
	// Repository is "owner/repo" on GitHub (compared case-insensitively)
	// or the project path "group/sub/project" on GitLab.
	Repository string
	// Workflow is the workflow file name on GitHub ("release.yml") or the
	// CI config path on GitLab (".gitlab-ci.yml").
	Workflow string
	// Environment, when set, must equal the token's "environment" claim.
	Environment string
	// Actions holds "publish" and/or "stage"; empty means both.
	Actions []string
}

// Config configures a Server.
type Config struct {
	Upstream string // the real registry's base URL
	// UpstreamAuth is the Authorization header value used upstream for
	// uploads the front door makes itself (publishes with an exchanged
	// token, approved stages).
	UpstreamAuth string
	// Issuers maps each trusted OIDC issuer URL to its provider ("github"
	// or "gitlab").
	Issuers map[string]string
	// Audience is the aud an ID token must carry; "" means
	// "npm:<hostname of the request's Host>", as npm asks for.
	Audience   string
	Publishers map[string][]TrustedPublisher // package name -> its trusted publishers
	// OTPSecrets maps a registry user to their TOTP secret; approving or
	// rejecting a stage needs a valid code in the npm-otp header.
	OTPSecrets map[string][]byte
	TokenTTL   time.Duration    // lifetime of exchanged tokens; 0 means 15 minutes
	Now        func() time.Time // nil means time.Now
	HTTP       *http.Client     // for upstream and issuer requests; nil means a default client
	Logger     *slog.Logger     // nil discards; tokens are never logged
}

// MaxBodySize is the largest publish or stage body accepted.
const MaxBodySize = 1 << 30

// Server is the front door. It is safe for concurrent use.
type Server struct {
	upstream     *url.URL
	upstreamAuth string
	issuers      map[string]string
	audience     string
	otpSecrets   map[string][]byte
	ttl          time.Duration
	now          func() time.Time
	client       *http.Client
	log          *slog.Logger
	proxy        *httputil.ReverseProxy
	keys         *keyCache

	mu         sync.Mutex
	publishers map[string][]TrustedPublisher
	tokens     map[[32]byte]*grant // by sha256 of the token
	bundles    map[string][]storedBundle
	stages     []*stage
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	up, err := url.Parse(cfg.Upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("frontdoor: upstream %q is not an http(s) URL", cfg.Upstream)
	}
	up.Path = strings.TrimSuffix(up.Path, "/")
	up.RawPath = ""
	for iss, provider := range cfg.Issuers {
		if provider != "github" && provider != "gitlab" {
			return nil, fmt.Errorf("frontdoor: issuer %q has provider %q; use \"github\" or \"gitlab\"", iss, provider)
		}
		if u, err := url.Parse(iss); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("frontdoor: issuer %q is not an http(s) URL", iss)
		}
	}
	for pkg, pubs := range cfg.Publishers {
		if err := checkPublishers(pkg, pubs); err != nil {
			return nil, err
		}
	}
	s := &Server{
		upstream:     up,
		upstreamAuth: cfg.UpstreamAuth,
		issuers:      cloneMap(cfg.Issuers),
		audience:     cfg.Audience,
		otpSecrets:   cloneMap(cfg.OTPSecrets),
		ttl:          cfg.TokenTTL,
		now:          cfg.Now,
		client:       cfg.HTTP,
		log:          cfg.Logger,
		publishers:   map[string][]TrustedPublisher{},
		tokens:       map[[32]byte]*grant{},
		bundles:      map[string][]storedBundle{},
	}
	if s.ttl == 0 {
		s.ttl = 15 * time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 5 * time.Minute}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for pkg, pubs := range cfg.Publishers {
		s.publishers[pkg] = append([]TrustedPublisher(nil), pubs...)
	}
	s.keys = &keyCache{client: s.client, now: s.now, sets: map[string]*keySet{}}
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(s.upstream)
			// Verdaccio builds tarball URLs from the Host it is asked
			// for: keep the front door's so clients come back here.
			r.Out.Host = r.In.Host
		},
		Transport: s.client.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.Warn("frontdoor: proxying", "method", r.Method, "path", r.URL.Path, "err", err)
			writeError(w, http.StatusBadGateway, "reaching the registry at %s: %v", s.upstream.Redacted(), err)
		},
	}
	return s, nil
}

func checkPublishers(pkg string, pubs []TrustedPublisher) error {
	for i, p := range pubs {
		where := fmt.Sprintf("frontdoor: trusted publisher %d of %q", i, pkg)
		if p.Provider != "github" && p.Provider != "gitlab" {
			return fmt.Errorf("%s: provider %q is not \"github\" or \"gitlab\"", where, p.Provider)
		}
		if p.Repository == "" || p.Workflow == "" {
			return fmt.Errorf("%s: repository and workflow are required", where)
		}
		for _, a := range p.Actions {
			if a != actionPublish && a != actionStage {
				return fmt.Errorf("%s: action %q is not \"publish\" or \"stage\"", where, a)
			}
		}
	}
	return nil
}

// SetPublishers replaces the trusted publishers of pkg; nil removes them.
// Invalid publishers are dropped and logged.
func (s *Server) SetPublishers(pkg string, p []TrustedPublisher) {
	if err := checkPublishers(pkg, p); err != nil {
		s.log.Error(err.Error())
		p = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		delete(s.publishers, pkg)
		return
	}
	s.publishers[pkg] = append([]TrustedPublisher(nil), p...)
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ServeHTTP routes a request to the feature it needs, or to the registry.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, "/-/npm/v1/oidc/token/exchange/package/"); ok {
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "token exchange takes POST, not %s", r.Method)
			return
		}
		s.exchange(w, r, rest)
		return
	}
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/-/package/") && strings.HasSuffix(p, "/visibility"):
		s.visibility(w, r, p)
	case strings.HasPrefix(p, "/-/npm/v1/attestations/"):
		s.attestations(w, r, strings.TrimPrefix(p, "/-/npm/v1/attestations/"))
	case strings.HasPrefix(p, "/-/stage/package/") && r.Method == http.MethodPost:
		s.stagePublish(w, r, who, strings.TrimPrefix(p, "/-/stage/package/"))
	case p == "/-/stage" || strings.HasPrefix(p, "/-/stage/"):
		s.stageAPI(w, r, strings.TrimPrefix(p, "/-/stage"))
	case r.Method == http.MethodPut && isPackagePath(p):
		s.publish(w, r, who, p)
	case r.Method == http.MethodGet && isPackagePath(p):
		s.packument(w, r, who, p)
	default:
		s.forward(w, r, who)
	}
}

// forward passes r to the registry; an exchanged token is not passed on.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, who principal) {
	if who.grant != nil {
		r = r.Clone(r.Context())
		r.Header.Del("Authorization")
	}
	s.proxy.ServeHTTP(w, r)
}

// apiError is the body of every answer the front door makes up itself:
// npm shows body.message, other clients body.error.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	writeJSON(w, status, apiError{Error: msg, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed","message":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// upstreamURL is the registry URL of escapedPath (which starts with "/")
// with the query rawQuery.
func (s *Server) upstreamURL(escapedPath, rawQuery string) string {
	u := *s.upstream
	u.RawPath = u.Path + escapedPath
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		p = u.RawPath
	}
	u.Path = p
	u.RawQuery = rawQuery
	return u.String()
}

// upstreamError is a registry answer the front door did not expect.
type upstreamError struct {
	status int
	body   []byte
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("registry answered %d: %s", e.status, snippet(e.body))
}

func snippet(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// readLimited reads at most limit bytes of r, failing beyond.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("answer is larger than " + fmt.Sprint(limit) + " bytes")
	}
	return data, nil
}

// visibility answers GET /-/package/<name>/visibility as the registry
// does for a package it has: {"public": true} (Verdaccio has no private
// packages), or 404.
func (s *Server) visibility(w http.ResponseWriter, r *http.Request, p string) {
	name, ok := visibilityPath(p)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid package in %s", p)
		return
	}
	found, _, err := s.versions(r.Context(), r.Host, "/"+escapeName(name))
	switch {
	case err != nil:
		writeError(w, http.StatusBadGateway, "checking the registry for package %s: %v", name, err)
	case !found:
		writeError(w, http.StatusNotFound, "package %s not found", name)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"public":true}` + "\n"))
	}
}
