package attest

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	ita1 "github.com/in-toto/attestation/go/v1"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/airlockdev/airlock/internal/hint"
)

// publicGoodRoot is Sigstore's public-good trusted root (Fulcio CAs,
// Rekor and CT log keys), copied from
// github.com/sigstore/sigstore-go@v1.3.0/examples/trusted-root-public-good.json.
// It is what npm's own verification trusts. Refresh it from there (or from
// Sigstore's TUF repository) when Sigstore rotates a key.
//
//go:embed trusted-root-public-good.json
var publicGoodRoot []byte

// PublicGoodTrustedRoot returns a copy of the embedded public-good
// trusted_root.json.
func PublicGoodTrustedRoot() []byte { return append([]byte(nil), publicGoodRoot...) }

// The checks VerifyBundle makes, for errors.Is.
var (
	// ErrBundle: the bundle cannot be read, or is not npm provenance.
	ErrBundle = errors.New("invalid provenance bundle")
	// ErrTransparencyLog: no valid transparency-log entry (inclusion
	// proof or signed entry timestamp) vouches for the signature.
	ErrTransparencyLog = errors.New("transparency log check failed")
	// ErrCertificate: the signing certificate does not chain to a
	// trusted Fulcio CA at the time it was logged, or lacks a valid SCT.
	ErrCertificate = errors.New("certificate check failed")
	// ErrSignature: the DSSE signature does not verify with the
	// certificate's key.
	ErrSignature = errors.New("signature check failed")
	// ErrSubject: the statement is not about this package and version.
	ErrSubject = errors.New("subject check failed")
	// ErrDigest: the statement names another tarball (sha512 differs).
	ErrDigest = errors.New("digest check failed")
	// ErrIdentity: the certificate names another issuer, repository,
	// workflow or ref than the policy demands.
	ErrIdentity = errors.New("identity check failed")
)

// GitHubIssuer is the OIDC issuer of GitHub Actions.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// Policy is who must have signed: the identity Fulcio wrote into the
// certificate from the CI's OIDC token.
type Policy struct {
	// Issuer is the OIDC issuer the certificate must name; empty means
	// GitHubIssuer.
	Issuer string
	// Repository is "owner/repo", matched against the certificate's
	// source repository https://github.com/owner/repo or
	// https://gitlab.com/owner/repo, or a full repository URL matched
	// exactly (for self-hosted GitLab). Required.
	Repository string
	// Workflow, if set, is the workflow file path
	// (".github/workflows/release.yml") or its file name ("release.yml"),
	// matched against the certificate's build config URI, the workflow
	// that ran.
	Workflow string
	// Ref, if set, is the git ref the build ran on, e.g.
	// "refs/tags/v1.0.0", matched exactly.
	Ref string
}

// VerifyOptions configure VerifyBundle.
type VerifyOptions struct {
	// TrustedRoot is a trusted_root.json; nil means the embedded
	// public-good root.
	TrustedRoot []byte
	Policy      Policy
	// AnyIdentity skips the identity policy: the signature, the log entry
	// and the subject are still checked. npm checks no more of a bundle
	// given with --provenance-file; the registry then judges the identity.
	AnyIdentity bool
	// Now is the current time, to refuse log entries from the future;
	// nil means time.Now. Certificates are checked at the time they were
	// logged, as Sigstore specifies, so old bundles stay valid.
	Now func() time.Time
	// PredicateType, if set, is the one predicate type the statement
	// may have, for other attestations about a package than provenance
	// (a verification summary); by default SLSA provenance v1 or v0.2.
	PredicateType string
}

// Provenance is who built a package from what, as the verified
// certificate and statement say.
type Provenance struct {
	Issuer            string
	Repository        string // source repository URL
	Workflow          string // workflow file path, e.g. .github/workflows/release.yml
	Ref               string
	Commit            string
	RunURL            string
	RunnerEnvironment string
	LogIndex          int64
	IntegratedTime    time.Time
	SubjectName       string
	PredicateType     string
}

const (
	inTotoPayloadType = "application/vnd.in-toto+json"
	// futureSkew is how far ahead of Now a log entry may be.
	futureSkew = 5 * time.Minute
)

