package registry

import (
	"fmt"
	"strings"
)

// EscapeName returns name as it appears in a registry URL, exactly as npm
// writes it (npm-package-arg's escapedName): the slash of a scoped name
// becomes %2f, and nothing else changes, so "@scope/pkg" is "@scope%2fpkg".
func EscapeName(name string) string { return strings.Replace(name, "/", "%2f", 1) }

// checkName refuses names that could not be npm package names, so that a
// hostile name cannot reach another path of the registry ("..", "a/b/c",
// "x?y"). It checks the URL-safety npm requires of every name, not all of
// npm's naming rules.
func checkName(name string) error {
	parts := []string{name}
	if strings.HasPrefix(name, "@") {
		scope, pkg, ok := strings.Cut(name[1:], "/")
		if !ok {
			return fmt.Errorf("invalid package name %q: a scoped name is @scope/name", name)
		}
		parts = []string{scope, pkg}
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || len(p) > 214 {
			return fmt.Errorf("invalid package name %q", name)
		}
		for i := 0; i < len(p); i++ {
			if !urlSafe(p[i]) {
				return fmt.Errorf("invalid package name %q: %q is not allowed in a package name", name, p[i])
			}
		}
	}
	return nil
}

// urlSafe reports whether encodeURIComponent leaves c as it is, which npm
// requires of every character of a name.
func urlSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()", c) >= 0
}
