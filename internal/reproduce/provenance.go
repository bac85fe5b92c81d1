package reproduce

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	provv1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/airlockdev/airlock/attest"
)

// ErrNoSource: the provenance names no git repository and commit.
var ErrNoSource = errors.New("the provenance names no source commit")

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

// SourceOf reads the git repository and commit a provenance bundle's
// statement names: SLSA v1's first resolved dependency (what npm records
// on GitHub Actions) or SLSA v0.2's first material (GitLab CI). The
// bundle must have been verified first: this reads, it checks nothing.
func SourceOf(bundle []byte) (repoURL, commit string, err error) {
	var b struct {
		DSSE struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return "", "", fmt.Errorf("reading the provenance bundle: %w", err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
	if err != nil {
		return "", "", fmt.Errorf("reading the provenance statement: %w", err)
	}
	var head struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return "", "", fmt.Errorf("reading the provenance statement: %w", err)
	}
	var uri string
	switch head.Type {
	case ita1.StatementTypeUri:
		var st ita1.Statement
		if err := lenient.Unmarshal(payload, &st); err != nil {
			return "", "", fmt.Errorf("reading the provenance statement: %w", err)
		}
		pred, err := protojson.Marshal(st.GetPredicate())
		if err != nil {
			return "", "", fmt.Errorf("reading the provenance predicate: %w", err)
		}
		var p provv1.Provenance
		if err := lenient.Unmarshal(pred, &p); err != nil {
			return "", "", fmt.Errorf("reading the provenance predicate: %w", err)
		}
		for _, d := range p.GetBuildDefinition().GetResolvedDependencies() {
			if c := d.GetDigest()["gitCommit"]; c != "" && strings.HasPrefix(d.GetUri(), "git+") {
				uri, commit = d.GetUri(), c
				break
			}
		}
	case intoto.StatementInTotoV01:
		var st intoto.ProvenanceStatementSLSA02
		if err := json.Unmarshal(payload, &st); err != nil {
			return "", "", fmt.Errorf("reading the provenance statement: %w", err)
		}
		for _, m := range st.Predicate.Materials {
			if c := m.Digest["sha1"]; c != "" && strings.HasPrefix(m.URI, "git+") {
				uri, commit = m.URI, c
				break
			}
		}
	default:
		return "", "", fmt.Errorf("reading the provenance statement: type %q is not an in-toto statement", head.Type)
	}
	if uri == "" || !commitID.MatchString(commit) {
		return "", "", ErrNoSource
	}
	return repositoryURL(uri), commit, nil
}

// repositoryURL turns npm's "git+https://github.com/o/r@refs/heads/main"
// into a URL git can fetch.
func repositoryURL(uri string) string {
	u := strings.TrimPrefix(uri, "git+")
	if i := strings.Index(u, "://"); i >= 0 {
		if at := strings.LastIndexByte(u, '@'); at > i+3 && strings.Contains(u[at:], "/") {
			u = u[:at]
		}
	}
	return u
}

// VerifiedSource verifies bundle as the provenance of subject (any
// identity: the certificate names who built it) against trustedRoot
// (nil: Sigstore's public good instance), and returns the https
// repository and commit its statement names, which must be those of its
// certificate.
func VerifiedSource(bundle []byte, subject attest.Subject, trustedRoot []byte) (repoURL, commit string, err error) {
	id := subject.Name + "@" + subject.Version
	p, err := attest.VerifyBundle(bundle, subject, attest.VerifyOptions{AnyIdentity: true, TrustedRoot: trustedRoot})
	if err != nil {
		return "", "", err
	}
	url, commit, err := SourceOf(bundle)
	if err != nil {
		return "", "", fmt.Errorf("the provenance of %s: %w", id, err)
	}
	if !strings.HasPrefix(url, "https://") {
		return "", "", fmt.Errorf("the provenance of %s names %s, not an https:// repository", id, url)
	}
	if commit != p.Commit || !strings.EqualFold(strings.TrimSuffix(url, ".git"), p.Repository) {
		return "", "", fmt.Errorf("the provenance of %s: its statement names %s at %s, its certificate %s at %s", id, url, commit, p.Repository, p.Commit)
	}
	return url, commit, nil
}
