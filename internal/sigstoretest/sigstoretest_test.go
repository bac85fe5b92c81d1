package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/oidcissuer"
)

func TestStack(t *testing.T) {
	iss, err := oidcissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	s := Start(t, iss.URL())

	chain := s.FulcioChain()
	if len(chain) == 0 || !chain[len(chain)-1].IsCA {
		t.Fatalf("fulcio's chain does not end in a CA: %v", chain)
	}
	if _, ok := s.RekorPublicKey().(*ecdsa.PublicKey); !ok {
		t.Errorf("rekor's public key is a %T, want *ecdsa.PublicKey", s.RekorPublicKey())
	}
	if len(s.RekorLogID()) != 64 {
		t.Errorf("rekor's log id is %q, want 64 hex digits", s.RekorLogID())
	}
	if s.RekorLog().TreeID == "" || s.RekorLog().SignedTreeHead == "" {
		t.Errorf("rekor's log info lacks a tree id or signed tree head: %+v", s.RekorLog())
	}

	t.Run("signingCert", func(t *testing.T) {
		// Fulcio's github-workflow issuer type rejects tokens without sha,
		// job_workflow_sha or workflow_sha, which GitHubClaims fills from
		// SHA.
		claims := oidcissuer.GitHubClaims(oidcissuer.GitHubRun{
			Repository: "acme/widget",
			Workflow:   "release.yml",
			Ref:        "refs/heads/main",
			SHA:        "0123456789abcdef0123456789abcdef01234567",
		})
		tok, err := iss.Mint(claims, oidcissuer.Options{Audience: ClientID})
		if err != nil {
			t.Fatal(err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cert := signingCert(t, s, tok, key, claims["sub"].(string))
		want := "https://github.com/acme/widget/.github/workflows/release.yml@refs/heads/main"
		if len(cert.URIs) != 1 || cert.URIs[0].String() != want {
			t.Errorf("certificate's URIs are %v, want %s", cert.URIs, want)
		}
		pool := x509.NewCertPool()
		pool.AddCert(chain[len(chain)-1])
		inter := x509.NewCertPool()
		for _, c := range chain[:len(chain)-1] {
			inter.AddCert(c)
		}
		if _, err := cert.Verify(x509.VerifyOptions{
			Roots: pool, Intermediates: inter,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			CurrentTime: cert.NotBefore.Add(time.Second),
		}); err != nil {
			t.Errorf("certificate does not chain to fulcio's trust bundle: %v", err)
		}

		// Rekor answers only once Trillian's signer has sequenced the
		// entry, so this also checks the signer works.
		artifact := []byte("widget-1.0.0.tgz")
		sum := sha256.Sum256(artifact)
		sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		entry := createEntry(t, s, sig, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), sum[:])
		if entry.LogID != s.RekorLogID() {
			t.Errorf("entry's log id is %s, want %s", entry.LogID, s.RekorLogID())
		}
		if entry.Verification.InclusionProof == nil || entry.Verification.SignedEntryTimestamp == "" {
			t.Errorf("entry lacks an inclusion proof or signed entry timestamp: %+v", entry)
		}
	})
}

type logEntry struct {
	LogID          string `json:"logID"`
	LogIndex       int64  `json:"logIndex"`
	IntegratedTime int64  `json:"integratedTime"`
	Verification   struct {
		InclusionProof       *json.RawMessage `json:"inclusionProof"`
		SignedEntryTimestamp string           `json:"signedEntryTimestamp"`
	} `json:"verification"`
}

// createEntry uploads a hashedrekord entry to Rekor.
func createEntry(t *testing.T, s *Stack, sig, certPEM, digest []byte) logEntry {
	t.Helper()
	req, err := json.Marshal(map[string]any{
		"apiVersion": "0.0.1",
		"kind":       "hashedrekord",
		"spec": map[string]any{
			"signature": map[string]any{
				"content":   sig,                                // base64
				"publicKey": map[string]any{"content": certPEM}, // base64
			},
			"data": map[string]any{
				"hash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(digest)},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Post(s.RekorURL()+"/api/v1/log/entries", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("rekor answered %s: %s\n%s", resp.Status, body, s.Logs())
	}
	t.Logf("rekor created the entry in %v", time.Since(start).Round(time.Millisecond))
	var entries map[string]logEntry
	if err := json.Unmarshal(body, &entries); err != nil || len(entries) != 1 {
		t.Fatalf("rekor answered %s (%v)", body, err)
	}
	for _, e := range entries {
		return e
	}
	panic("unreachable")
}

// signingCert asks Fulcio for a certificate for key, proving possession by
// signing the token's subject.
func signingCert(t *testing.T, s *Stack, token string, key *ecdsa.PrivateKey, sub string) *x509.Certificate {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(sub))
	proof, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	req, err := json.Marshal(map[string]any{
		"credentials": map[string]any{"oidcIdentityToken": token},
		"publicKeyRequest": map[string]any{
			"publicKey": map[string]any{
				"algorithm": "ECDSA",
				"content":   string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			},
			"proofOfPossession": proof, // []byte: base64, as protobuf's JSON wants
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.FulcioURL()+"/api/v2/signingCert", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fulcio answered %s: %s\n%s", resp.Status, body, s.Logs())
	}
	// Without a CT log Fulcio answers with a detached, empty SCT.
	var out struct {
		Detached *struct {
			Chain struct {
				Certificates []string `json:"certificates"`
			} `json:"chain"`
		} `json:"signedCertificateDetachedSct"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Detached == nil || len(out.Detached.Chain.Certificates) == 0 {
		t.Fatalf("fulcio answered %s (%v)", body, err)
	}
	block, _ := pem.Decode([]byte(out.Detached.Chain.Certificates[0]))
	if block == nil {
		t.Fatalf("fulcio's certificate is not PEM: %s", strings.TrimSpace(out.Detached.Chain.Certificates[0]))
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
