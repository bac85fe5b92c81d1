// Package jwt reads, signs and verifies compact JWS tokens (JWTs) signed
// with RS256 or ES256: the OIDC ID tokens CI systems hand out, and the
// bearer tokens of the test servers.
//
// go-jose (github.com/go-jose/go-jose/v4) does the JOSE work: splitting
// and decoding a token, its header, JWK encoding, signing and checking
// signatures. This package adds what airlock needs on top of it:
//
//   - RS256 and ES256 only, no "crit" header, and a size bound (MaxSize);
//   - claims kept as raw JSON and readable without verification, which is
//     how ID tokens are read before they are sent on;
//   - which keys to trust: one key per kid, of the type the token's alg
//     needs, RSA of 2048 to 8192 bits or P-256, use "sig"; a key set keeps
//     the keys go-jose cannot read aside instead of failing as a whole;
//   - claim checks (Validate) that need exp, keep fractional NumericDates,
//     and fail with this package's errors;
//   - errors callers can tell apart with errors.Is, that never hold the
//     token or its signature, and that are cut short.
//
// Like go-jose, it takes ES256 signatures with s in either half of the
// group order, as standard signers make both. go-jose's base64 decoding
// skips CR and LF and allows non-zero trailing bits, so one token can be
// spelled several ways; nothing in airlock keys on an ID token's spelling.
package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Errors callers can tell apart with errors.Is. Every error this package
// returns about a token wraps one of them.
var (
	ErrMalformed   = errors.New("malformed token")
	ErrSignature   = errors.New("invalid token signature")
	ErrUnknownKey  = errors.New("no usable key for the token")
	ErrExpired     = errors.New("token expired")
	ErrNotYetValid = errors.New("token not yet valid")
	ErrIssuer      = errors.New("wrong token issuer")
	ErrAudience    = errors.New("wrong token audience")
)

// MaxSize is the length of the longest compact token Parse accepts. ID
// tokens are a few kilobytes.
const MaxSize = 64 << 10

// Supported algorithms.
const (
	rs256 = string(jose.RS256)
	es256 = string(jose.ES256)
)

var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// Header is the part of a JOSE header this package uses.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Claims are a token's claims, each kept as the JSON it was given as.
type Claims map[string]json.RawMessage

// String returns the claim name if it is a JSON string.
func (c Claims) String(name string) (string, bool) {
	raw, ok := c[name]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Audience returns the "aud" claim, which RFC 7519 allows to be a string or
// an array of strings; nil if it is neither.
func (c Claims) Audience() []string {
	raw, ok := c["aud"]
	if !ok {
		return nil
	}
	if s, ok := c.String("aud"); ok {
		return []string{s}
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil
	}
	return list
}

// maxNumericDate is 9999-12-31T23:59:59Z: later dates are not real dates,
// and refusing them keeps time arithmetic far from overflow.
const maxNumericDate = 253402300799

// Time returns the NumericDate claim name (seconds since the epoch, integer
// or fractional), or false if it is absent, not a number, negative or past
// the year 9999. go-jose's NumericDate would drop the fraction.
func (c Claims) Time(name string) (time.Time, bool) {
	raw, ok := c[name]
	if !ok {
		return time.Time{}, false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), true
}

// Token is a parsed compact JWS. Parse does not verify it: call Verify and
// Validate.
type Token struct {
	Header Header
	Claims Claims

	jws *josejwt.JSONWebToken
}

// Parse decodes a compact JWS without verifying it. It accepts the
// algorithms RS256 and ES256, and a payload that is a JSON object without
// duplicate names.
func Parse(compact string) (*Token, error) {
	if len(compact) > MaxSize {
		return nil, fmt.Errorf("%w: it is %d bytes, more than the limit of %d", ErrMalformed, len(compact), MaxSize)
	}
	jws, err := josejwt.ParseSigned(compact, algorithms)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		switch {
		case errors.As(err, &alg) && alg.Got == "":
			return nil, fmt.Errorf("%w: the header has no alg", ErrMalformed)
		case errors.As(err, &alg):
			return nil, fmt.Errorf("%w: unsupported alg %s, want RS256 or ES256", ErrMalformed, quote(string(alg.Got)))
		}
		return nil, fmt.Errorf("%w: %s", ErrMalformed, reason(err))
	}
	h := jws.Headers[0]
	t := &Token{Header: Header{Alg: h.Algorithm, Kid: h.KeyID}, jws: jws}
	if typ, ok := h.ExtraHeaders[jose.HeaderType]; ok {
		if t.Header.Typ, ok = typ.(string); !ok {
			return nil, fmt.Errorf("%w: header parameter \"typ\" is not a string", ErrMalformed)
		}
	}
	// go-jose understands the b64 extension (RFC 7797); ID tokens never
	// use one, and refusing crit keeps one way to read a payload.
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return nil, fmt.Errorf("%w: the header has a crit parameter, and no extension is supported", ErrMalformed)
	}
	if err := jws.UnsafeClaimsWithoutVerification(&t.Claims); err != nil {
		return nil, fmt.Errorf("%w: payload: %s", ErrMalformed, reason(err))
	}
	if t.Claims == nil {
		return nil, fmt.Errorf("%w: payload: not a JSON object", ErrMalformed)
	}
	return t, nil
}

// reason phrases an error from go-jose for a message: without its package
// prefix, and cut short, as go-jose quotes header values from the token.
func reason(err error) string {
	msg := strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
	if c := cut(msg, 200); c != msg {
		return c + "..."
	}
	return msg
}

// quote quotes a value from a token for an error message, cut short so a
// large token cannot flood a log.
func quote(s string) string {
	if c := cut(s, 100); c != s {
		return strconv.Quote(c) + "..."
	}
	return strconv.Quote(s)
}

// cut returns at most the first max bytes of s, ending on a rune boundary.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
