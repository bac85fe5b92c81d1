// Package semver is node-semver's version precedence and range grammar
// as npm and yarn use them: strict parsing (not loose), and ranges that
// admit a prerelease only where a comparator names its version.
//
// It follows node-semver 7.8 (npm 11's) where that differs from the
// SemVer 2.0 text: numbers above 2^53-1 and versions longer than 256
// characters are refused, a leading "v" is allowed, and ranges keep its
// quirks ("1.2.3*" is 1.2.3, "1.x.2" is no range, "1+b" is 1).
package semver

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
)

// Version is a parsed version; build metadata is dropped, since it does
// not take part in precedence.
type Version struct {
	Major, Minor, Patch uint64
	Prerelease          []string
}

// maxLength is node-semver's MAX_LENGTH.
const maxLength = 256

var strict = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?` +
	`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$`)

// Parse reads a version as new SemVer(v) does, or fails where it throws.
func Parse(v string) (Version, bool) {
	if len(v) > maxLength {
		return Version{}, false
	}
	m := strict.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return Version{}, false
	}
	var s Version
	var ok1, ok2, ok3 bool
	s.Major, ok1 = safeNum(m[1])
	s.Minor, ok2 = safeNum(m[2])
	s.Patch, ok3 = safeNum(m[3])
	if !ok1 || !ok2 || !ok3 {
		return Version{}, false
	}
	if m[4] != "" {
		s.Prerelease = strings.Split(m[4], ".")
	}
	return s, true
}

// safeNum refuses what JavaScript cannot hold exactly, as node-semver does.
func safeNum(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= 1<<53-1
}

// Compare orders v and w by precedence: -1, 0 or 1.
func (v Version) Compare(w Version) int {
	if c := v.CompareCore(w); c != 0 {
		return c
	}
	a, b := v.Prerelease, w.Prerelease
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareIdentifiers(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// CompareCore orders v and w by major, minor and patch alone.
func (v Version) CompareCore(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	return cmp.Compare(v.Patch, w.Patch)
}

// compareIdentifiers orders prerelease identifiers: numeric ones by value
// and below alphanumeric ones, which compare as strings.
func compareIdentifiers(x, y string) int {
	if x == y {
		return 0
	}
	xn, xerr := strconv.ParseUint(x, 10, 64)
	yn, yerr := strconv.ParseUint(y, 10, 64)
	switch {
	case xerr == nil && yerr == nil:
		return cmp.Compare(xn, yn)
	case xerr == nil:
		return -1
	case yerr == nil:
		return 1
	}
	return strings.Compare(x, y)
}
