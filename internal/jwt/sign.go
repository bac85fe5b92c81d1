package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// minRSABits and maxRSABits bound the RSA keys this package signs and
// verifies with: smaller keys are weak, larger ones make verification slow
// enough to be a denial of service.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// p256Order and p256HalfOrder are the order n of P-256 and n/2, used to
// keep ES256 signatures in the low-S form.
var (
	p256Order     = elliptic.P256().Params().N
	p256HalfOrder = new(big.Int).Rsh(p256Order, 1)
)

// Sign makes a compact JWS of claims, marshalled with encoding/json, which
// must give a JSON object. An RSA key signs with RS256, a P-256 ECDSA key
// with ES256 (in the low-S form, which Verify requires). kid goes in the
// header, with typ "JWT".
func Sign(key crypto.Signer, kid string, claims any) (string, error) {
	if key == nil {
		return "", errors.New("signing token: no key")
	}
	var alg string
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return "", fmt.Errorf("signing token: the RSA key has %d bits, want %d to %d", bits, minRSABits, maxRSABits)
		}
		alg = rs256
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", fmt.Errorf("signing token: the ECDSA key is on %s, want P-256", pub.Curve.Params().Name)
		}
		alg = es256
	default:
		return "", fmt.Errorf("signing token: unsupported key type %T, want RSA or P-256 ECDSA", pub)
	}

	header, err := json.Marshal(Header{Alg: alg, Kid: kid, Typ: "JWT"})
	if err != nil {
		return "", fmt.Errorf("signing token: encoding header: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signing token: encoding claims: %v", err)
	}
	if _, err := object(payload); err != nil {
		return "", fmt.Errorf("signing token: the claims are %v", err)
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	if len(input)+1+base64.RawURLEncoding.EncodedLen(maxRSABits/8) > MaxSize {
		return "", fmt.Errorf("signing token: the claims are too large for a token of at most %d bytes", MaxSize)
	}
	digest := sha256.Sum256([]byte(input))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("signing token: %v", err)
	}
	if alg == es256 {
		if sig, err = p1363(sig); err != nil {
			return "", fmt.Errorf("signing token: %v", err)
		}
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// p1363 turns an ASN.1 ECDSA signature into the 64-byte r||s form JWS
// uses, with s in the lower half of the group order.
func p1363(der []byte) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 ||
		rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, errors.New("the signer returned a malformed ECDSA signature")
	}
	if rs.S.Cmp(p256HalfOrder) > 0 {
		rs.S.Sub(p256Order, rs.S)
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}
