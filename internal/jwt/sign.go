package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// minRSABits and maxRSABits bound the RSA keys this package signs and
// verifies with: smaller keys are weak, larger ones make verification slow
// enough to be a denial of service. go-jose sets no bound.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// Sign makes a compact JWS of claims, a map[string]any or a struct, which
// go-jose encodes as a JSON object. An RSA key signs with RS256, a P-256
// ECDSA key with ES256. kid, if not empty, goes in the header, with typ
// "JWT".
func Sign(key crypto.Signer, kid string, claims any) (string, error) {
	if key == nil {
		return "", errors.New("signing token: no key")
	}
	alg, err := algorithm(key.Public())
	if err != nil {
		return "", fmt.Errorf("signing token: %v", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	// cryptosigner takes any crypto.Signer, a key in a KMS as well.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: cryptosigner.Opaque(key)}, opts)
	if err != nil {
		return "", fmt.Errorf("signing token: %s", reason(err))
	}
	token, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing token: %s", reason(err))
	}
	if len(token) > MaxSize {
		return "", fmt.Errorf("signing token: the claims are too large for a token of at most %d bytes", MaxSize)
	}
	return token, nil
}

// PublicJWK describes pub, an RSA key (alg RS256) or a P-256 ECDSA key
// (alg ES256), as a signing JWK with the given kid.
func PublicJWK(kid string, pub crypto.PublicKey) (JWK, error) {
	alg, err := algorithm(pub)
	if err != nil {
		return JWK{}, fmt.Errorf("describing key %q: %v", kid, err)
	}
	return JWK{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}, nil
}

// algorithm returns the algorithm this package uses with pub.
func algorithm(pub crypto.PublicKey) (string, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return rs256, checkRSA(pub)
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", fmt.Errorf("the ECDSA key is on %s, want P-256", pub.Curve.Params().Name)
		}
		return es256, nil
	default:
		return "", fmt.Errorf("unsupported key type %T, want RSA or P-256 ECDSA", pub)
	}
}

func checkRSA(pub *rsa.PublicKey) error {
	if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return fmt.Errorf("the RSA key has %d bits, want %d to %d", bits, minRSABits, maxRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 || pub.E > math.MaxInt32 {
		return errors.New("the RSA exponent is not an odd number from 3 to 2^31-1")
	}
	return nil
}
