package sigstoretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"time"
)

// TrustedRoot returns a Sigstore trusted_root.json (protobuf-specs
// TrustedRoot, version 0.1) for the stack: Fulcio's CA chain and Rekor's
// key, valid from a day before the stack started. It has no CT logs and no
// timestamp authorities: the local Fulcio embeds no SCTs, and Rekor's
// integrated time is the signature's timestamp.
func (s *Stack) TrustedRoot() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(s.rekorKey)
	if err != nil {
		return nil, err
	}
	details, err := keyDetails(s.rekorKey)
	if err != nil {
		return nil, err
	}
	logID := sha256.Sum256(der)
	start := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	type raw struct {
		RawBytes []byte `json:"rawBytes"`
	}
	var certs []raw
	for _, c := range s.chain {
		certs = append(certs, raw{c.Raw})
	}
	root := map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs": []any{map[string]any{
			"baseUrl":       s.rekorURL,
			"hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{
				"rawBytes":   der,
				"keyDetails": details,
				"validFor":   map[string]string{"start": start},
			},
			"logId": map[string]any{"keyId": logID[:]},
		}},
		"certificateAuthorities": []any{map[string]any{
			"subject":   map[string]string{"organization": "sigstore.dev", "commonName": "sigstore"},
			"uri":       s.fulcioURL,
			"certChain": map[string]any{"certificates": certs},
			"validFor":  map[string]string{"start": start},
		}},
		"ctlogs":               []any{},
		"timestampAuthorities": []any{},
	}
	return json.MarshalIndent(root, "", "  ")
}

func keyDetails(k crypto.PublicKey) (string, error) {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "PKIX_ECDSA_P256_SHA_256", nil
		case elliptic.P384():
			return "PKIX_ECDSA_P384_SHA_384", nil
		}
	case ed25519.PublicKey:
		return "PKIX_ED25519", nil
	case *rsa.PublicKey:
		return "PKIX_RSA_PKCS1V15_2048_SHA256", nil
	}
	return "", fmt.Errorf("sigstoretest: Rekor's key is a %T, which TrustedRoot does not describe", k)
}
