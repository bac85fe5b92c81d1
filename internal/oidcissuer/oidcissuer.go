// Package oidcissuer is a local OpenID Connect issuer for tests: it serves
// a discovery document and a JWKS on 127.0.0.1, mints ID tokens with the
// claims GitHub Actions and GitLab CI put in theirs, and stands in for
// GitHub Actions' ID-token request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL).
package oidcissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/airlockdev/airlock/internal/jwt"
)

// Key ids of the issuer's signing keys.
const (
	RSAKid = "rsa-1"
	ECKid  = "ec-1"
)

// Paths the issuer serves.
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/.well-known/jwks"
	idTokenPath   = "/_apis/idtoken"
)

// Issuer is a running test issuer. Its methods are safe for concurrent
// use.
type Issuer struct {
	server *httptest.Server
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	jwks   jwt.JWKS

	mu       sync.Mutex
	bindings map[string]*binding // by request token
	requests []Request
	minted   []string
}

// binding is what a request token of the GitHub stand-in stands for.
type binding struct {
	claims     map[string]any
	opts       Options
	failStatus int // 0: answer with a token
	failBody   string
}

// Start starts an issuer on 127.0.0.1 with a random port, with a fresh
// 2048-bit RSA key (kid "rsa-1") and P-256 key (kid "ec-1").
func Start() (*Issuer, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("starting test issuer: making RSA key: %w", err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("starting test issuer: making ECDSA key: %w", err)
	}
	i := &Issuer{rsaKey: rsaKey, ecKey: ecKey, bindings: map[string]*binding{}}
	rsaJWK, err := jwt.PublicJWK(RSAKid, rsaKey.Public())
	if err != nil {
		return nil, fmt.Errorf("starting test issuer: %w", err)
	}
	ecJWK, err := jwt.PublicJWK(ECKid, ecKey.Public())
	if err != nil {
		return nil, fmt.Errorf("starting test issuer: %w", err)
	}
	i.jwks.Keys = []jwt.JWK{rsaJWK, ecJWK}

	// httptest.NewServer panics when it cannot listen; Start returns an
	// error instead.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting test issuer: listening on 127.0.0.1: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, i.serveDiscovery)
	mux.HandleFunc("GET "+jwksPath, i.serveJWKS)
	mux.HandleFunc(idTokenPath, i.serveIDToken)
	i.server = &httptest.Server{Listener: l, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	i.server.Start()
	return i, nil
}

// URL returns the issuer's base URL, http://127.0.0.1:PORT, which is also
// the "iss" of the tokens it mints.
func (i *Issuer) URL() string { return i.server.URL }

// Close stops the server.
func (i *Issuer) Close() { i.server.Close() }

// JWKS returns the issuer's public keys, as served at /.well-known/jwks.
func (i *Issuer) JWKS() jwt.JWKS {
	return jwt.JWKS{Keys: append([]jwt.JWK(nil), i.jwks.Keys...)}
}

// claimsSupported is the list in GitHub's discovery document.
var claimsSupported = []string{
	"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id",
	"repository_owner", "repository_owner_id", "enterprise", "enterprise_id", "run_id", "run_number",
	"run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref",
	"event_name", "ref_type", "ref_protected", "environment", "environment_node_id", "job_workflow_ref",
	"job_workflow_sha", "repository_visibility", "runner_environment", "issuer_scope",
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.URL(),
		"jwks_uri":                              i.URL() + jwksPath,
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      claimsSupported,
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, i.jwks)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// Options say how Mint makes a token. The zero value makes a valid RS256
// token for the issuer, without an audience.
type Options struct {
	Alg       string        // "RS256" (default) or "ES256"
	Audience  string        // "aud"; "" leaves it out
	TTL       time.Duration // exp - iat; 0 means 5 minutes, negative makes an expired token
	NotBefore time.Time     // "nbf"; zero means the issue time
	Issuer    string        // "iss"; "" means URL()
	Kid       string        // the header's kid; "" means the kid of the signing key
	SignWith  crypto.Signer // a foreign key to sign with; nil means the issuer's key for Alg
}

// reserved are the claims Mint sets from Options.
var reserved = []string{"iss", "aud", "iat", "nbf", "exp", "jti"}

// Mint returns a signed ID token holding claims plus iss, aud, iat, nbf,
// exp and a random jti, which come from o: claims must not hold them.
func (i *Issuer) Mint(claims map[string]any, o Options) (string, error) {
	for _, name := range reserved {
		if _, ok := claims[name]; ok {
			return "", fmt.Errorf("minting token: claim %q is set by Mint from Options, leave it out of claims", name)
		}
	}
	key, kid, err := i.signer(o)
	if err != nil {
		return "", fmt.Errorf("minting token: %w", err)
	}
	if o.Kid != "" {
		kid = o.Kid
	}
	now := time.Now()
	ttl := o.TTL
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	nbf := o.NotBefore
	if nbf.IsZero() {
		nbf = now
	}
	iss := o.Issuer
	if iss == "" {
		iss = i.URL()
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("minting token: %w", err)
	}

	all := make(map[string]any, len(claims)+len(reserved))
	for k, v := range claims {
		all[k] = v
	}
	all["iss"] = iss
	if o.Audience != "" {
		all["aud"] = o.Audience
	}
	all["iat"] = now.Unix()
	all["nbf"] = nbf.Unix()
	all["exp"] = now.Add(ttl).Unix()
	all["jti"] = hex.EncodeToString(jti[:])
	token, err := jwt.Sign(key, kid, all)
	if err != nil {
		return "", fmt.Errorf("minting token: %w", err)
	}
	i.mu.Lock()
	i.minted = append(i.minted, token)
	i.mu.Unlock()
	return token, nil
}

// Minted returns every token the issuer has made, so tests can make sure
// none of them shows up where it must not.
func (i *Issuer) Minted() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.minted...)
}

