package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/go-openapi/runtime"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"
)

// fakeSigstore is an in-process Fulcio and Rekor v1, just enough of
// their HTTP APIs for sigstore-go's clients: Fulcio issues certificates
// with the GitHub Actions extensions for the one token it accepts, Rekor
// canonicalises the proposed entry with rekor's own types and answers with
// a signed entry timestamp and a one-leaf inclusion proof.
type fakeSigstore struct {
	t                    *testing.T
	token                string
	rootCert, interCert  *x509.Certificate
	interKey, rekorKey   *ecdsa.PrivateKey
	fulcio, rekor        *httptest.Server
	fulcioFails          int           // answer this status instead, if set
	certAge              time.Duration // issue certificates that expired this long ago
	mu                   sync.Mutex
	fulcioCalls, entries int
}

const (
	fakeRepo     = "https://github.com/octo-org/demo"
	fakeWorkflow = fakeRepo + "/.github/workflows/release.yml@refs/tags/v1.2.3"
)

func newFakeSigstore(t *testing.T, token string) *fakeSigstore {
	t.Helper()
	f := &fakeSigstore{t: t, token: token}
	var err error
	f.rootCert, f.interKey, err = ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	rootKey := f.interKey
	f.interCert, f.interKey, err = ca.GenerateFulcioIntermediate(f.rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	f.rekorKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.fulcio = httptest.NewServer(http.HandlerFunc(f.signingCert))
	f.rekor = httptest.NewServer(http.HandlerFunc(f.createEntry))
	t.Cleanup(f.fulcio.Close)
	t.Cleanup(f.rekor.Close)
	return f
}

func utf8Ext(t *testing.T, oid asn1.ObjectIdentifier, v string) pkix.Extension {
	b, err := asn1.MarshalWithParams(v, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oid, Value: b}
}

func fulcioOID(n int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n}
}

