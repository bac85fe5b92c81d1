package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// JWK is a JSON Web Key (RFC 7517), as go-jose reads and writes it.
type JWK = jose.JSONWebKey

// JWKS is a JSON Web Key Set, as served at an issuer's jwks_uri.
type JWKS struct {
	Keys []JWK `json:"keys"`

	// unread are the keys of a decoded set that go-jose could not read.
	unread []unreadKey
}

type unreadKey struct {
	kid string
	err error
}

// UnmarshalJSON decodes a key set. A key go-jose cannot read (an unknown
// kty, a point off its curve) is set aside, as RFC 7517 section 5 says,
// where go-jose's own JSONWebKeySet would refuse the whole set; Verify
// says what is wrong with it if a token names it.
func (s *JWKS) UnmarshalJSON(data []byte) error {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*s = JWKS{}
	for _, r := range raw.Keys {
		var k JWK
		if err := k.UnmarshalJSON(r); err != nil {
			var id struct {
				Kid string `json:"kid"`
			}
			_ = json.Unmarshal(r, &id) // no string kid: no token can name it
			s.unread = append(s.unread, unreadKey{kid: id.Kid, err: err})
			continue
		}
		s.Keys = append(s.Keys, k)
	}
	return nil
}

// key returns the one key in s with the given kid, if it is fit to check
// a token signed with alg. Every failure wraps ErrUnknownKey.
func (s JWKS) key(kid, alg string) (JWK, error) {
	if kid == "" {
		return JWK{}, fmt.Errorf("%w: the token names no key (empty kid)", ErrUnknownKey)
	}
	var found []JWK
	for _, k := range s.Keys {
		if k.KeyID == kid {
			found = append(found, k)
		}
	}
	var unread error
	n := len(found)
	for _, k := range s.unread {
		if k.kid == kid {
			unread = k.err
			n++
		}
	}
	switch {
	case n == 0:
		return JWK{}, fmt.Errorf("%w: the key set has no key %s", ErrUnknownKey, quote(kid))
	case n > 1:
		return JWK{}, fmt.Errorf("%w: the key set has %d keys %s", ErrUnknownKey, n, quote(kid))
	case unread != nil:
		return JWK{}, fmt.Errorf("%w: key %s: %s", ErrUnknownKey, quote(kid), reason(unread))
	}
	k := found[0]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: key %s: %s", ErrUnknownKey, quote(kid), fmt.Sprintf(format, args...))
	}
	if k.Use != "" && k.Use != "sig" {
		return JWK{}, bad("its use is %s, not sig", quote(k.Use))
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return JWK{}, bad("its alg is %s, the token is signed with %s", quote(k.Algorithm), alg)
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if alg != rs256 {
			return JWK{}, bad("it is an RSA key, the token is signed with %s", alg)
		}
		if err := checkRSA(pub); err != nil {
			return JWK{}, bad("%v", err)
		}
	case *ecdsa.PublicKey:
		if alg != es256 {
			return JWK{}, bad("it is an EC key, the token is signed with %s", alg)
		}
		if pub.Curve != elliptic.P256() {
			return JWK{}, bad("its curve is %s, want P-256", pub.Curve.Params().Name)
		}
	default:
		return JWK{}, bad("it is a %T, not an RSA or EC public key", k.Key)
	}
	return k, nil
}

// Verify checks t's signature with the key named by its kid in set. The
// key must fit the token's alg (see JWKS). A missing or unusable key wraps
// ErrUnknownKey, a wrong signature ErrSignature.
func (t *Token) Verify(set JWKS) error {
	if t.jws == nil {
		return fmt.Errorf("%w: the token was not made by Parse", ErrMalformed)
	}
	// go-jose's header, not t.Header, which a caller may have changed.
	h := t.jws.Headers[0]
	k, err := set.key(h.KeyID, h.Algorithm)
	if err != nil {
		return err
	}
	if t.jws.Claims(k.Key) != nil {
		// go-jose says no more than that it failed.
		return fmt.Errorf("%w: %s signature does not match key %s", ErrSignature, h.Algorithm, quote(k.KeyID))
	}
	return nil
}

// Expect is what Validate requires of a token's claims.
type Expect struct {
	Issuer   string        // the exact "iss"
	Audience string        // must be in "aud"
	Now      time.Time     // the time to check exp, nbf and iat against
	Leeway   time.Duration // allowed clock skew, at least 0
}

// Validate checks t's claims: iss is e.Issuer, e.Audience is in aud, exp
// is present and e.Now is before exp+Leeway, nbf (if present) is at most
// e.Now+Leeway, and iat (if present) is not later than e.Now+Leeway. It
// does not check the signature: call Verify as well.
//
// go-jose's Claims.Validate is not used: it takes a token without exp, one
// at exp+leeway, and rounds times to the second.
func (t *Token) Validate(e Expect) error {
	if e.Issuer == "" || e.Audience == "" || e.Now.IsZero() || e.Leeway < 0 {
		return errors.New("validating token: Expect needs an Issuer, an Audience, a Now and a Leeway of at least 0")
	}
	iss, ok := t.Claims.String("iss")
	if !ok {
		return fmt.Errorf("%w: the token has no iss string claim, want %s", ErrIssuer, quote(e.Issuer))
	}
	if iss != e.Issuer {
		return fmt.Errorf("%w: iss is %s, want %s", ErrIssuer, quote(iss), quote(e.Issuer))
	}
	aud := t.Claims.Audience()
	if !slices.Contains(aud, e.Audience) {
		if _, ok := t.Claims["aud"]; !ok {
			return fmt.Errorf("%w: the token has no aud claim, want %s", ErrAudience, quote(e.Audience))
		}
		if aud == nil {
			return fmt.Errorf("%w: aud is neither a string nor an array of strings, want %s", ErrAudience, quote(e.Audience))
		}
		return fmt.Errorf("%w: aud is %s, want %s", ErrAudience, quoteList(aud), quote(e.Audience))
	}

	times := map[string]time.Time{}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if _, ok := t.Claims[name]; !ok {
			continue
		}
		v, ok := t.Claims.Time(name)
		if !ok {
			return fmt.Errorf("%w: claim %s is not a NumericDate (seconds since 1970 up to the year 9999)", ErrMalformed, name)
		}
		times[name] = v
	}
	late := e.Now.Add(e.Leeway)
	exp, ok := times["exp"]
	if !ok {
		return fmt.Errorf("%w: the token has no exp claim", ErrMalformed)
	}
	if !e.Now.Before(exp.Add(e.Leeway)) {
		return fmt.Errorf("%w: it expired at %s, it is now %s (leeway %s)", ErrExpired, stamp(exp), stamp(e.Now), e.Leeway)
	}
	if nbf, ok := times["nbf"]; ok && nbf.After(late) {
		return fmt.Errorf("%w: nbf is %s, it is now %s (leeway %s); check the clock", ErrNotYetValid, stamp(nbf), stamp(e.Now), e.Leeway)
	}
	if iat, ok := times["iat"]; ok && iat.After(late) {
		return fmt.Errorf("%w: iat is %s, in the future, it is now %s (leeway %s); check the clock", ErrNotYetValid, stamp(iat), stamp(e.Now), e.Leeway)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func quoteList(list []string) string {
	const max = 5
	out := "["
	for i, s := range list {
		if i == max {
			out += fmt.Sprintf(" and %d more", len(list)-max)
			break
		}
		if i > 0 {
			out += " "
		}
		out += quote(s)
	}
	return out + "]"
}