// signer picks the key Mint signs with, and its kid.
func (i *Issuer) signer(o Options) (crypto.Signer, string, error) {
	if o.SignWith != nil {
		var alg string
		switch o.SignWith.Public().(type) {
		case *rsa.PublicKey:
			alg = "RS256"
		case *ecdsa.PublicKey:
			alg = "ES256"
		}
		if o.Alg != "" && o.Alg != alg {
			return nil, "", fmt.Errorf("Options.SignWith is a %T, which cannot sign %s", o.SignWith.Public(), o.Alg)
		}
		kid := RSAKid
		if alg == "ES256" {
			kid = ECKid
		}
		return o.SignWith, kid, nil
	}
	switch o.Alg {
	case "", "RS256":
		return i.rsaKey, RSAKid, nil
	case "ES256":
		return i.ecKey, ECKid, nil
	default:
		return nil, "", fmt.Errorf("unsupported Options.Alg %q, want RS256 or ES256", o.Alg)
	}
}

// Request is a request the GitHub stand-in received. It never holds the
// bearer token.
type Request struct {
	Method      string
	Path        string
	Audience    string // the audience parameter, "" if absent
	HasAudience bool   // whether the audience parameter was given
	ValidBearer bool   // whether the bearer was a token NewRequestToken made
}

// NewRequestToken binds a new request token to claims and o (whose
// Audience the request's audience parameter replaces) and returns the
// values a GitHub Actions job finds in ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (i *Issuer) NewRequestToken(claims map[string]any, o Options) (requestURL, requestToken string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("oidcissuer: reading random bytes: " + err.Error()) // crypto/rand does not fail
	}
	requestToken = hex.EncodeToString(b[:])
	copied := make(map[string]any, len(claims))
	for k, v := range claims {
		copied[k] = v
	}
	i.mu.Lock()
	i.bindings[requestToken] = &binding{claims: copied, opts: o}
	i.mu.Unlock()
	return i.URL() + idTokenPath + "?api-version=2.0", requestToken
}

// FailRequests makes later requests with requestToken answer status and
// body (as JSON) instead of a token; status 0 restores normal answers.
// Status 200 with body "{}" is GitHub's answer without a "value". It
// panics if NewRequestToken did not make requestToken, which is a bug in
// the test.
func (i *Issuer) FailRequests(requestToken string, status int, body string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	b, ok := i.bindings[requestToken]
	if !ok {
		panic("oidcissuer: FailRequests with a request token NewRequestToken did not make")
	}
	b.failStatus, b.failBody = status, body
}

// Requests returns what the GitHub stand-in has received so far.
func (i *Issuer) Requests() []Request {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Request(nil), i.requests...)
}

func (i *Issuer) serveIDToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := Request{Method: r.Method, Path: r.URL.Path, Audience: q.Get("audience"), HasAudience: q.Has("audience")}
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")

	i.mu.Lock()
	b, ok := i.bindings[bearer]
	req.ValidBearer = hasBearer && ok
	i.requests = append(i.requests, req)
	var bound binding
	if ok {
		bound = *b
	}
	i.mu.Unlock()

	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "the ID-token endpoint takes GET"})
		return
	}
	if !req.ValidBearer {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "missing or unknown bearer token"})
		return
	}
	if bound.failStatus != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(bound.failStatus)
		_, _ = w.Write([]byte(bound.failBody))
		return
	}
	o := bound.opts
	o.Audience = req.Audience
	if o.Audience == "" {
		// GitHub's default audience is the URL of the repository owner.
		owner, _ := bound.claims["repository_owner"].(string)
		if owner == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "no audience parameter, and no repository_owner claim for the default audience"})
			return
		}
		o.Audience = "https://github.com/" + owner
	}
	token, err := i.Mint(bound.claims, o)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(token), "value": token})
}
