package frontdoor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	actionPublish = "publish"
	actionStage   = "stage"
	actionRead    = "read"
)

// grant is what an exchanged token allows. The token itself is not kept:
// grants are found by its sha256.
type grant struct {
	pkg      string
	actions  []string
	expires  time.Time
	actor    string // who started the CI run (github "actor", gitlab "user_login")
	identity string // the trusted publisher, shown as a stage's actor
	spent    bool   // an upload it authorised succeeded
	busy     bool   // an upload it authorised is under way
}

// principal is who sent a request: the grant of an exchanged token, or
// nil for anyone else (whose Authorization goes upstream untouched).
type principal struct {
	grant *grant
}

func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

const tokenPrefix = "npm_"

// newToken returns "npm_" and 36 random base62 characters.
func newToken() (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := []byte(tokenPrefix)
	n := big.NewInt(int64(len(alphabet)))
	for range 36 {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		b = append(b, alphabet[i.Int64()])
	}
	return string(b), nil
}

// authenticate finds the grant of an exchanged token and refuses what it
// does not allow. Other credentials pass: the registry judges them.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	tok := bearer(r)
	if !strings.HasPrefix(tok, tokenPrefix) {
		return principal{}, true
	}
	s.mu.Lock()
	g := s.tokens[sha256.Sum256([]byte(tok))]
	var expired, spent bool
	if g != nil {
		expired, spent = !s.now().Before(g.expires), g.spent
	}
	s.mu.Unlock()
	if g == nil {
		return principal{}, true
	}
	if expired {
		writeError(w, http.StatusUnauthorized, "token for %s expired at %s; exchange a new ID token", g.pkg, g.expires.UTC().Format(time.RFC3339))
		return principal{}, false
	}
	if spent {
		writeError(w, http.StatusUnauthorized, "token for %s was already used for an upload; exchange a new ID token", g.pkg)
		return principal{}, false
	}
	action, pkg := requestAction(r)
	if action == "" {
		writeError(w, http.StatusForbidden, "a token from the OIDC exchange may only read, publish or stage package %s; %s %s is neither", g.pkg, r.Method, r.URL.EscapedPath())
		return principal{}, false
	}
	if pkg != g.pkg {
		writeError(w, http.StatusForbidden, "token was issued for package %s, not %s", g.pkg, pkg)
		return principal{}, false
	}
	if action != actionRead && !slices.Contains(g.actions, action) {
		writeError(w, http.StatusForbidden, "the trusted publisher of %s does not allow %s with this token; it allows %s", g.pkg, action, strings.Join(g.actions, " and "))
		return principal{}, false
	}
	return principal{grant: g}, true
}

// requestAction says what r does with which package, or "" when it is
// none of the things an exchanged token may do.
func requestAction(r *http.Request) (action, pkg string) {
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, "/-/npm/v1/attestations/"); ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if name, _, ok := splitAttestationPath(rest); ok {
			return actionRead, name
		}
		return "", ""
	}
	if name, ok := visibilityPath(p); ok && r.Method == http.MethodGet {
		return actionRead, name
	}
	if rest, ok := strings.CutPrefix(p, "/-/stage/package/"); ok && r.Method == http.MethodPost {
		if name, tail, ok := splitPackagePath("/" + rest); ok && tail == "" {
			return actionStage, name
		}
		return "", ""
	}
	name, tail, ok := splitPackagePath(p)
	if !ok {
		return "", ""
	}
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return actionRead, name
	case r.Method == http.MethodPut && tail == "":
		return actionPublish, name
	}
	return "", ""
}

// claim reserves g for one upload, or answers the client why not and
// returns false; finish releases it, spending it if the upload succeeded.
func (s *Server) claim(w http.ResponseWriter, g *grant) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.now().Before(g.expires):
		writeError(w, http.StatusUnauthorized, "token for %s expired at %s; exchange a new ID token", g.pkg, g.expires.UTC().Format(time.RFC3339))
	case g.spent:
		writeError(w, http.StatusUnauthorized, "token for %s was already used for an upload; exchange a new ID token", g.pkg)
	case g.busy:
		writeError(w, http.StatusConflict, "token for %s is in use by another upload; wait for it to finish", g.pkg)
	default:
		g.busy = true
		return true
	}
	return false
}

func (s *Server) finish(g *grant, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.busy = false
	if ok {
		g.spent = true
	}
}

// requireUser asks the registry who the request's credentials belong to.
// Exchanged tokens never reach here for these routes.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request, what string) (string, bool) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		writeError(w, http.StatusUnauthorized, "%s needs a registry user: log in with npm login", what)
		return "", false
	}
	name, err := s.whoami(r.Context(), r.Host, auth)
	if err != nil {
		s.log.Info("frontdoor: whoami failed", "err", err)
		writeError(w, http.StatusUnauthorized, "%s needs a registry user, and the registry does not know these credentials: log in with npm login", what)
		return "", false
	}
	return name, true
}

func (s *Server) whoami(ctx context.Context, host, auth string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upstreamURL("/-/whoami", ""), nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("asking the registry who the user is: %w", err)
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, 1<<20)
	if err != nil {
		return "", fmt.Errorf("reading the registry's whoami answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &upstreamError{status: resp.StatusCode, body: data}
	}
	var who struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(data, &who); err != nil || who.Username == "" {
		return "", fmt.Errorf("registry's whoami answer names no user: %s", snippet(data))
	}
	return who.Username, nil
}

// splitPackagePath splits an escaped request path into the package it
// names and the escaped rest ("" or "/..."). Scoped names may be escaped
// ("/@scope%2fname") or not ("/@scope/name").
func splitPackagePath(p string) (name, rest string, ok bool) {
	p, ok = strings.CutPrefix(p, "/")
	if !ok || p == "" || p == "-" || strings.HasPrefix(p, "-/") {
		return "", "", false
	}
	first, after, hasRest := strings.Cut(p, "/")
	first, err := url.PathUnescape(first)
	if err != nil {
		return "", "", false
	}
	if strings.HasPrefix(first, "@") && !strings.Contains(first, "/") {
		if !hasRest {
			return "", "", false
		}
		var second string
		second, after, hasRest = strings.Cut(after, "/")
		if second, err = url.PathUnescape(second); err != nil {
			return "", "", false
		}
		first += "/" + second
	}
	if !validName(first) {
		return "", "", false
	}
	if hasRest {
		return first, "/" + after, true
	}
	return first, "", true
}

func isPackagePath(p string) bool {
	_, rest, ok := splitPackagePath(p)
	return ok && rest == ""
}

// validName accepts the names the registry can hold: an optional
// "@scope/" and a name of URL-safe characters not starting with . or _.
func validName(n string) bool {
	if n == "" || len(n) > 214 {
		return false
	}
	base := n
	if rest, ok := strings.CutPrefix(n, "@"); ok {
		scope, b, ok := strings.Cut(rest, "/")
		if !ok || !validPart(scope) {
			return false
		}
		base = b
	}
	return validPart(base)
}

func validPart(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '_' {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// escapeName escapes a package name as npm-package-arg does.
func escapeName(name string) string { return strings.Replace(name, "/", "%2f", 1) }

// visibilityPath reads the package name from /-/package/<name>/visibility.
func visibilityPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/-/package")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, "/visibility")
	if !ok {
		return "", false
	}
	name, tail, ok := splitPackagePath(rest)
	return name, ok && tail == ""
}