// VerifyBundle verifies an npm provenance bundle for the package
// subject describes: the transparency-log entry, the certificate chain
// to a trusted Fulcio CA at the time of logging, the DSSE signature, the
// statement's single subject (PackageURL and sha512), and the identity
// policy. It fails closed: the error wraps the sentinel of the first
// check that failed, and nothing is returned unless every check passed.
func VerifyBundle(data []byte, subject Subject, o VerifyOptions) (*Provenance, error) {
	id := subject.Name + "@" + subject.Version
	fail := func(err error) (*Provenance, error) {
		return nil, fmt.Errorf("verifying the provenance of %s: %w", id, err)
	}
	if o.Policy.Repository == "" && !o.AnyIdentity {
		return fail(hint.With(fmt.Errorf("%w: no repository to expect", ErrIdentity),
			"say which repository must have built the package (owner/repo)"))
	}
	trusted := o.TrustedRoot
	if trusted == nil {
		trusted = publicGoodRoot
	}
	tr, err := root.NewTrustedRootFromJSON(trusted)
	if err != nil {
		return fail(hint.With(fmt.Errorf("reading the trusted root: %w", err), "pass a Sigstore trusted_root.json, or none to use the public-good root"))
	}
	b := &bundle.Bundle{}
	if err := b.UnmarshalJSON(data); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBundle, err))
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return fail(fmt.Errorf("%w: it holds no DSSE envelope, so no provenance statement", ErrBundle))
	}
	if env.PayloadType != inTotoPayloadType {
		return fail(fmt.Errorf("%w: payload type is %q, want %q", ErrBundle, env.PayloadType, inTotoPayloadType))
	}

	// Check the signature alone first, so that a tampered envelope is
	// reported as such rather than as a mismatch with the log entry.
	vc, err := b.VerificationContent()
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBundle, err))
	}
	if vc.Certificate() == nil {
		return fail(fmt.Errorf("%w: it is signed with a key, not a Fulcio certificate", ErrBundle))
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBundle, err))
	}
	if err := verify.VerifySignature(sc, vc, tr); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrSignature, err))
	}

	opts := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}
	// Public-good Fulcio embeds SCTs; a private Sigstore may run without
	// a CT log, and then its trusted root lists none.
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	v, err := verify.NewVerifier(tr, opts...)
	if err != nil {
		return fail(fmt.Errorf("setting up verification: %w", err))
	}
	// Subject and identity are checked below, to say which one failed.
	res, err := v.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return fail(classify(err))
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return fail(fmt.Errorf("%w: no certificate was verified", ErrCertificate))
	}

	entries, err := b.TlogEntries()
	if err != nil || len(entries) == 0 {
		return fail(fmt.Errorf("%w: no transparency-log entry", ErrTransparencyLog))
	}
	entry := entries[0]
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if t := entry.IntegratedTime(); t.After(now().Add(futureSkew)) {
		return fail(fmt.Errorf("%w: the entry was logged at %s, in the future", ErrTransparencyLog, t.UTC().Format(time.RFC3339)))
	}

	st, err := readStatement(env.Payload, o.PredicateType)
	if err != nil {
		return fail(err)
	}
	if err := st.check(subject); err != nil {
		return fail(err)
	}

	cert := res.Signature.Certificate
	p := &Provenance{
		Issuer:            cert.Issuer,
		Repository:        cert.SourceRepositoryURI,
		Workflow:          workflowPath(cert),
		Ref:               cert.SourceRepositoryRef,
		Commit:            cert.SourceRepositoryDigest,
		RunURL:            cert.RunInvocationURI,
		RunnerEnvironment: cert.RunnerEnvironment,
		LogIndex:          entry.LogIndex(),
		IntegratedTime:    entry.IntegratedTime().UTC(),
		SubjectName:       st.Subject[0].Name,
		PredicateType:     st.PredicateType,
	}
	if o.AnyIdentity {
		return p, nil
	}
	if err := o.Policy.check(p); err != nil {
		return fail(err)
	}
	return p, nil
}

// classify maps sigstore-go's verification errors to the check that
// failed. Unknown failures are a bundle failure: still a failure.
func classify(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "outside certificate validity"):
		// The certificate had expired (or was not yet valid) when the
		// signature was logged.
		return hint.With(fmt.Errorf("%w: the certificate was not valid when the signature was logged: %v", ErrCertificate, err),
			"a keyless certificate is valid for minutes: this bundle was logged outside them and proves nothing")
	case strings.HasPrefix(msg, "failed to verify log inclusion"),
		strings.HasPrefix(msg, "failed to verify timestamps"):
		return fmt.Errorf("%w: %v", ErrTransparencyLog, err)
	case strings.HasPrefix(msg, "failed to verify leaf certificate"),
		strings.HasPrefix(msg, "failed to verify signed certificate timestamp"),
		strings.HasPrefix(msg, "failed to summarize certificate"):
		return fmt.Errorf("%w: %v", ErrCertificate, err)
	case strings.HasPrefix(msg, "failed to verify signature"),
		strings.HasPrefix(msg, "failed to get signature verifier"):
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return fmt.Errorf("%w: %v", ErrBundle, err)
}

// statement is the part of an in-toto statement VerifyBundle reads.
type statement struct {
	PredicateType string
	Subject       []subject
}

type subject struct {
	Name   string
	Digest map[string]string
}

