package reproduce

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The verification summary Summary writes.
const (
	VSAPredicateType = "https://slsa.dev/verification_summary/v1"
	// LevelReproduced is the verified level of a tarball that holds
	// the files a rebuild from its source holds. It is not an SLSA
	// level, so it has no SLSA_ prefix.
	LevelReproduced = "AIRLOCK_REPRODUCED_FROM_SOURCE"
	verifierID      = "https://github.com/airlockdev/airlock/verify-reproduce"
	policyURI       = "https://github.com/airlockdev/airlock#reviewing-a-staged-release-airlock-diff-airlock-stage-review-airlock-verify-reproduce"
)

// SummaryInput is what Summary attests to.
type SummaryInput struct {
	// PackageURL is the package's purl (attest.PackageURL), the subject
	// and resource URI; SHA512 the tarball's digest.
	PackageURL string
	SHA512     []byte
	Result     *Result
	Time       time.Time
	// ToolVersion is airlock's version, in the verifier's version.
	ToolVersion string
	// Inputs are the attestations the check relied on: the provenance
	// bundle that named the source.
	Inputs []Input
}

// Input is an attestation a summary relied on.
type Input struct {
	URI    string
	SHA256 []byte
}

// Summary returns an in-toto Statement v1 with an SLSA verification
// summary v1 predicate: PASSED with LevelReproduced when the tarball
// reproduced, FAILED with no level when it did not. It is unsigned.
func Summary(in SummaryInput) ([]byte, error) {
	result, levels := "FAILED", []string{}
	if in.Result.Reproduced {
		result, levels = "PASSED", []string{LevelReproduced}
	}
	pred := &vsa.VerificationSummary{
		Verifier:           &vsa.VerificationSummary_Verifier{Id: verifierID},
		TimeVerified:       timestamppb.New(in.Time.UTC()),
		ResourceUri:        in.PackageURL,
		Policy:             &vsa.VerificationSummary_Policy{Uri: policyURI},
		VerificationResult: result,
		VerifiedLevels:     levels,
	}
	for _, a := range in.Inputs {
		pred.InputAttestations = append(pred.InputAttestations, &vsa.VerificationSummary_InputAttestation{Uri: a.URI, Digest: map[string]string{"sha256": hex.EncodeToString(a.SHA256)}})
	}
	raw, err := protojson.Marshal(pred)
	if err != nil {
		return nil, fmt.Errorf("writing the verification summary: %w", err)
	}
	ps := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, ps); err != nil {
		return nil, fmt.Errorf("writing the verification summary: %w", err)
	}
	// The specification's verifier.version, which the generated type
	// lacks.
	ps.Fields["verifier"] = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
		"id":      structpb.NewStringValue(verifierID),
		"version": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"airlock": structpb.NewStringValue(in.ToolVersion)}}),
	}})
	st := &ita1.Statement{
		Type:          ita1.StatementTypeUri,
		Subject:       []*ita1.ResourceDescriptor{{Name: in.PackageURL, Digest: map[string]string{"sha512": hex.EncodeToString(in.SHA512)}}},
		PredicateType: VSAPredicateType,
		Predicate:     ps,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("writing the verification summary: %w", err)
	}
	raw, err = protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("writing the verification summary: %w", err)
	}
	// protojson varies its white space on purpose; the file should not.
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("writing the verification summary: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
