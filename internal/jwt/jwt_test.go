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
// what Sign would refuse to make. ES256 signatures are low-S.
func signRaw(t testing.TB, key crypto.Signer, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	digest := sha256.Sum256([]byte(input))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		if sig, err = p1363(sig); err != nil {
			t.Fatal(err)
		}
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
}

func TestSignLowS(t *testing.T) {
	_, _, ecKey, _ := keys(t)
	// Half of all raw ECDSA signatures are high-S; 32 in a row being
	// low-S by chance is one in four billion.
	for range 32 {
		compact, err := Sign(ecKey, "ec", map[string]any{"a": 1})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Parse(compact)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok.signature) != 64 {
			t.Fatalf("signature is %d bytes", len(tok.signature))
		}
		if new(big.Int).SetBytes(tok.signature[32:]).Cmp(p256HalfOrder) > 0 {
			t.Fatal("Sign made a high-S signature")
		}
		if err := tok.Verify(testSet(t)); err != nil {
			t.Fatal(err)
		}
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
		{"nil claims", rsaKey, nil, "not a JSON object"},
		{"array claims", ecKey, []int{1}, "not a JSON object"},
		{"unmarshallable", ecKey, map[string]any{"f": func() {}}, "encoding claims"},
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
		{"empty", "", "1 parts"},
		{"two parts", h + "." + p, "2 parts"},
		{"four parts", good + "." + s, "4 parts"},
		{"five parts", good + ".." + s, "5 parts"},
		{"header bad base64", "*" + h[1:] + "." + p + "." + s, "header: not unpadded base64url"},
		{"payload bad base64", h + ".!" + p + "." + s, "payload: not unpadded base64url"},
		{"signature bad base64", h + "." + p + "." + s + "%", "signature: not unpadded base64url"},
		{"header padding", b64([]byte(hdr+" ")) + "=." + p + "." + s, "header: not unpadded base64url"},
		{"payload padding", h + "." + b64([]byte(`{"a":12}`)) + "==." + s, "payload: not unpadded base64url"},
		{"signature padding", h + "." + p + "." + s + "==", "signature: not unpadded base64url"},
		{"std alphabet", h + "." + p + "." + strings.NewReplacer("-", "+", "_", "/").Replace(s) + "+/", "signature: not unpadded base64url"},
		{"trailing bits", h + "." + b64([]byte("{}"))[:2] + "D." + s, "payload: not unpadded base64url"},
		{"CR in signature", h + "." + p + "." + s[:10] + "\r" + s[10:], "signature: not unpadded base64url"},
		{"LF in payload", h + "." + p[:4] + "\n" + p[4:] + "." + s, "payload: not unpadded base64url"},
		{"whitespace", h + " ." + p + "." + s, "header: not unpadded base64url"},
		{"empty signature", h + "." + p + ".", "signature is empty"},
		{"empty header", "." + p + "." + s, "header: not valid JSON"},
		{"header not JSON", enc(`{"alg":"RS256"`, `{}`), "header: not valid JSON"},
		{"header array", enc(`["alg","RS256"]`, `{}`), "header: not a JSON object"},
		{"header string", enc(`"RS256"`, `{}`), "header: not a JSON object"},
		{"header two objects", enc(hdr+`{}`, `{}`), "header: not valid JSON"},
		{"header duplicate alg", enc(`{"alg":"RS256","alg":"none"}`, `{}`), `header: member "alg" appears twice`},
		{"header escaped duplicate", enc(`{"alg":"RS256","\u0061lg":"none"}`, `{}`), `header: member "alg" appears twice`},
		{"payload not JSON", enc(hdr, `{"a":}`), "payload: not valid JSON"},
		{"payload array", enc(hdr, `[{"a":1}]`), "payload: not a JSON object"},
		{"payload null", enc(hdr, `null`), "payload: not a JSON object"},
		{"payload number", enc(hdr, `1`), "payload: not a JSON object"},
		{"payload duplicate", enc(hdr, `{"aud":"a","sub":"x","aud":"b"}`), `payload: member "aud" appears twice`},
		{"payload nested duplicate", enc(hdr, `{"x":[{"k":1,"k":2}]}`), `payload: member "k" appears twice`},
		{"payload bad UTF-8", enc(hdr, "{\"sub\":\"\xff\"}"), "payload: not valid UTF-8"},
		{"payload trailing data", enc(hdr, `{} x`), "payload: not valid JSON"},
		{"alg none", enc(`{"alg":"none"}`, `{}`), `unsupported alg "none"`},
		{"alg HS256", enc(`{"alg":"HS256","kid":"rsa"}`, `{}`), `unsupported alg "HS256"`},
		{"alg lower case", enc(`{"alg":"rs256"}`, `{}`), `unsupported alg "rs256"`},
		{"alg PS256", enc(`{"alg":"PS256"}`, `{}`), `unsupported alg "PS256"`},
		{"alg missing", enc(`{"kid":"rsa"}`, `{}`), "no alg"},
		{"alg not a string", enc(`{"alg":256}`, `{}`), `"alg" is not a string`},
		{"alg in other case", enc(`{"ALG":"RS256"}`, `{}`), "no alg"},
		{"kid not a string", enc(`{"alg":"RS256","kid":1}`, `{}`), `"kid" is not a string`},
		{"crit", enc(`{"alg":"RS256","crit":["b64"],"b64":false}`, `{}`), "crit"},
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

// noSecrets fails if err holds compact or any of its parts longer than
// a few characters.
func noSecrets(t *testing.T, err error, compact string) {
	t.Helper()
	msg := err.Error()
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

// flipS replaces the s of an ES256 token's signature with n-s: a
// signature just as valid, in the high-S form.
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
	rsaJWK, ecJWK := set.Keys[0], set.Keys[1]

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallJWK := JWK{Kty: "RSA", Kid: "rsa", N: b64(small.N.Bytes()), E: "AQAB"}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384Point, _ := p384.PublicKey.Bytes()
	offCurve := ecJWK
	y, _ := base64.RawURLEncoding.DecodeString(ecJWK.Y)
	y[31] ^= 1
	offCurve.Y = b64(y)

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
		{"RS256 token, EC key", sign(rsaKey, "ec"), set, ErrUnknownKey, `kty "EC"`},
		{"ES256 token, RSA key", sign(ecKey, "rsa"), set, ErrUnknownKey, `kty "RSA"`},
		{"RS256 token, EC key without alg", rsaTok, withKeys(JWK{Kty: "EC", Kid: "rsa", Crv: "P-256", X: ecJWK.X, Y: ecJWK.Y}), ErrUnknownKey, `kty "EC"`},
		{"ES256 token, RSA key without alg", ecTok, withKeys(JWK{Kty: "RSA", Kid: "ec", N: rsaJWK.N, E: rsaJWK.E}), ErrUnknownKey, `kty "RSA"`},
		{"key alg differs", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", Alg: "RS512", N: rsaJWK.N, E: rsaJWK.E}), ErrUnknownKey, `alg "RS512"`},
		{"key for encryption", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", Use: "enc", N: rsaJWK.N, E: rsaJWK.E}), ErrUnknownKey, `use is "enc"`},
		{"RSA key under 2048 bits", signRaw(t, small, `{"alg":"RS256","kid":"rsa"}`, `{}`), withKeys(smallJWK), ErrUnknownKey, "1024 bits"},
		{"RSA exponent 1", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", N: rsaJWK.N, E: "AQ"}), ErrUnknownKey, "exponent"},
		{"RSA exponent even", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", N: rsaJWK.N, E: "AQAA"}), ErrUnknownKey, "exponent"},
		{"RSA exponent too large", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", N: rsaJWK.N, E: b64([]byte{1, 0, 0, 0, 1})}), ErrUnknownKey, "exponent"},
		{"RSA n padded base64", rsaTok, withKeys(JWK{Kty: "RSA", Kid: "rsa", N: rsaJWK.N + "=", E: rsaJWK.E}), ErrUnknownKey, "base64url"},
		{"P-384 key", ecTok, withKeys(JWK{Kty: "EC", Kid: "ec", Crv: "P-384", X: b64(p384Point[1:49]), Y: b64(p384Point[49:])}), ErrUnknownKey, `curve is "P-384"`},
		{"EC point off the curve", ecTok, withKeys(offCurve), ErrUnknownKey, "not on P-256"},
		{"EC x short", ecTok, withKeys(JWK{Kty: "EC", Kid: "ec", Crv: "P-256", X: ecJWK.X[:40], Y: ecJWK.Y}), ErrUnknownKey, "32-byte"},
		{"oct key", rsaTok, withKeys(JWK{Kty: "oct", Kid: "rsa"}), ErrUnknownKey, `kty "oct"`},
		{"RS256 wrong key", sign(rsaOther, "rsa"), set, ErrSignature, "does not match"},
		{"ES256 wrong key", sign(ecOther, "ec"), set, ErrSignature, "does not match"},
		{"RS256 tampered payload", tamper(rsaTok, 1), set, ErrSignature, "does not match"},
		{"ES256 tampered payload", tamper(ecTok, 1), set, ErrSignature, "does not match"},
		{"RS256 tampered signature", tamper(rsaTok, 2), set, ErrSignature, "does not match"},
		{"ES256 tampered signature", tamper(ecTok, 2), set, ErrSignature, "does not match"},
		{"RS256 tampered header", strings.Replace(rsaTok, b64([]byte(`{"alg":"RS256","kid":"rsa","typ":"JWT"}`)), b64([]byte(`{"alg":"RS256","kid":"rsa","typ":"jwt"}`)), 1), set, ErrSignature, "does not match"},
		{"RS256 short signature", rsaTok[:strings.LastIndexByte(rsaTok, '.')+1] + b64(rsaShort[1:]), set, ErrSignature, "255 bytes"},
		{"ES256 high S", flipS(t, ecTok), set, ErrSignature, "low-S"},
		{"ES256 63 bytes", ecSig(ecRaw[:63]), set, ErrSignature, "63 bytes"},
		{"ES256 65 bytes", ecSig(append([]byte{0}, ecRaw...)), set, ErrSignature, "65 bytes"},
		{"ES256 ASN.1 form", ecSig(mustDER(t, ecKey, ecTok)), set, ErrSignature, "want 64"},
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

// TestHighSIsValidECDSA makes sure the high-S refusal test refuses a
// signature that is otherwise valid, not a broken one.
func TestHighSIsValidECDSA(t *testing.T) {
	_, _, ecKey, _ := keys(t)
	compact, err := Sign(ecKey, "ec", map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	high := flipS(t, compact)
	i := strings.LastIndexByte(high, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(high[i+1:])
	digest := sha256.Sum256([]byte(high[:i]))
	if !ecdsa.Verify(&ecKey.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the high-S signature is not a valid ECDSA signature")
	}
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
	set := testSet(t)
	if set.Keys[0].Kty != "RSA" || set.Keys[0].Alg != "RS256" || set.Keys[0].E != "AQAB" || set.Keys[0].Use != "sig" {
		t.Errorf("RSA JWK %+v", set.Keys[0])
	}
	if k := set.Keys[1]; k.Kty != "EC" || k.Alg != "ES256" || k.Crv != "P-256" || len(k.X) != 43 || len(k.Y) != 43 {
		t.Errorf("EC JWK %+v", k)
	}
	for kid, want := range map[string]interface{ Equal(crypto.PublicKey) bool }{"rsa": &rsaKey.PublicKey, "ec": &ecKey.PublicKey} {
		got, err := set.Key(kid)
		if err != nil {
			t.Fatal(err)
		}
		if !want.Equal(got) {
			t.Errorf("key %s changed on the way through a JWK", kid)
		}
	}
	if _, err := set.Key("nope"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Key(nope) = %v", err)
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), `"x":""`) || !strings.Contains(string(data), `{"keys":[{"kty":"RSA","kid":"rsa","alg":"RS256","use":"sig","n":"`) {
		t.Errorf("JWKS JSON %s", data)
	}
	if _, err := PublicJWK("k", ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))); err == nil {
		t.Error("PublicJWK took an Ed25519 key")
	}
}