// readStatement reads a v1 statement (what npm signs on GitHub Actions)
// with the in-toto attestation framework's own type, which also checks
// its shape, and a v0.1 one (GitLab CI) with in-toto-golang's.
func readStatement(payload []byte, predicateType string) (*statement, error) {
	var head struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("%w: reading the statement: %v", ErrBundle, err)
	}
	var st statement
	switch head.Type {
	case intoto.StatementInTotoV1:
		var v1 ita1.Statement
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &v1); err != nil {
			return nil, fmt.Errorf("%w: reading the statement: %v", ErrBundle, err)
		}
		if err := v1.Validate(); err != nil {
			return nil, fmt.Errorf("%w: the statement is not a valid in-toto statement: %v", ErrBundle, err)
		}
		st.PredicateType = v1.GetPredicateType()
		for _, d := range v1.GetSubject() {
			st.Subject = append(st.Subject, subject{Name: d.GetName(), Digest: d.GetDigest()})
		}
	case intoto.StatementInTotoV01:
		var v01 intoto.ProvenanceStatementSLSA02
		if err := json.Unmarshal(payload, &v01); err != nil {
			return nil, fmt.Errorf("%w: reading the statement: %v", ErrBundle, err)
		}
		st.PredicateType = v01.PredicateType
		for _, d := range v01.Subject {
			st.Subject = append(st.Subject, subject{Name: d.Name, Digest: d.Digest})
		}
	default:
		return nil, fmt.Errorf("%w: statement type is %q, want an in-toto statement", ErrBundle, head.Type)
	}
	if predicateType != "" {
		if st.PredicateType != predicateType {
			return nil, fmt.Errorf("%w: predicate type is %q, want %s", ErrBundle, st.PredicateType, predicateType)
		}
	} else if st.PredicateType != slsaV1 && st.PredicateType != slsaV02 {
		return nil, fmt.Errorf("%w: predicate type is %q, want SLSA provenance (%s or %s)", ErrBundle, st.PredicateType, slsaV1, slsaV02)
	}
	return &st, nil
}

func (st *statement) check(s Subject) error {
	// npm signs exactly one subject and refuses bundles with more.
	if len(st.Subject) != 1 {
		return fmt.Errorf("%w: the statement has %d subjects, want 1", ErrSubject, len(st.Subject))
	}
	got := st.Subject[0]
	if want := PackageURL(s.Name, s.Version); got.Name != want {
		return hint.With(fmt.Errorf("%w: the statement is about %s, not %s", ErrSubject, got.Name, want),
			"this bundle belongs to another package or version")
	}
	want := hex.EncodeToString(s.SHA512)
	if got.Digest["sha512"] != want {
		return hint.With(fmt.Errorf("%w: the statement names a tarball with sha512 %q, this tarball has %s", ErrDigest, got.Digest["sha512"], want),
			"the tarball is not the one that was signed: fetch it again from the registry, or find out who changed it")
	}
	return nil
}

// workflowPath is the workflow file inside the repository, from the
// build config URI: https://github.com/o/r/.github/workflows/x.yml@ref,
// or https://gitlab.com/g/p//.gitlab-ci.yml@ref.
func workflowPath(c *certificate.Summary) string {
	uri := c.BuildConfigURI
	if uri == "" {
		uri = c.BuildSignerURI
	}
	if i := strings.LastIndex(uri, "@"); i >= 0 {
		uri = uri[:i]
	}
	if repo := c.SourceRepositoryURI; repo != "" && strings.HasPrefix(uri, repo+"/") {
		return strings.TrimLeft(uri[len(repo):], "/")
	}
	return uri
}

func (pol Policy) check(p *Provenance) error {
	issuer := pol.Issuer
	if issuer == "" {
		issuer = GitHubIssuer
	}
	if p.Issuer != issuer {
		return hint.With(fmt.Errorf("%w: the certificate was issued for %s, not %s", ErrIdentity, orUnset(p.Issuer), issuer),
			"pass the issuer of the CI that publishes the package")
	}
	if !repositoryMatches(pol.Repository, p.Repository) {
		return hint.With(fmt.Errorf("%w: built in %s, not in %s", ErrIdentity, orUnset(p.Repository), pol.Repository),
			"the package was not built from the repository you expect; do not trust it unless you know why")
	}
	if pol.Workflow != "" && !workflowMatches(pol.Workflow, p.Workflow) {
		return hint.With(fmt.Errorf("%w: built by workflow %s, not %s", ErrIdentity, orUnset(p.Workflow), pol.Workflow),
			"the package was built by another workflow of the repository than the one you expect")
	}
	if pol.Ref != "" && p.Ref != pol.Ref {
		return hint.With(fmt.Errorf("%w: built from ref %s, not %s", ErrIdentity, orUnset(p.Ref), pol.Ref),
			"the package was built from another branch or tag than the one you expect")
	}
	return nil
}

func repositoryMatches(want, got string) bool {
	if got == "" {
		return false
	}
	if strings.Contains(want, "://") {
		return got == strings.TrimSuffix(want, "/")
	}
	return got == "https://github.com/"+want || got == "https://gitlab.com/"+want
}

func workflowMatches(want, got string) bool {
	if got == "" {
		return false
	}
	if strings.Contains(want, "/") {
		return got == strings.TrimPrefix(want, "./")
	}
	return got[strings.LastIndex(got, "/")+1:] == want
}

func orUnset(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
