package pack

import (
	"strings"

	"github.com/airlockdev/airlock/internal/semver"
)

// validRange is yarn's validRange: no ":" in it, and node-semver reads
// it. Yarn decides whether to rewrite some dependencies with it, and
// whether a workspace's version satisfies "workspace:<range>".
func validRange(s string) (semver.Range, bool) {
	if strings.Contains(s, ":") {
		return nil, false
	}
	return semver.ParseRange(s)
}
