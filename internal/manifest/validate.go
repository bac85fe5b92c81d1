package manifest

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ValidateName applies npm's package naming rules (validate-npm-package-name)
// as the registry applies them to existing packages: errors only, since
// legacy names with capitals are still publishable as new versions.
func ValidateName(name string) error {
	var problems []string
	switch {
	case name == "":
		problems = append(problems, "name length must be greater than zero")
	default:
		if strings.HasPrefix(name, ".") {
			problems = append(problems, "name cannot start with a period")
		}
		if strings.HasPrefix(name, "-") {
			problems = append(problems, "name cannot start with a hyphen")
		}
		if strings.HasPrefix(name, "_") {
			problems = append(problems, "name cannot start with an underscore")
		}
		if strings.TrimSpace(name) != name {
			problems = append(problems, "name cannot contain leading or trailing spaces")
		}
		if l := strings.ToLower(name); l == "node_modules" || l == "favicon.ico" {
			problems = append(problems, l+" is not a valid package name")
		}
		if encodeURIComponent(name) != name {
			if m := scopedName.FindStringSubmatch(name); m != nil {
				if strings.HasPrefix(m[2], ".") {
					problems = append(problems, "name cannot start with a period")
				}
				if encodeURIComponent(m[1]) != m[1] || encodeURIComponent(m[2]) != m[2] {
					problems = append(problems, "name can only contain URL-friendly characters")
				}
			} else {
				problems = append(problems, "name can only contain URL-friendly characters")
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid package name %q: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

var scopedName = regexp.MustCompile(`^(?:@([^/]+?)/)([^/]+?)$`)

// encodeURIComponent matches JavaScript's: everything but
// A-Z a-z 0-9 - _ . ! ~ * ' ( ) is percent-encoded.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString(url.QueryEscape(string(c)))
	}
	return b.String()
}

// semver 2.0.0, as node-semver's strict FULL pattern.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?` +
	`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$`)

// ValidateVersion requires a clean semver 2.0.0 version, the form the
// registry stores: npm would silently rewrite "v1.2.3" or " 1.2.3".
func ValidateVersion(v string) error {
	if len(v) > 256 {
		return fmt.Errorf("invalid version %q: longer than 256 characters", v)
	}
	if semverPattern.MatchString(v) {
		return nil
	}
	clean := strings.TrimLeft(strings.TrimSpace(v), "=v")
	if semverPattern.MatchString(clean) {
		return fmt.Errorf("invalid version %q: write it as %q", v, clean)
	}
	return fmt.Errorf("invalid version %q: not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)", v)
}

// IsPrerelease reports whether a valid version carries a prerelease part.
func IsPrerelease(v string) bool {
	m := semverPattern.FindStringSubmatch(v)
	return m != nil && m[4] != ""
}
