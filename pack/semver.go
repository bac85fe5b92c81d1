package pack

import (
	"regexp"
	"strconv"
	"strings"
)

// Yarn decides some rewrites with node-semver (7, not loose, prereleases
// excluded): whether a string is a valid range, and whether a workspace's
// version satisfies "workspace:<range>". This is that subset.

type semver struct {
	major, minor, patch uint64
	pre                 []string
}

var semverStrict = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?` +
	`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$`)

func parseSemver(v string) (semver, bool) {
	m := semverStrict.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return semver{}, false
	}
	var s semver
	var ok1, ok2, ok3 bool
	s.major, ok1 = safeNum(m[1])
	s.minor, ok2 = safeNum(m[2])
	s.patch, ok3 = safeNum(m[3])
	if !ok1 || !ok2 || !ok3 {
		return semver{}, false
	}
	if m[4] != "" {
		s.pre = strings.Split(m[4], ".")
	}
	return s, true
}

func safeNum(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= 1<<53-1
}

func (a semver) compare(b semver) int {
	for _, d := range [][2]uint64{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; ; i++ {
		switch {
		case i >= len(a.pre) && i >= len(b.pre):
			return 0
		case i >= len(a.pre):
			return -1
		case i >= len(b.pre):
			return 1
		}
		x, y := a.pre[i], b.pre[i]
		if x == y {
			continue
		}
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn < yn {
				return -1
			}
			return 1
		case xerr == nil:
			return -1
		case yerr == nil:
			return 1
		case x < y:
			return -1
		}
		return 1
	}
}

// comparator is one op and version; op "" matches anything.
type comparator struct {
	op string
	v  semver
}

func (c comparator) test(v semver) bool {
	d := v.compare(c.v)
	switch c.op {
	case "":
		return true
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	}
	return d == 0
}

// A partial version: each of major, minor, patch a number or a wildcard.
const semverPartial = `[v=\s]*(0|[1-9]\d*|x|X|\*)(?:\.(0|[1-9]\d*|x|X|\*)(?:\.(0|[1-9]\d*|x|X|\*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?` +
	`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?`

var (
	semverHyphen     = regexp.MustCompile(`^\s*(` + semverPartial + `)\s+-\s+(` + semverPartial + `)\s*$`)
	semverComparator = regexp.MustCompile(`^(~>?|\^|<=|>=|<|>|=)?` + semverPartial + `$`)
	semverOpSpace    = regexp.MustCompile(`(~>?|\^|<=|>=|<|>|=)\s+`)
	semverOrSplit    = regexp.MustCompile(`\s*\|\|\s*`)
)

// semverRange is node-semver's Range: comparator sets joined by "||".
type semverRange [][]comparator

// parseRange reads a range as new semver.Range(r) does, or fails where it
// throws.
func parseRange(r string) (semverRange, bool) {
	var out semverRange
	for _, part := range semverOrSplit.Split(strings.TrimSpace(r), -1) {
		set, ok := parseComparatorSet(strings.TrimSpace(part))
		if !ok {
			return nil, false
		}
		out = append(out, set)
	}
	return out, true
}

func parseComparatorSet(s string) ([]comparator, bool) {
	if m := semverHyphen.FindStringSubmatch(s); m != nil {
		lo, ok1 := partialOf(m[2], m[3], m[4], m[5])
		hi, ok2 := partialOf(m[8], m[9], m[10], m[11])
		if !ok1 || !ok2 {
			return nil, false
		}
		var set []comparator
		if !lo.any() {
			set = append(set, comparator{">=", lo.floor()})
		}
		switch {
		case hi.any():
		case hi.minor < 0:
			set = append(set, comparator{"<", semver{major: uint64(hi.major) + 1, pre: []string{"0"}}})
		case hi.patch < 0:
			set = append(set, comparator{"<", semver{major: uint64(hi.major), minor: uint64(hi.minor) + 1, pre: []string{"0"}}})
		default:
			set = append(set, comparator{"<=", hi.floor()})
		}
		if len(set) == 0 {
			set = []comparator{{}}
		}
		return set, true
	}
	s = semverOpSpace.ReplaceAllString(s, "$1")
	var set []comparator
	for _, tok := range strings.Fields(s) {
		m := semverComparator.FindStringSubmatch(tok)
		if m == nil {
			return nil, false
		}
		p, ok := partialOf(m[2], m[3], m[4], m[5])
		if !ok {
			return nil, false
		}
		set = append(set, desugar(m[1], p)...)
	}
	if len(set) == 0 {
		set = []comparator{{}}
	}
	return set, true
}

// partial is a version with wildcards: -1 for a wildcard or missing part.
type partial struct {
	major, minor, patch int64
	pre                 []string
}

func partialOf(major, minor, patch, pre string) (partial, bool) {
	num := func(s string) (int64, bool) {
		if s == "" || s == "x" || s == "X" || s == "*" {
			return -1, true
		}
		n, ok := safeNum(s)
		return int64(n), ok
	}
	var p partial
	var ok1, ok2, ok3 bool
	p.major, ok1 = num(major)
	p.minor, ok2 = num(minor)
	p.patch, ok3 = num(patch)
	if p.major < 0 {
		p.minor, p.patch = -1, -1
	} else if p.minor < 0 {
		p.patch = -1
	}
	if pre != "" && p.patch >= 0 {
		p.pre = strings.Split(pre, ".")
	}
	return p, ok1 && ok2 && ok3
}

func (p partial) any() bool { return p.major < 0 }

func (p partial) floor() semver {
	v := semver{pre: p.pre}
	if p.major > 0 {
		v.major = uint64(p.major)
	}
	if p.minor > 0 {
		v.minor = uint64(p.minor)
	}
	if p.patch > 0 {
		v.patch = uint64(p.patch)
	}
	return v
}

func bump(major, minor, patch uint64) semver {
	return semver{major: major, minor: minor, patch: patch, pre: []string{"0"}}
}

// desugar turns one comparator with tilde, caret or wildcards into plain
// ones, as node-semver does.
func desugar(op string, p partial) []comparator {
	M, m, pt := uint64(max(p.major, 0)), uint64(max(p.minor, 0)), uint64(max(p.patch, 0))
	lo := comparator{">=", p.floor()}
	switch op {
	case "~", "~>":
		switch {
		case p.any():
			return []comparator{{}}
		case p.minor < 0:
			return []comparator{lo, {"<", bump(M+1, 0, 0)}}
		default:
			return []comparator{lo, {"<", bump(M, m+1, 0)}}
		}
	case "^":
		switch {
		case p.any():
			return []comparator{{}}
		case p.minor < 0:
			return []comparator{lo, {"<", bump(M+1, 0, 0)}}
		case p.patch < 0:
			if M == 0 {
				return []comparator{lo, {"<", bump(0, m+1, 0)}}
			}
			return []comparator{lo, {"<", bump(M+1, 0, 0)}}
		case M != 0:
			return []comparator{lo, {"<", bump(M+1, 0, 0)}}
		case m != 0:
			return []comparator{lo, {"<", bump(0, m+1, 0)}}
		default:
			return []comparator{lo, {"<", bump(0, 0, pt+1)}}
		}
	}
	if !p.any() && p.patch >= 0 {
		if op == "" {
			op = "="
		}
		return []comparator{{op, p.floor()}}
	}
	// An x-range.
	switch {
	case p.any():
		if op == "<" || op == ">" {
			return []comparator{{"<", bump(0, 0, 0)}} // matches nothing
		}
		return []comparator{{}}
	case op == ">":
		if p.minor < 0 {
			return []comparator{{">=", semver{major: M + 1}}}
		}
		return []comparator{{">=", semver{major: M, minor: m + 1}}}
	case op == "<=":
		if p.minor < 0 {
			return []comparator{{"<", bump(M+1, 0, 0)}}
		}
		return []comparator{{"<", bump(M, m+1, 0)}}
	case op == "<":
		return []comparator{{"<", bump(M, m, 0)}}
	case op == ">=":
		return []comparator{lo}
	}
	if p.minor < 0 {
		return []comparator{lo, {"<", bump(M+1, 0, 0)}}
	}
	return []comparator{lo, {"<", bump(M, m+1, 0)}}
}

// satisfies is semver.satisfies(version, range) without prereleases
// unless a comparator of the same set names that version's tuple.
func (r semverRange) satisfies(version string) bool {
	v, ok := parseSemver(version)
	if !ok {
		return false
	}
	for _, set := range r {
		if testSet(set, v) {
			return true
		}
	}
	return false
}

func testSet(set []comparator, v semver) bool {
	for _, c := range set {
		if !c.test(v) {
			return false
		}
	}
	if len(v.pre) == 0 {
		return true
	}
	for _, c := range set {
		if c.op == "" || len(c.v.pre) == 0 {
			continue
		}
		if c.v.major == v.major && c.v.minor == v.minor && c.v.patch == v.patch {
			return true
		}
	}
	return false
}

// validRange is yarn's validRange: no ":" in it, and node-semver reads it.
func validRange(s string) (semverRange, bool) {
	if strings.Contains(s, ":") {
		return nil, false
	}
	return parseRange(s)
}
