package tardiff

import "fmt"

// Provenance is what the caller learnt of a version's provenance: whether
// there is any, whether it verified, and who it says built the version.
// tardiff compares; it verifies nothing itself.
type Provenance struct {
	// Found: the registry (or the user) had a provenance bundle.
	Found bool `json:"found"`
	// Verified: the bundle passed every check. Error says which failed.
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
	// What the verified certificate names.
	Issuer     string `json:"issuer,omitempty"`
	Repository string `json:"repository,omitempty"`
	Workflow   string `json:"workflow,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Commit     string `json:"commit,omitempty"`
	Runner     string `json:"runnerEnvironment,omitempty"`
	LogIndex   int64  `json:"logIndex,omitempty"`
}

// provenanceSignals compares the provenance of two versions; nil means it
// was not looked for, and then nothing is said.
func provenanceSignals(old, new *Provenance) []Signal {
	if old == nil || new == nil {
		return nil
	}
	var out []Signal
	add := func(kind string, sev Severity, o, n, msg string) {
		out = append(out, Signal{ID: kind, Kind: kind, Severity: sev, Field: "provenance", Old: shown(o), New: shown(n), Message: msg})
	}
	switch {
	case new.Found && !new.Verified:
		add(KindProvenanceInvalid, High, "", "", "the new version's provenance does not verify: "+shown(new.Error))
		return out
	case old.Found && !new.Found:
		add(KindProvenanceMissing, High, old.Repository, "", fmt.Sprintf("the old version has provenance (built in %s by %s); the new one has none", shown(old.Repository), shown(old.Workflow)))
		return out
	case !old.Found && new.Found:
		add(KindProvenanceAdded, Info, "", new.Repository, fmt.Sprintf("the new version has provenance (built in %s by %s); the old one had none", shown(new.Repository), shown(new.Workflow)))
		return out
	case !old.Found || !old.Verified:
		return out
	}
	if old.Repository != new.Repository {
		add(KindProvenanceRepository, High, old.Repository, new.Repository, fmt.Sprintf("built in another repository: %s, was %s", shown(new.Repository), shown(old.Repository)))
	}
	if old.Workflow != new.Workflow {
		add(KindProvenanceWorkflow, High, old.Workflow, new.Workflow, fmt.Sprintf("built by another workflow: %s, was %s", shown(new.Workflow), shown(old.Workflow)))
	}
	if old.Issuer != new.Issuer || old.Runner != new.Runner {
		add(KindProvenanceBuilder, Medium, old.Issuer+" "+old.Runner, new.Issuer+" "+new.Runner,
			fmt.Sprintf("built elsewhere: issuer %s on a %s runner, was %s on a %s runner", shown(new.Issuer), orNone(shown(new.Runner)), shown(old.Issuer), orNone(shown(old.Runner))))
	}
	return out
}
