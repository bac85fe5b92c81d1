package tardiff

import (
	"fmt"
	"strings"
)

// Severity ranks a signal: how much it asks of a reviewer.
type Severity int

const (
	// Info is worth knowing and asks nothing.
	Info Severity = iota
	// Low deserves a glance.
	Low
	// Medium deserves reading the change.
	Medium
	// High is what attacks look like: do not approve before knowing why.
	High
)

var severityNames = []string{"info", "low", "medium", "high"}

func (s Severity) String() string {
	if s < Info || s > High {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText writes the severity's name, as JSON reports carry it.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "info", "low", "medium" or "high".
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: want info, low, medium or high", name)
}

// Signal is one finding. Its ID is stable: the same change of the same
// packages gets the same ID, so tools can track or accept it.
type Signal struct {
	// ID is Kind, a colon, and what it is about: a package.json field
	// ("install-script:scripts.postinstall") or a file
	// ("child-process:lib/setup.js").
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	// File is the file the signal is about ("package.json" for its
	// fields); Field the package.json field; Line the first line (from
	// 1) where the new content shows it, or 0.
	File  string `json:"file,omitempty"`
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
	// Old and New are the values before and after, where there are
	// values (a script's command, a dependency's spec), made safe to
	// show.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Message says what changed, in words.
	Message string `json:"message"`
}

// The kinds of signal and their severity. README.md lists them.
const (
	KindInstallScript         = "install-script"          // high: preinstall, install, postinstall or prepare added or changed
	KindInstallScriptRemoved  = "install-script-removed"  // info
	KindImplicitInstallScript = "implicit-install-script" // high: a new binding.gyp makes npm run node-gyp rebuild
	KindInstallScriptFile     = "install-script-file"     // high: a file an install script runs is new or changed
	KindBinAdded              = "bin-added"               // medium
	KindBinChanged            = "bin-changed"             // medium
	KindBinRemoved            = "bin-removed"             // info
	KindDependencyAdded       = "dependency-added"        // medium
	KindDependencyChanged     = "dependency-changed"      // low: re-ranged
	KindDependencyRemoved     = "dependency-removed"      // info
	KindDependencySource      = "dependency-source"       // high: git, GitHub, http(s) or file: spec
	KindDependencyAlias       = "dependency-alias"        // medium: npm: alias to another package
	KindBundledDependency     = "bundled-dependency"      // medium
	KindEntryPoint            = "entry-point"             // medium: main or exports
	KindFilesField            = "files-field"             // low
	KindNativeBinary          = "native-binary"           // high when new, medium when changed
	KindWasm                  = "wasm"                    // medium
	KindMinified              = "minified"                // medium
	KindObfuscated            = "obfuscated"              // high
	KindEncodedData           = "encoded-data"            // medium
	KindDynamicCode           = "dynamic-code"            // high: eval, new Function
	KindChildProcess          = "child-process"           // high
	KindNetwork               = "network"                 // medium
	KindEnv                   = "env"                     // low
	KindExfiltration          = "exfiltration"            // high: environment or credentials, and the network, newly in one file
	KindCredentialFile        = "credential-file"         // high: .npmrc, .ssh, .aws …
	KindURL                   = "url"                     // low
	KindIPAddress             = "ip-address"              // medium
	KindInvisibleUnicode      = "invisible-unicode"       // high for bidi and tag characters, medium for zero-width ones
	KindUnscanned             = "unscanned"               // medium: too large to scan
	KindExecutable            = "executable"              // low: a file became executable
	KindSize                  = "size"                    // low: much larger
	KindVersionBackwards      = "version-backwards"       // medium
	KindVersionSkip           = "version-skip"            // low
	KindName                  = "name"                    // medium: another package
	KindProvenanceMissing     = "provenance-missing"      // high
	KindProvenanceInvalid     = "provenance-invalid"      // high
	KindProvenanceRepository  = "provenance-repository"   // high
	KindProvenanceWorkflow    = "provenance-workflow"     // high
	KindProvenanceBuilder     = "provenance-builder"      // medium: issuer or runner
	KindProvenanceAdded       = "provenance-added"        // info
)

func signalID(kind, subject string) string {
	if subject == "" {
		return kind
	}
	return kind + ":" + subject
}

// Counts returns how many signals there are of each severity.
func Counts(sigs []Signal) map[Severity]int {
	n := map[Severity]int{}
	for _, s := range sigs {
		n[s.Severity]++
	}
	return n
}

// AtLeast reports whether any signal has severity min or above.
func AtLeast(sigs []Signal, min Severity) bool {
	for _, s := range sigs {
		if s.Severity >= min {
			return true
		}
	}
	return false
}

// Summary is "2 high, 1 medium signals", or "no signals"; info signals
// are left out of it.
func Summary(sigs []Signal) string {
	n := Counts(sigs)
	var parts []string
	total := 0
	for s := High; s >= Low; s-- {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
			total += n[s]
		}
	}
	switch total {
	case 0:
		return "no signals"
	case 1:
		return parts[0] + " signal"
	}
	return strings.Join(parts, ", ") + " signals"
}
