package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// JWK is a public JSON Web Key (RFC 7517) of type RSA or EC.
type JWK struct {
	Kty string `json:"kty,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is a JSON Web Key Set, as served at an issuer's jwks_uri.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes pub, an RSA key (alg RS256) or a P-256 ECDSA key
// (alg ES256), as a signing JWK with the given kid.
func PublicJWK(kid string, pub crypto.PublicKey) (JWK, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return JWK{}, fmt.Errorf("describing key %q: the RSA key has %d bits, want %d to %d", kid, bits, minRSABits, maxRSABits)
		}
		return JWK{Kty: "RSA", Kid: kid, Alg: rs256, Use: "sig", N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return JWK{}, fmt.Errorf("describing key %q: the ECDSA key is on %s, want P-256", kid, pub.Curve.Params().Name)
		}
		point, err := pub.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("describing key %q: %v", kid, err)
		}
		return JWK{Kty: "EC", Kid: kid, Alg: es256, Use: "sig", Crv: "P-256", X: b64(point[1:33]), Y: b64(point[33:])}, nil
	default:
		return JWK{}, fmt.Errorf("describing key %q: unsupported key type %T, want RSA or P-256 ECDSA", kid, pub)
	}
}

// Key returns the public key with the given kid. Every failure wraps
// ErrUnknownKey: no key with that kid, more than one, or one this package
// refuses (RSA under 2048 bits, a curve other than P-256, a point off the
// curve, a use other than "sig").
func (s JWKS) Key(kid string) (crypto.PublicKey, error) {
	k, err := s.find(kid)
	if err != nil {
		return nil, err
	}
	return k.public()
}

func (s JWKS) find(kid string) (JWK, error) {
	if kid == "" {
		return JWK{}, fmt.Errorf("%w: the token names no key (empty kid)", ErrUnknownKey)
	}
	var found []JWK
	for _, k := range s.Keys {
		if k.Kid == kid {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return JWK{}, fmt.Errorf("%w: the key set has no key %s", ErrUnknownKey, quote(kid))
	case 1:
		return found[0], nil
	default:
		return JWK{}, fmt.Errorf("%w: the key set has %d keys %s", ErrUnknownKey, len(found), quote(kid))
	}
}

func (k JWK) public() (crypto.PublicKey, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: key %s: %s", ErrUnknownKey, quote(k.Kid), fmt.Sprintf(format, args...))
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, bad("its use is %s, not sig", quote(k.Use))
	}
	dec := base64.RawURLEncoding.Strict().DecodeString
	switch k.Kty {
	case "RSA":
		n, errN := dec(k.N)
		e, errE := dec(k.E)
		if errN != nil || errE != nil {
			return nil, bad("n or e is not unpadded base64url")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, bad("the RSA key has %d bits, want %d to %d", bits, minRSABits, maxRSABits)
		}
		exp := new(big.Int).SetBytes(e)
		if exp.BitLen() > 31 || exp.Int64() < 3 || exp.Bit(0) == 0 {
			return nil, bad("the RSA exponent is not an odd number from 3 to 2^31-1")
		}
		pub.E = int(exp.Int64())
		return pub, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, bad("its curve is %s, want P-256", quote(k.Crv))
		}
		x, errX := dec(k.X)
		y, errY := dec(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, bad("x and y are not 32-byte unpadded base64url")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, bad("the point is not on P-256")
		}
		return pub, nil
	default:
		return nil, bad("unsupported kty %s, want RSA or EC", quote(k.Kty))
	}
}

// Verify checks t's signature with the key named by t.Header.Kid in set.
// The key's kty, and its alg if it has one, must fit t.Header.Alg. A
// missing or unusable key wraps ErrUnknownKey, a wrong signature
// ErrSignature.
func (t *Token) Verify(set JWKS) error {
	k, err := set.find(t.Header.Kid)
	if err != nil {
		return err
	}
	wantKty := map[string]string{rs256: "RSA", es256: "EC"}[t.Header.Alg]
	if wantKty == "" {
		// Parse refuses other algorithms; a Token built by hand may not.
		return fmt.Errorf("%w: unsupported alg %s", ErrMalformed, quote(t.Header.Alg))
	}
	if k.Kty != wantKty || (k.Alg != "" && k.Alg != t.Header.Alg) {
		return fmt.Errorf("%w: the token is signed with %s, key %s is kty %s alg %s",
			ErrUnknownKey, t.Header.Alg, quote(k.Kid), quote(k.Kty), quote(k.Alg))
	}
	pub, err := k.public()
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(t.signingInput))
	// The header's alg picks the check, and the key must be of its type.
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if t.Header.Alg != rs256 {
			return fmt.Errorf("%w: key %s is RSA, the token is signed with %s", ErrUnknownKey, quote(k.Kid), t.Header.Alg)
		}
		if len(t.signature) != pub.Size() {
			return fmt.Errorf("%w: RS256 signature is %d bytes, key %s needs %d", ErrSignature, len(t.signature), quote(k.Kid), pub.Size())
		}
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], t.signature) != nil {
			return fmt.Errorf("%w: RS256 signature does not match key %s", ErrSignature, quote(k.Kid))
		}
	case *ecdsa.PublicKey:
		if t.Header.Alg != es256 {
			return fmt.Errorf("%w: key %s is EC, the token is signed with %s", ErrUnknownKey, quote(k.Kid), t.Header.Alg)
		}
		if len(t.signature) != 64 {
			return fmt.Errorf("%w: ES256 signature is %d bytes, want 64", ErrSignature, len(t.signature))
		}
		r := new(big.Int).SetBytes(t.signature[:32])
		s := new(big.Int).SetBytes(t.signature[32:])
		// Only the low-S form is accepted, so a signature cannot be
		// altered into a second valid one for the same token.
		if s.Cmp(p256HalfOrder) > 0 {
			return fmt.Errorf("%w: ES256 signature is not in low-S form", ErrSignature)
		}
		if !ecdsa.Verify(pub, digest[:], r, s) {
			return fmt.Errorf("%w: ES256 signature does not match key %s", ErrSignature, quote(k.Kid))
		}
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
