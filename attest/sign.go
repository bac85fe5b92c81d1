package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	rekorclient "github.com/sigstore/rekor/pkg/generated/client"
	rekorutil "github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/registry"
)

// Sigstore's public-good services, which npm uses.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// BundleMediaType is the media type of the bundles npm 11 attaches
// (sigstore-js, Sigstore bundle v0.3).
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// AttachmentName is the key npm gives the provenance bundle in a publish
// document's _attachments (libnpmpublish publish.js).
func AttachmentName(name, version string) string {
	return name + "-" + version + ".sigstore"
}

// SignOptions configure Sign.
type SignOptions struct {
	// FulcioURL and RekorURL default to Sigstore's public-good instances.
	FulcioURL, RekorURL string
	// IDToken returns the OIDC token with audience "sigstore". It is
	// called once; the token goes to Fulcio only and is never logged or
	// put in an error.
	IDToken func(ctx context.Context) (string, error)
	// HTTP is the client for Fulcio and Rekor: both get its transport
	// (nil: http.DefaultTransport), none of sigstore-go's own. Requests
	// time out after 30s unless it has a timeout of its own.
	HTTP *http.Client
	// TrustedRoot, if set, is a trusted_root.json the new bundle is
	// verified against before Sign returns it (no identity policy: the
	// certificate is the one just issued for the token).
	TrustedRoot []byte
}

const signTimeout = 30 * time.Second

// Sign makes the provenance bundle npm publish --provenance makes for
// statement, the exact payload bytes Statement returns: an ephemeral ECDSA
// P-256 key, a Fulcio certificate for the ID token, a DSSE envelope of
// type application/vnd.in-toto+json, a Rekor v1 "dsse" entry with its
// inclusion proof, all in a Sigstore bundle v0.3. It returns the bundle
// JSON. Signing logs the statement in a public transparency log: callers
// make every other check first.
func Sign(ctx context.Context, statement []byte, o SignOptions) ([]byte, error) {
	if !json.Valid(statement) {
		return nil, errors.New("signing provenance: the statement is not JSON")
	}
	if o.IDToken == nil {
		return nil, errors.New("signing provenance: no OIDC token source")
	}
	fulcioURL := strings.TrimSuffix(orDefault(o.FulcioURL, DefaultFulcioURL), "/")
	rekorURL := strings.TrimSuffix(orDefault(o.RekorURL, DefaultRekorURL), "/")
	httpClient := &http.Client{Timeout: signTimeout}
	if o.HTTP != nil {
		*httpClient = *o.HTTP
		if httpClient.Timeout == 0 {
			httpClient.Timeout = signTimeout
		}
	}
	var trusted root.TrustedMaterial
	if o.TrustedRoot != nil {
		tr, err := root.NewTrustedRootFromJSON(o.TrustedRoot)
		if err != nil {
			return nil, fmt.Errorf("signing provenance: reading the trusted root: %w", err)
		}
		trusted = tr
	}
	rekorAPI, err := newRekorClient(rekorURL, httpClient)
	if err != nil {
		return nil, hint.With(fmt.Errorf("signing provenance: Rekor URL %q: %w", rekorURL, err), "pass an http(s) URL for Rekor")
	}

	keypair, err := sign.NewEphemeralKeypair(nil) // ECDSA P-256, SHA-256, as sigstore-js
	if err != nil {
		return nil, fmt.Errorf("signing provenance: making a key: %w", err)
	}
	token, err := o.IDToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing provenance: getting the OIDC token for Sigstore: %w", err)
	}
	if token == "" {
		return nil, errors.New("signing provenance: the OIDC token for Sigstore is empty")
	}
	timeout := httpClient.Timeout
	if timeout == 0 {
		timeout = signTimeout
	}
	fulcio := &service{
		name: "Fulcio", url: fulcioURL, secrets: []string{token},
		cert: sign.NewFulcio(&sign.FulcioOptions{BaseURL: fulcioURL, Timeout: timeout, Transport: httpClient.Transport}),
	}
	rekor := &service{
		name: "Rekor", url: rekorURL, secrets: []string{token},
		tlog: sign.NewRekor(&sign.RekorOptions{BaseURL: rekorURL, Timeout: timeout, Client: rekorAPI.Entries}),
	}
	pb, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: inTotoPayloadType}, keypair, sign.BundleOptions{
		CertificateProvider:        fulcio,
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: token},
		TransparencyLogs:           []sign.Transparency{rekor},
		Context:                    ctx,
		TrustedRoot:                trusted,
	})
	if err != nil {
		var se *serviceError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("signing provenance: %w", err)
		}
		return nil, fmt.Errorf("signing provenance: %s", registry.Sanitize(err.Error(), []string{token}))
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("signing provenance: encoding the bundle: %w", err)
	}
	// protojson randomises its white space; npm sends compact JSON.
	var b bytes.Buffer
	if err := json.Compact(&b, out); err != nil {
		return nil, fmt.Errorf("signing provenance: encoding the bundle: %w", err)
	}
	return b.Bytes(), nil
}

// service wraps Fulcio or Rekor so their errors say which service at
// which URL failed, with the token redacted.
type service struct {
	name, url string
	secrets   []string
	cert      sign.CertificateProvider
	tlog      sign.Transparency
}

func (s *service) GetCertificate(ctx context.Context, k sign.Keypair, o *sign.CertificateProviderOptions) ([]byte, error) {
	c, err := s.cert.GetCertificate(ctx, k, o)
	return c, s.wrap("requesting a signing certificate from", err)
}

func (s *service) GetTransparencyLogEntry(ctx context.Context, pem []byte, b *protobundle.Bundle) error {
	return s.wrap("logging the signature in", s.tlog.GetTransparencyLogEntry(ctx, pem, b))
}

func (s *service) wrap(doing string, err error) error {
	if err == nil {
		return nil
	}
	advice := fmt.Sprintf("check that %s is reachable from the job and answers at %s", s.name, s.url)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return hint.With(&serviceError{msg: fmt.Sprintf("%s %s at %s: %v", doing, s.name, s.url, err), err: err}, advice)
	}
	msg := registry.Sanitize(err.Error(), s.secrets)
	return hint.With(&serviceError{msg: fmt.Sprintf("%s %s at %s: %s", doing, s.name, s.url, msg)}, advice)
}

// serviceError keeps only a redacted message; it unwraps to context
// errors alone, never to an error that might hold the token.
type serviceError struct {
	msg string
	err error
}

func (e *serviceError) Error() string { return e.msg }
func (e *serviceError) Unwrap() error { return e.err }

// newRekorClient is rekor's client.GetRekorClient with our HTTP client,
// so callers control transport and timeouts.
func newRekorClient(rekorURL string, c *http.Client) (*rekorclient.Rekor, error) {
	u, err := url.Parse(rekorURL)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("not an http(s) URL")
	}
	path := u.Path
	if path == "" {
		path = rekorclient.DefaultBasePath
	}
	rt := httptransport.NewWithClient(u.Host, path, []string{u.Scheme}, c)
	rt.Consumers["application/json"] = runtime.JSONConsumer()
	rt.Consumers["application/x-pem-file"] = runtime.TextConsumer()
	rt.Producers["application/json"] = runtime.JSONProducer()
	formats := strfmt.NewFormats()
	formats.Add("signedCheckpoint", &rekorutil.SignedNote{}, rekorutil.SignedCheckpointValidator)
	return rekorclient.New(rt, formats), nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
