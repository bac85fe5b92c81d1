package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKeysOnce sync.Once
	testRSA      *rsa.PrivateKey
	testRSA2     *rsa.PrivateKey
	testEC       *ecdsa.PrivateKey
	testEC2      *ecdsa.PrivateKey
)

// keys returns keys shared by the tests: RSA generation is slow.
func keys(t testing.TB) (rsaKey, rsaOther *rsa.PrivateKey, ecKey, ecOther *ecdsa.PrivateKey) {
	t.Helper()
	testKeysOnce.Do(func() {
		var err error
		if testRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testRSA2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if testEC2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return testRSA, testRSA2, testEC, testEC2
}

// testSet is a key set with the test keys as "rsa" and "ec".
func testSet(t testing.TB) JWKS {
	t.Helper()
	rsaKey, _, ecKey, _ := keys(t)
	return JWKS{Keys: []JWK{mustJWK(t, "rsa", rsaKey.Public()), mustJWK(t, "ec", ecKey.Public())}}
}

func mustJWK(t testing.TB, kid string, pub crypto.PublicKey) JWK {
	t.Helper()
	k, err := PublicJWK(kid, pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var b64 = base64.RawURLEncoding.EncodeToString

// signRaw signs header and payload given as raw JSON, so tests can sign
// what Sign would refuse to make.
func signRaw(t testing.TB, key crypto.Signer, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	digest := sha256.Sum256([]byte(input))
	if ec, ok := key.(*ecdsa.PrivateKey); ok {
		r, s, err := ecdsa.Sign(rand.Reader, ec, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return input + "." + b64(sig)
	}
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "https://issuer.example",
		"aud": "npm:registry.npmjs.org",
		"sub": "repo:acme/widget:ref:refs/heads/main",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
}

func validExpect(now time.Time) Expect {
	return Expect{Issuer: "https://issuer.example", Audience: "npm:registry.npmjs.org", Now: now, Leeway: time.Minute}
}

func TestRoundTrip(t *testing.T) {
	rsaKey, _, ecKey, _ := keys(t)
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		key crypto.Signer
		kid string
		alg string
	}{
		{rsaKey, "rsa", "RS256"},
		{ecKey, "ec", "ES256"},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			compact, err := Sign(tt.key, tt.kid, validClaims(now))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Parse(compact)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Header{Alg: tt.alg, Kid: tt.kid, Typ: "JWT"}); tok.Header != want {
				t.Errorf("header %+v, want %+v", tok.Header, want)
			}
			if sub, _ := tok.Claims.String("sub"); sub != "repo:acme/widget:ref:refs/heads/main" {
				t.Errorf("sub %q", sub)
			}
			if err := tok.Verify(testSet(t)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := tok.Validate(validExpect(now)); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}

	compact, err := Sign(ecKey, "", map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	header, err := base64.RawURLEncoding.DecodeString(compact[:strings.IndexByte(compact, '.')])
	if err != nil || string(header) != `{"alg":"ES256","typ":"JWT"}` {
		t.Errorf("header without kid %s, %v", header, err)
	}
}

// TestHighS checks that ES256 signatures verify with s in either half of
// the group order: standard signers make both.
func TestHighS(t *testing.T) {
	_, _, ecKey, _ := keys(t)
	compact, err := Sign(ecKey, "ec", map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	flipped := flipS(t, compact)
	if flipped == compact {
		t.Fatal("flipS changed nothing")
	}
	var high int
	for _, c := range []string{compact, flipped} {
		if isHighS(t, c) {
			high++
		}
		tok, err := Parse(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify(testSet(t)); err != nil {
			t.Errorf("high S %v: Verify: %v", isHighS(t, c), err)
		}
	}
	if high != 1 {
		t.Fatalf("%d of the two signatures are high-S, want 1", high)
	}
}

func TestSignRefusals(t *testing.T) {
	rsaKey, _, ecKey, _ := keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		key    crypto.Signer
		claims any
		want   string
	}{
		{"nil claims", rsaKey, nil, "JSON object"},
		{"array claims", ecKey, []int{1}, "JSON object"},
		{"unmarshallable", ecKey, map[string]any{"f": func() {}}, "unsupported type"},
		{"small RSA", small, map[string]any{}, "1024 bits"},
		{"P-384", p384, map[string]any{}, "want P-256"},
		{"too large", ecKey, map[string]any{"x": strings.Repeat("a", MaxSize)}, "too large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sign(tt.key, "k", tt.claims)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseRefusals(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	good := signRaw(t, rsaKey, `{"alg":"RS256","kid":"rsa"}`, `{"a":1}`)
	parts := strings.Split(good, ".")
	h, p, s := parts[0], parts[1], parts[2]
	enc := func(header, payload string) string { return b64([]byte(header)) + "." + b64([]byte(payload)) + "." + s }
	hdr := `{"alg":"RS256","kid":"rsa"}`

	for _, tt := range []struct {
		name, compact, want string
	}{
		{"empty", "", "three parts"},
		{"two parts", h + "." + p, "three parts"},
		{"four parts", good + "." + s, "three parts"},
		{"five parts", good + ".." + s, "three parts"},
		{"header bad base64", "*" + h[1:] + "." + p + "." + s, "illegal base64 data"},
		{"payload bad base64", h + ".!" + p + "." + s, "illegal base64 data"},
		{"signature bad base64", h + "." + p + "." + s + "%", "illegal base64 data"},
		{"header padding", b64([]byte(hdr+" ")) + "=." + p + "." + s, "illegal base64 data"},
		{"payload padding", h + "." + b64([]byte(`{"a":12}`)) + "==." + s, "illegal base64 data"},
		{"signature padding", h + "." + p + "." + s + "==", "illegal base64 data"},
		{"std alphabet", h + "." + p + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s) + "+/", "illegal base64 data"},
		{"whitespace", h + " ." + p + "." + s, "illegal base64 data"},
		{"empty header", "." + p + "." + s, "no alg"},
		{"header not JSON", enc(`{"alg":"RS256"`, `{}`), "unexpected end of JSON input"},
		{"header array", enc(`["alg","RS256"]`, `{}`), "cannot unmarshal array"},
		{"header string", enc(`"RS256"`, `{}`), "cannot unmarshal string"},
		{"header two objects", enc(hdr+`{}`, `{}`), "invalid character"},
		{"header duplicate alg", enc(`{"alg":"RS256","alg":"none"}`, `{}`), `duplicate key 'alg'`},
		{"header escaped duplicate", enc(`{"alg":"RS256","\u0061lg":"none"}`, `{}`), `duplicate key 'alg'`},
		{"payload not JSON", enc(hdr, `{"a":}`), "payload: invalid character"},
		{"payload array", enc(hdr, `[{"a":1}]`), "payload: json: cannot unmarshal array"},
		{"payload null", enc(hdr, `null`), "payload: not a JSON object"},
		{"payload number", enc(hdr, `1`), "payload: json: cannot unmarshal number"},
		{"payload duplicate", enc(hdr, `{"aud":"a","sub":"x","aud":"b"}`), `payload: json: duplicate key 'aud'`},
		{"payload trailing data", enc(hdr, `{} x`), "payload: invalid character"},
		{"alg none", enc(`{"alg":"none"}`, `{}`), `unsupported alg "none"`},
		{"alg HS256", enc(`{"alg":"HS256","kid":"rsa"}`, `{}`), `unsupported alg "HS256"`},
		{"alg lower case", enc(`{"alg":"rs256"}`, `{}`), `unsupported alg "rs256"`},
		{"alg PS256", enc(`{"alg":"PS256"}`, `{}`), `unsupported alg "PS256"`},
		{"alg long", enc(`{"alg":"`+strings.Repeat("A", 5000)+`"}`, `{}`), `unsupported alg "AAAA`},
		{"alg missing", enc(`{"kid":"rsa"}`, `{}`), "no alg"},
		{"alg not a string", enc(`{"alg":256}`, `{}`), `unmarshal algorithm`},
		{"alg in other case", enc(`{"ALG":"RS256"}`, `{}`), "no alg"},
		{"kid not a string", enc(`{"alg":"RS256","kid":1}`, `{}`), `unmarshal key ID`},
		{"kid long and not a string", enc(`{"alg":"RS256","kid":[`+strings.Repeat(`"x",`, 2000)+`1]}`, `{}`), `unmarshal key ID`},
		{"typ not a string", enc(`{"alg":"RS256","typ":1}`, `{}`), `"typ" is not a string`},
		{"crit", enc(`{"alg":"RS256","crit":["b64"],"b64":false}`, `{}`), "crit"},
		{"x5c not a certificate", enc(`{"alg":"RS256","x5c":["AAAA"]}`, `{}`), "x5c"},
		{"embedded private jwk", enc(`{"alg":"RS256","jwk":{"kty":"oct","k":"AAAA"}}`, `{}`), "embedded jwk"},
		{"too long", h + "." + p + "." + s + strings.Repeat("A", MaxSize), "more than the limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.compact)
			if err == nil {
				t.Fatalf("parsed %+v", tok)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%v is not ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			noSecrets(t, err, tt.compact)
		})
	}
}

// maxErrorLen bounds the errors of Parse, whatever the token holds.
const maxErrorLen = 300

// noSecrets fails if err holds compact or any of its parts longer than
// a few characters, or is long.
func noSecrets(t *testing.T, err error, compact string) {
	t.Helper()
	msg := err.Error()
	if len(msg) > maxErrorLen {
		t.Errorf("error is %d bytes long, more than %d", len(msg), maxErrorLen)
	}
	for _, part := range append(strings.Split(compact, "."), compact) {
		if len(part) > 8 && strings.Contains(msg, part) {
			t.Errorf("error %q holds part of the token", msg)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	for _, tt := range []struct {
		name, header, payload string
	}{
		{"no kid or typ", `{"alg":"RS256"}`, `{}`},
		{"other header parameters", `{"alg":"RS256","kid":"rsa","typ":"at+jwt","x5t":"abc"}`, `{"a":{"b":[1,{"c":null}]}}`},
		{"whitespace in JSON", " {\n\"alg\" : \"RS256\" } ", "\t{ \"a\" : [ ] }\n"},
		{"same names in different objects", `{"alg":"RS256"}`, `{"a":{"k":1},"b":{"k":1},"k":[{"k":1},{"k":2}]}`},
		// go-jose checks duplicate names at the top level only.
		{"nested duplicate", `{"alg":"RS256"}`, `{"x":[{"k":1,"k":2}]}`},
		{"invalid UTF-8", `{"alg":"RS256"}`, "{\"sub\":\"\xff\"}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			compact := signRaw(t, rsaKey, tt.header, tt.payload)
			tok, err := Parse(compact)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != "RS256" {
				t.Errorf("alg %q", tok.Header.Alg)
			}
		})
	}
}

// TestOtherSpellings checks what the package comment says of go-jose's
// base64 decoding: a token with CR or LF in a part, or with non-zero
// trailing bits, reads and verifies as the token it was made from.
func TestOtherSpellings(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	now := time.Unix(1_800_000_000, 0)
	compact, err := Sign(rsaKey, "rsa", validClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(compact, ".")
	h, p, s := parts[0], parts[1], parts[2]
	if len(s)%4 != 2 {
		t.Fatalf("a 256-byte signature is %d base64 characters, want 2 mod 4", len(s))
	}
	// The last character of s carries 2 bits of data and 4 spare bits.
	last := strings.IndexByte(alphabet, s[len(s)-1])
	if last&0xf != 0 {
		t.Fatalf("the spare bits of %q are not zero", s[len(s)-1])
	}
	for name, other := range map[string]string{
		"CR in signature":        h + "." + p + "." + s[:10] + "\r" + s[10:],
		"LF in payload":          h + "." + p[:4] + "\n" + p[4:] + "." + s,
		"non-zero trailing bits": h + "." + p + "." + s[:len(s)-1] + string(alphabet[last|1]),
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := Parse(other)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(testSet(t)); err != nil {
				t.Fatal(err)
			}
			if sub, _ := tok.Claims.String("sub"); sub != validClaims(now)["sub"] {
				t.Errorf("sub %q", sub)
			}
		})
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

var p256Order = elliptic.P256().Params().N

// flipS replaces the s of an ES256 token's signature with n-s: a
// signature just as valid, in the other half of the group order.
func flipS(t *testing.T, compact string) string {
	t.Helper()
	i := strings.LastIndexByte(compact, '.')
	sig, err := base64.RawURLEncoding.DecodeString(compact[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %v", err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	new(big.Int).Sub(p256Order, s).FillBytes(sig[32:])
	return compact[:i+1] + b64(sig)
}

func isHighS(t *testing.T, compact string) bool {
	t.Helper()
	sig, err := base64.RawURLEncoding.DecodeString(compact[strings.LastIndexByte(compact, '.')+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %v", err)
	}
	return new(big.Int).SetBytes(sig[32:]).Cmp(new(big.Int).Rsh(p256Order, 1)) > 0
}

// readSet decodes a key set as the front door does.
func readSet(t *testing.T, data string) JWKS {
	t.Helper()
	var set JWKS
	if err := json.Unmarshal([]byte(data), &set); err != nil {
		t.Fatal(err)
	}
	return set
}

func TestVerifyRefusals(t *testing.T) {
	rsaKey, rsaOther, ecKey, ecOther := keys(t)
	now := time.Unix(1_800_000_000, 0)
	sign := func(key crypto.Signer, kid string) string {
		s, err := Sign(key, kid, validClaims(now))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rsaTok, ecTok := sign(rsaKey, "rsa"), sign(ecKey, "ec")
	set := testSet(t)
	withKeys := func(keys ...JWK) JWKS { return JWKS{Keys: keys} }
	rsaJWK := set.Keys[0]
	rsaPub, ecPub := &rsaKey.PublicKey, &ecKey.PublicKey
	b64Int := func(i int64) string { return b64(big.NewInt(i).Bytes()) }
	point, err := ecPub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	n, x, y := b64(rsaPub.N.Bytes()), b64(point[1:33]), b64(point[33:])
	rsaJSON := func(kid, e string) string {
		return fmt.Sprintf(`{"keys":[{"kty":"RSA","kid":%q,"n":%q,"e":%q}]}`, kid, n, e)
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	yOff, _ := base64.RawURLEncoding.DecodeString(y)
	yOff[31] ^= 1

	tamper := func(compact string, part int) string {
		parts := strings.Split(compact, ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[part])
		if part == 1 {
			b = []byte(strings.Replace(string(b), "acme", "evil", 1))
		} else {
			b[len(b)/2] ^= 0x40
		}
		parts[part] = b64(b)
		return strings.Join(parts, ".")
	}
	ecSig := func(sig []byte) string {
		return ecTok[:strings.LastIndexByte(ecTok, '.')+1] + b64(sig)
	}
	ecRaw, _ := base64.RawURLEncoding.DecodeString(ecTok[strings.LastIndexByte(ecTok, '.')+1:])
	zeroR := append(make([]byte, 32), ecRaw[32:]...)
	zeroS := append(append([]byte{}, ecRaw[:32]...), make([]byte, 32)...)
	rsaShort, _ := base64.RawURLEncoding.DecodeString(rsaTok[strings.LastIndexByte(rsaTok, '.')+1:])

	for _, tt := range []struct {
		name    string
		compact string
		set     JWKS
		want    error
		wantMsg string
	}{
		{"unknown kid", sign(rsaKey, "rsa-2"), set, ErrUnknownKey, `no key "rsa-2"`},
		{"empty kid", sign(rsaKey, ""), set, ErrUnknownKey, "empty kid"},
		{"empty set", rsaTok, JWKS{}, ErrUnknownKey, `no key "rsa"`},
		{"duplicate kid", rsaTok, withKeys(rsaJWK, rsaJWK), ErrUnknownKey, `2 keys "rsa"`},
		{"duplicate kid, one unread", rsaTok, readSet(t, fmt.Sprintf(`{"keys":[{"kty":"RSA","kid":"rsa","n":%q,"e":"AQAB"},{"kty":"EC","kid":"rsa"}]}`, n)), ErrUnknownKey, `2 keys "rsa"`},
		{"RS256 token, EC key", sign(rsaKey, "ec"), set, ErrUnknownKey, "its alg is \"ES256\""},
		{"ES256 token, RSA key", sign(ecKey, "rsa"), set, ErrUnknownKey, "its alg is \"RS256\""},
		{"RS256 token, EC key without alg", rsaTok, withKeys(JWK{KeyID: "rsa", Key: ecPub}), ErrUnknownKey, "an EC key, the token is signed with RS256"},
		{"ES256 token, RSA key without alg", ecTok, withKeys(JWK{KeyID: "ec", Key: rsaPub}), ErrUnknownKey, "an RSA key, the token is signed with ES256"},
		{"key alg differs", rsaTok, withKeys(JWK{KeyID: "rsa", Algorithm: "RS512", Key: rsaPub}), ErrUnknownKey, `alg is "RS512"`},
		{"key for encryption", rsaTok, withKeys(JWK{KeyID: "rsa", Use: "enc", Key: rsaPub}), ErrUnknownKey, `use is "enc"`},
		{"RSA key under 2048 bits", signRaw(t, small, `{"alg":"RS256","kid":"rsa"}`, `{}`), withKeys(JWK{KeyID: "rsa", Key: &small.PublicKey}), ErrUnknownKey, "1024 bits"},
		{"RSA exponent 1", rsaTok, readSet(t, rsaJSON("rsa", "AQ")), ErrUnknownKey, "exponent"},
		{"RSA exponent even", rsaTok, readSet(t, rsaJSON("rsa", "AQAA")), ErrUnknownKey, "exponent"},
		{"RSA exponent too large", rsaTok, readSet(t, rsaJSON("rsa", b64Int(1<<32+1))), ErrUnknownKey, "exponent"},
		{"RSA n padded base64", rsaTok, readSet(t, fmt.Sprintf(`{"keys":[{"kty":"RSA","kid":"rsa","n":"%s=","e":"AQAB"}]}`, n)), ErrUnknownKey, `key "rsa": illegal base64 data`},
		{"P-384 key", ecTok, withKeys(JWK{KeyID: "ec", Key: &p384.PublicKey}), ErrUnknownKey, `curve is P-384`},
		{"EC point off the curve", ecTok, readSet(t, fmt.Sprintf(`{"keys":[{"kty":"EC","kid":"ec","crv":"P-256","x":%q,"y":%q}]}`, x, b64(yOff))), ErrUnknownKey, "not on declared curve"},
		{"EC x short", ecTok, readSet(t, fmt.Sprintf(`{"keys":[{"kty":"EC","kid":"ec","crv":"P-256","x":%q,"y":%q}]}`, x[:40], y)), ErrUnknownKey, "wrong length for x"},
		{"unknown kty", ecTok, readSet(t, `{"keys":[{"kty":"OKP","kid":"ec","crv":"X25519","x":"AAAA"}]}`), ErrUnknownKey, `key "ec": unsupported key type`},
		{"oct key", rsaTok, readSet(t, `{"keys":[{"kty":"oct","kid":"rsa","k":"c2VjcmV0"}]}`), ErrUnknownKey, "[]uint8, not an RSA or EC public key"},
		{"private key", rsaTok, withKeys(JWK{KeyID: "rsa", Key: rsaKey}), ErrUnknownKey, "*rsa.PrivateKey, not an RSA or EC public key"},
		{"RS256 wrong key", sign(rsaOther, "rsa"), set, ErrSignature, "does not match"},
		{"ES256 wrong key", sign(ecOther, "ec"), set, ErrSignature, "does not match"},
		{"RS256 tampered payload", tamper(rsaTok, 1), set, ErrSignature, "does not match"},
		{"ES256 tampered payload", tamper(ecTok, 1), set, ErrSignature, "does not match"},
		{"RS256 tampered signature", tamper(rsaTok, 2), set, ErrSignature, "does not match"},
		{"ES256 tampered signature", tamper(ecTok, 2), set, ErrSignature, "does not match"},
		{"RS256 tampered header", strings.Replace(rsaTok, b64([]byte(`{"alg":"RS256","kid":"rsa","typ":"JWT"}`)), b64([]byte(`{"alg":"RS256","kid":"rsa","typ":"jwt"}`)), 1), set, ErrSignature, "does not match"},
		{"RS256 short signature", rsaTok[:strings.LastIndexByte(rsaTok, '.')+1] + b64(rsaShort[1:]), set, ErrSignature, "does not match"},
		{"RS256 empty signature", rsaTok[:strings.LastIndexByte(rsaTok, '.')+1], set, ErrSignature, "does not match"},
		{"ES256 63 bytes", ecSig(ecRaw[:63]), set, ErrSignature, "does not match"},
		{"ES256 65 bytes", ecSig(append([]byte{0}, ecRaw...)), set, ErrSignature, "does not match"},
		{"ES256 ASN.1 form", ecSig(mustDER(t, ecKey, ecTok)), set, ErrSignature, "does not match"},
		{"ES256 r zero", ecSig(zeroR), set, ErrSignature, "does not match"},
		{"ES256 s zero", ecSig(zeroS), set, ErrSignature, "does not match"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.compact)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = tok.Verify(tt.set)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			noSecrets(t, err, tt.compact)
		})
	}

	if err := new(Token).Verify(set); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify of a Token not made by Parse = %v", err)
	}
	// Verify goes by the header go-jose read, not the one a caller can change.
	tok, err := Parse(rsaTok)
	if err != nil {
		t.Fatal(err)
	}
	tok.Header.Kid = "ec"
	if err := tok.Verify(set); err != nil {
		t.Errorf("Verify after changing Header.Kid: %v", err)
	}
}

// TestUnreadKeys checks that a key set with keys go-jose cannot read
// still serves the others.
func TestUnreadKeys(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	good, err := json.Marshal(mustJWK(t, "rsa", rsaKey.Public()))
	if err != nil {
		t.Fatal(err)
	}
	set := readSet(t, `{"keys":[{"kty":"OKP","crv":"X25519","kid":"x","x":"AAAA"},{"kty":"bogus"},{"kid":7},`+string(good)+`]}`)
	if len(set.Keys) != 1 || len(set.unread) != 3 {
		t.Fatalf("read %d keys and set aside %d, want 1 and 3", len(set.Keys), len(set.unread))
	}
	compact, err := Sign(rsaKey, "rsa", map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(compact)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(set); err != nil {
		t.Fatal(err)
	}
	var notSet JWKS
	if err := json.Unmarshal([]byte(`{"keys":{}}`), &notSet); err == nil {
		t.Error("decoded a key set whose keys are not an array")
	}
}

// mustDER signs the signing input of compact again, in ASN.1 form.
func mustDER(t *testing.T, key *ecdsa.PrivateKey, compact string) []byte {
	t.Helper()
	digest := sha256.Sum256([]byte(compact[:strings.LastIndexByte(compact, '.')]))
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestValidate(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	now := time.Unix(1_800_000_000, 0)
	iss, aud := "https://issuer.example", "npm:registry.npmjs.org"
	expect := validExpect(now)
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }

	for _, tt := range []struct {
		name    string
		claims  string // raw JSON, so odd types can be given
		expect  Expect
		want    error // nil: valid
		wantMsg string
	}{
		{"valid", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"nbf":%d,"iat":%d}`, iss, aud, at(time.Minute), at(0), at(0)), expect, nil, ""},
		{"aud array with it", jsonf(`{"iss":%q,"aud":["other",%q],"exp":%d}`, iss, aud, at(time.Minute)), expect, nil, ""},
		{"fractional exp", jsonf(`{"iss":%q,"aud":%q,"exp":%d.5}`, iss, aud, at(0)), Expect{iss, aud, now.Add(time.Second / 4), 0}, nil, ""},
		{"exp in exponent form", jsonf(`{"iss":%q,"aud":%q,"exp":1.9e9}`, iss, aud), expect, nil, ""},
		{"expired within leeway", jsonf(`{"iss":%q,"aud":%q,"exp":%d}`, iss, aud, at(-30*time.Second)), expect, nil, ""},
		{"nbf within leeway", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"nbf":%d}`, iss, aud, at(time.Hour), at(time.Minute)), expect, nil, ""},
		{"iat within leeway", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"iat":%d}`, iss, aud, at(time.Hour), at(time.Minute)), expect, nil, ""},

		{"expired", jsonf(`{"iss":%q,"aud":%q,"exp":%d}`, iss, aud, at(-time.Minute)), expect, ErrExpired, "expired at 2027-01-15T07:59:00Z, it is now 2027-01-15T08:00:00Z (leeway 1m0s)"},
		{"expires now, no leeway", jsonf(`{"iss":%q,"aud":%q,"exp":%d}`, iss, aud, at(0)), Expect{iss, aud, now, 0}, ErrExpired, "expired"},
		{"fractional exp passed", jsonf(`{"iss":%q,"aud":%q,"exp":%d.25}`, iss, aud, at(0)), Expect{iss, aud, now.Add(time.Second / 2), 0}, ErrExpired, "expired at 2027-01-15T08:00:00.25Z"},
		{"no exp", jsonf(`{"iss":%q,"aud":%q}`, iss, aud), expect, ErrMalformed, "no exp"},
		{"exp a string", jsonf(`{"iss":%q,"aud":%q,"exp":"%d"}`, iss, aud, at(time.Hour)), expect, ErrMalformed, "exp is not a NumericDate"},
		{"exp negative", jsonf(`{"iss":%q,"aud":%q,"exp":-1}`, iss, aud), expect, ErrMalformed, "exp is not a NumericDate"},
		{"exp huge", jsonf(`{"iss":%q,"aud":%q,"exp":1e300}`, iss, aud), expect, ErrMalformed, "exp is not a NumericDate"},
		{"nbf in future", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"nbf":%d}`, iss, aud, at(time.Hour), at(2*time.Minute)), expect, ErrNotYetValid, "nbf is"},
		{"nbf not a number", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"nbf":null}`, iss, aud, at(time.Hour)), expect, ErrMalformed, "nbf is not a NumericDate"},
		{"iat in future", jsonf(`{"iss":%q,"aud":%q,"exp":%d,"iat":%d}`, iss, aud, at(time.Hour), at(2*time.Minute)), expect, ErrNotYetValid, "iat is"},
		{"wrong iss", jsonf(`{"iss":"https://evil.example","aud":%q,"exp":%d}`, aud, at(time.Hour)), expect, ErrIssuer, `iss is "https://evil.example", want "https://issuer.example"`},
		{"iss with trailing slash", jsonf(`{"iss":%q,"aud":%q,"exp":%d}`, iss+"/", aud, at(time.Hour)), expect, ErrIssuer, "iss is"},
		{"no iss", jsonf(`{"aud":%q,"exp":%d}`, aud, at(time.Hour)), expect, ErrIssuer, "no iss"},
		{"iss an array", jsonf(`{"iss":[%q],"aud":%q,"exp":%d}`, iss, aud, at(time.Hour)), expect, ErrIssuer, "no iss"},
		{"wrong aud", jsonf(`{"iss":%q,"aud":"npm:other","exp":%d}`, iss, at(time.Hour)), expect, ErrAudience, `aud is ["npm:other"]`},
		{"aud array without it", jsonf(`{"iss":%q,"aud":["a","b"],"exp":%d}`, iss, at(time.Hour)), expect, ErrAudience, `aud is ["a" "b"]`},
		{"aud array with a number", jsonf(`{"iss":%q,"aud":[%q,1],"exp":%d}`, iss, aud, at(time.Hour)), expect, ErrAudience, "neither"},
		{"aud a number", jsonf(`{"iss":%q,"aud":1,"exp":%d}`, iss, at(time.Hour)), expect, ErrAudience, "neither"},
		{"no aud", jsonf(`{"iss":%q,"exp":%d}`, iss, at(time.Hour)), expect, ErrAudience, "no aud"},
		{"aud prefix", jsonf(`{"iss":%q,"aud":"npm:registry.npmjs.org.evil","exp":%d}`, iss, at(time.Hour)), expect, ErrAudience, "aud is"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(signRaw(t, rsaKey, `{"alg":"RS256","kid":"rsa"}`, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			err = tok.Validate(tt.expect)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestValidateNeedsExpect(t *testing.T) {
	rsaKey, _, _, _ := keys(t)
	now := time.Unix(1_800_000_000, 0)
	compact, err := Sign(rsaKey, "rsa", validClaims(now))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(compact)
	if err != nil {
		t.Fatal(err)
	}
	good := validExpect(now)
	for name, e := range map[string]Expect{
		"no issuer":      {Audience: good.Audience, Now: now},
		"no audience":    {Issuer: good.Issuer, Now: now},
		"no now":         {Issuer: good.Issuer, Audience: good.Audience},
		"negative leway": {Issuer: good.Issuer, Audience: good.Audience, Now: now, Leeway: -time.Second},
	} {
		if err := tok.Validate(e); err == nil || !strings.Contains(err.Error(), "Expect needs") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func jsonf(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	if !json.Valid([]byte(s)) {
		panic("test claims are not JSON: " + s)
	}
	return s
}

func TestClaims(t *testing.T) {
	c := Claims{
		"s":    json.RawMessage(`"v"`),
		"n":    json.RawMessage(`12`),
		"aud":  json.RawMessage(`["a","b"]`),
		"exp":  json.RawMessage(`1800000000.25`),
		"iat":  json.RawMessage(`1800000000`),
		"bad":  json.RawMessage(`"1800000000"`),
		"neg":  json.RawMessage(`-5`),
		"huge": json.RawMessage(`253402300800`),
	}
	if v, ok := c.String("s"); !ok || v != "v" {
		t.Errorf("String(s) = %q, %v", v, ok)
	}
	if _, ok := c.String("n"); ok {
		t.Error("String(n) of a number succeeded")
	}
	if _, ok := c.String("missing"); ok {
		t.Error("String(missing) succeeded")
	}
	if got := c.Audience(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Audience() = %q", got)
	}
	if got := (Claims{"aud": json.RawMessage(`"x"`)}).Audience(); len(got) != 1 || got[0] != "x" {
		t.Errorf("Audience() of a string = %q", got)
	}
	if got := (Claims{}).Audience(); got != nil {
		t.Errorf("Audience() without aud = %q", got)
	}
	if v, ok := c.Time("exp"); !ok || !v.Equal(time.Unix(1_800_000_000, 250_000_000)) {
		t.Errorf("Time(exp) = %v, %v", v, ok)
	}
	if v, ok := c.Time("iat"); !ok || !v.Equal(time.Unix(1_800_000_000, 0)) {
		t.Errorf("Time(iat) = %v, %v", v, ok)
	}
	for _, name := range []string{"bad", "neg", "huge", "s", "missing"} {
		if v, ok := c.Time(name); ok {
			t.Errorf("Time(%s) = %v, want false", name, v)
		}
	}
}

func TestPublicJWK(t *testing.T) {
	rsaKey, _, ecKey, _ := keys(t)
	data, err := json.Marshal(testSet(t))
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.Keys) != 2 {
		t.Fatalf("JWKS JSON %s", data)
	}
	for i, want := range []map[string]string{
		{"kty": "RSA", "kid": "rsa", "alg": "RS256", "use": "sig", "e": "AQAB"},
		{"kty": "EC", "kid": "ec", "alg": "ES256", "use": "sig", "crv": "P-256"},
	} {
		for name, v := range want {
			if got := wire.Keys[i][name]; got != v {
				t.Errorf("key %d: %s is %q, want %q", i, name, got, v)
			}
		}
	}
	if k := wire.Keys[0]; len(k["n"]) != 342 {
		t.Errorf("RSA n is %d characters, want 342", len(k["n"]))
	}
	if k := wire.Keys[1]; len(k["x"]) != 43 || len(k["y"]) != 43 {
		t.Errorf("EC x and y are %d and %d characters, want 43", len(k["x"]), len(k["y"]))
	}

	set := readSet(t, string(data))
	if len(set.Keys) != 2 {
		t.Fatalf("read back %d keys", len(set.Keys))
	}
	for i, want := range []interface{ Equal(crypto.PublicKey) bool }{&rsaKey.PublicKey, &ecKey.PublicKey} {
		if !want.Equal(set.Keys[i].Key) {
			t.Errorf("key %s changed on the way through a JWK", set.Keys[i].KeyID)
		}
	}

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]crypto.PublicKey{
		"Ed25519":       ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)),
		"RSA 1024":      &small.PublicKey,
		"RSA e=1":       &rsa.PublicKey{N: rsaKey.N, E: 1},
		"P-384":         &p384.PublicKey,
		"a private key": rsaKey,
	} {
		if _, err := PublicJWK("k", pub); err == nil {
			t.Errorf("PublicJWK took %s", name)
		}
	}
}
