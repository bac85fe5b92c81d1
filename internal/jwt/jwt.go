// Package jwt parses, signs and verifies compact JWS tokens (JWTs) signed
// with RS256 or ES256: the OIDC ID tokens CI systems hand out, and the
// bearer tokens of the test servers. Tokens are untrusted input, so parsing
// is strict and bounded, and no error ever holds a token or a signature.
package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	rs256 = "RS256"
	es256 = "ES256"
)

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
// the year 9999.
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

	signingInput string // the first two parts, as signed
	signature    []byte
}

// Parse decodes a compact JWS without verifying it. It accepts exactly
// three unpadded base64url parts, a header and a payload that are each a
// JSON object without duplicate names, and the algorithms RS256 and ES256.
func Parse(compact string) (*Token, error) {
	if len(compact) > MaxSize {
		return nil, fmt.Errorf("%w: it is %d bytes, more than the limit of %d", ErrMalformed, len(compact), MaxSize)
	}
	if n := strings.Count(compact, "."); n != 2 {
		return nil, fmt.Errorf("%w: it has %d parts separated by dots, want 3", ErrMalformed, n+1)
	}
	h64, rest, _ := strings.Cut(compact, ".")
	p64, s64, _ := strings.Cut(rest, ".")

	headerJSON, err := decodePart(h64)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	header, err := object(headerJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	payload, err := decodePart(p64)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	claims, err := object(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	sig, err := decodePart(s64)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: the signature is empty", ErrMalformed)
	}

	t := &Token{Claims: Claims(claims), signingInput: compact[:len(h64)+1+len(p64)], signature: sig}
	for _, p := range []struct {
		name  string
		field *string
	}{{"alg", &t.Header.Alg}, {"kid", &t.Header.Kid}, {"typ", &t.Header.Typ}} {
		raw, ok := header[p.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, p.field); err != nil {
			return nil, fmt.Errorf("%w: header parameter %q is not a string", ErrMalformed, p.name)
		}
	}
	switch t.Header.Alg {
	case rs256, es256:
	case "":
		return nil, fmt.Errorf("%w: the header has no alg", ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: unsupported alg %s, want RS256 or ES256", ErrMalformed, quote(t.Header.Alg))
	}
	// RFC 7515 section 4.1.11: extensions listed in crit must be
	// understood, and this package understands none.
	if _, ok := header["crit"]; ok {
		return nil, fmt.Errorf("%w: the header has a crit parameter, and no extension is supported", ErrMalformed)
	}
	return t, nil
}

// decodePart decodes one unpadded base64url part, refusing padding,
// other alphabets and non-zero trailing bits, so each token has exactly
// one encoding.
func decodePart(s string) ([]byte, error) {
	// The decoder skips \r and \n, even in strict mode.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("not unpadded base64url: byte %d is %q", i, c)
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		// The error holds an offset, never the data.
		return nil, fmt.Errorf("not unpadded base64url: %v", err)
	}
	return b, nil
}

// object decodes a JSON object, refusing invalid UTF-8 (which
// encoding/json would silently replace) and duplicate member names at any
// depth (which other parsers would resolve differently).
func object(data []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	if !json.Valid(data) {
		return nil, errors.New("not valid JSON")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	if err := noDuplicates(data); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// noDuplicates walks valid JSON and refuses an object with a member name
// twice, comparing names after unescaping.
func noDuplicates(data []byte) error {
	type frame struct {
		names   map[string]bool // nil for an array
		wantKey bool
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New("not valid JSON")
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].names != nil && stack[n-1].wantKey {
			name := tok.(string)
			if stack[n-1].names[name] {
				return fmt.Errorf("member %s appears twice", quote(name))
			}
			stack[n-1].names[name] = true
			stack[n-1].wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{names: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		default:
			if n := len(stack); n > 0 && stack[n-1].names != nil {
				stack[n-1].wantKey = true
			}
		}
	}
}

// quote quotes a value from a token for an error message, cut short so a
// large token cannot flood a log.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}