func (f *fakeSigstore) signingCert(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.fulcioCalls++
	f.mu.Unlock()
	if f.fulcioFails != 0 {
		http.Error(w, "echo: "+r.Header.Get("Authorization"), f.fulcioFails)
		return
	}
	if r.URL.Path != "/api/v2/signingCert" || r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey struct{ Content string } `json:"publicKey"`
		} `json:"publicKeyRequest"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	workflowURI, _ := url.Parse(fakeWorkflow)
	now := time.Now().Add(-f.certAge)
	if f.certAge > 0 {
		now = now.Add(-10 * time.Minute)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs:         []*url.URL{workflowURI},
		ExtraExtensions: []pkix.Extension{
			utf8Ext(f.t, fulcioOID(8), GitHubIssuer),
			utf8Ext(f.t, fulcioOID(9), fakeWorkflow),
			utf8Ext(f.t, fulcioOID(11), "github-hosted"),
			utf8Ext(f.t, fulcioOID(12), fakeRepo),
			utf8Ext(f.t, fulcioOID(13), "0123456789abcdef0123456789abcdef01234567"),
			utf8Ext(f.t, fulcioOID(14), "refs/tags/v1.2.3"),
			utf8Ext(f.t, fulcioOID(18), fakeWorkflow),
			utf8Ext(f.t, fulcioOID(21), fakeRepo+"/actions/runs/9876543210/attempts/1"),
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.interCert, pub, f.interKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	chain := []string{}
	for _, c := range [][]byte{der, f.interCert.Raw, f.rootCert.Raw} {
		chain = append(chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})))
	}
	json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
}

func (f *fakeSigstore) createEntry(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/log/entries" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	fail := func(err error) { http.Error(w, fmt.Sprintf(`{"code":400,"message":%q}`, err), http.StatusBadRequest) }
	pe, err := models.UnmarshalProposedEntry(r.Body, runtime.JSONConsumer())
	if err != nil {
		fail(err)
		return
	}
	if pe.Kind() != "dsse" {
		fail(fmt.Errorf("kind %s, want dsse as sigstore-js logs", pe.Kind()))
		return
	}
	entry, err := types.CreateVersionedEntry(pe) // checks the DSSE signature
	if err != nil {
		fail(err)
		return
	}
	body, err := types.CanonicalizeEntry(r.Context(), entry)
	if err != nil {
		fail(err)
		return
	}
	f.mu.Lock()
	f.entries++
	f.mu.Unlock()
	pubDER, _ := x509.MarshalPKIXPublicKey(f.rekorKey.Public())
	id := sha256.Sum256(pubDER)
	logID := hex.EncodeToString(id[:])
	integrated := time.Now().Unix()
	const logIndex = 0
	bodyB64 := base64.StdEncoding.EncodeToString(body)
	payload, _ := json.Marshal(tlog.RekorPayload{Body: bodyB64, IntegratedTime: integrated, LogIndex: logIndex, LogID: logID})
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		fail(err)
		return
	}
	signer, err := signature.LoadECDSASignerVerifier(f.rekorKey, crypto.SHA256)
	if err != nil {
		fail(err)
		return
	}
	set, err := signer.SignMessage(bytes.NewReader(canonical))
	if err != nil {
		fail(err)
		return
	}
	leaf := sha256.Sum256(append([]byte{0}, body...))
	checkpoint, err := rekorutil.CreateAndSignCheckpoint(r.Context(), "rekor.localhost", 1, 1, leaf[:], signer)
	if err != nil {
		fail(err)
		return
	}
	uuid := hex.EncodeToString(leaf[:])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{uuid: map[string]any{
		"body": bodyB64, "integratedTime": integrated, "logID": logID, "logIndex": logIndex,
		"verification": map[string]any{
			"signedEntryTimestamp": set,
			"inclusionProof": map[string]any{
				"logIndex": 0, "treeSize": 1, "rootHash": hex.EncodeToString(leaf[:]), "hashes": []string{},
				"checkpoint": string(checkpoint),
			},
		},
	}})
}

// trustedRoot is a trusted_root.json naming the fake's CA and log, in the
// shape of Sigstore's public-good root (no CT log).
func (f *fakeSigstore) trustedRoot() []byte {
	pubDER, _ := x509.MarshalPKIXPublicKey(f.rekorKey.Public())
	id := sha256.Sum256(pubDER)
	b64 := base64.StdEncoding.EncodeToString
	start := map[string]string{"start": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}
	out, _ := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs": []any{map[string]any{
			"baseUrl": f.rekor.URL, "hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{"rawBytes": b64(pubDER), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": start},
			"logId":     map[string]any{"keyId": b64(id[:])},
		}},
		"certificateAuthorities": []any{map[string]any{
			"subject":   map[string]string{"organization": "sigstore.dev", "commonName": "sigstore"},
			"uri":       f.fulcio.URL,
			"certChain": map[string]any{"certificates": []any{map[string]string{"rawBytes": b64(f.interCert.Raw)}, map[string]string{"rawBytes": b64(f.rootCert.Raw)}}},
			"validFor":  start,
		}},
	})
	return out
}

// fakeToken looks like a JWT: Fulcio's client reads the subject from it.
func fakeToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." +
		enc([]byte(`{"iss":"https://token.actions.githubusercontent.com","aud":"sigstore","sub":"repo:octo-org/demo:ref:refs/tags/v1.2.3"}`)) +
		".c2VjcmV0LXNpZ25hdHVyZS1ieXRlcw"
}

func TestSignRoundTrip(t *testing.T) {
	token := fakeToken()
	fake := newFakeSigstore(t, token)
	tarball := []byte("not really a tarball")
	sum := sha512.Sum512(tarball)
	subject := Subject{Name: "@octo-org/demo", Version: "1.2.3", SHA512: sum[:]}
	stmt, err := Statement(subject, lookupIn(githubFull))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	bundle, err := Sign(t.Context(), stmt, SignOptions{
		FulcioURL: fake.fulcio.URL, RekorURL: fake.rekor.URL,
		IDToken:     func(context.Context) (string, error) { calls++; return token, nil },
		TrustedRoot: fake.trustedRoot(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || fake.fulcioCalls != 1 || fake.entries != 1 {
		t.Errorf("token asked %d times, Fulcio %d, Rekor entries %d; want 1 each", calls, fake.fulcioCalls, fake.entries)
	}
	if bytes.Contains(bundle, []byte(token)) {
		t.Error("the bundle holds the token")
	}

	// The shape npm attaches.
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			Certificate *struct{ RawBytes string } `json:"certificate"`
			TlogEntries []struct {
				LogIndex         string `json:"logIndex"`
				KindVersion      struct{ Kind, Version string }
				InclusionProof   *struct{ Checkpoint struct{ Envelope string } } `json:"inclusionProof"`
				InclusionPromise *struct {
					SignedEntryTimestamp string `json:"signedEntryTimestamp"`
				} `json:"inclusionPromise"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct{ Sig string }
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	vm := b.VerificationMaterial
	switch {
	case b.MediaType != BundleMediaType:
		t.Errorf("mediaType %q", b.MediaType)
	case vm.Certificate == nil:
		t.Error("no leaf certificate (v0.3 bundles hold the certificate, not a chain)")
	case len(vm.TlogEntries) != 1 || vm.TlogEntries[0].KindVersion.Kind != "dsse" || vm.TlogEntries[0].KindVersion.Version != "0.0.1":
		t.Errorf("tlog entries %+v, want one dsse 0.0.1", vm.TlogEntries)
	case vm.TlogEntries[0].InclusionProof == nil || vm.TlogEntries[0].InclusionPromise == nil:
		t.Error("no inclusion proof or promise")
	case !bytes.Equal(b.DSSEEnvelope.Payload, stmt):
		t.Error("the payload is not the exact statement")
	case b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" || len(b.DSSEEnvelope.Signatures) != 1:
		t.Errorf("envelope type %q with %d signatures", b.DSSEEnvelope.PayloadType, len(b.DSSEEnvelope.Signatures))
	}
	if mt, err := MediaType(bundle); err != nil || mt != BundleMediaType {
		t.Errorf("MediaType = %q, %v", mt, err)
	}

	// And it verifies, with the identity the certificate names.
	p, err := VerifyBundle(bundle, subject, VerifyOptions{
		TrustedRoot: fake.trustedRoot(),
		Policy:      Policy{Repository: "octo-org/demo", Workflow: "release.yml", Ref: "refs/tags/v1.2.3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Repository != fakeRepo || p.Workflow != ".github/workflows/release.yml" || p.SubjectName != "pkg:npm/%40octo-org/demo@1.2.3" || p.LogIndex != 0 {
		t.Errorf("provenance %+v", p)
	}
	// Not against the public-good root: it does not trust the fake.
	if _, err := VerifyBundle(bundle, subject, VerifyOptions{Policy: Policy{Repository: "octo-org/demo"}}); err == nil {
		t.Error("verified against the public-good root")
	}
}

func TestSignFailures(t *testing.T) {
	token := fakeToken()
	stmt := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	fake := newFakeSigstore(t, token)
	fake.fulcioFails = http.StatusForbidden
	ok := func(context.Context) (string, error) { return token, nil }

	_, err := Sign(t.Context(), stmt, SignOptions{FulcioURL: fake.fulcio.URL, RekorURL: fake.rekor.URL, IDToken: ok})
	if err == nil {
		t.Fatal("signed although Fulcio refused")
	}
	for _, part := range strings.Split(token, ".") {
		if strings.Contains(err.Error(), part) {
			t.Errorf("error %q holds part of the token", err)
		}
	}
	if want := "requesting a signing certificate from Fulcio at " + fake.fulcio.URL + ": Fulcio returned 403"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if fake.entries != 0 {
		t.Error("logged in Rekor although Fulcio failed")
	}

	// Rekor down: the error names Rekor and its URL.
	fake.fulcioFails = 0
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	_, err = Sign(t.Context(), stmt, SignOptions{FulcioURL: fake.fulcio.URL, RekorURL: down.URL, IDToken: ok})
	if err == nil || !strings.Contains(err.Error(), "logging the signature in Rekor at "+down.URL) {
		t.Errorf("Rekor down: %v", err)
	}

	tokenErr := errors.New("no id-token permission")
	_, err = Sign(t.Context(), stmt, SignOptions{FulcioURL: fake.fulcio.URL, RekorURL: fake.rekor.URL,
		IDToken: func(context.Context) (string, error) { return "", tokenErr }})
	if !errors.Is(err, tokenErr) {
		t.Errorf("token failure: %v", err)
	}
	if _, err := Sign(t.Context(), []byte("{"), SignOptions{IDToken: ok}); err == nil {
		t.Error("signed a statement that is not JSON")
	}
}

// TestExpiredCertificateIsRefused: a signature logged after its
// certificate expired proves nothing about who made it.
func TestExpiredCertificateIsRefused(t *testing.T) {
	token := fakeToken()
	fake := newFakeSigstore(t, token)
	fake.certAge = time.Minute
	sum := sha512.Sum512([]byte("tarball"))
	subject := Subject{Name: "@octo-org/demo", Version: "1.2.3", SHA512: sum[:]}
	stmt, err := Statement(subject, lookupIn(githubFull))
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := Sign(t.Context(), stmt, SignOptions{FulcioURL: fake.fulcio.URL, RekorURL: fake.rekor.URL,
		IDToken: func(context.Context) (string, error) { return token, nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyBundle(bundle, subject, VerifyOptions{TrustedRoot: fake.trustedRoot(), Policy: Policy{Repository: "octo-org/demo"}})
	if !errors.Is(err, ErrCertificate) {
		t.Fatalf("VerifyBundle = %v, want ErrCertificate", err)
	}
	t.Log(err)
}
