package semver

import (
	"regexp"
	"strings"
)

// Range is node-semver's Range: comparator sets joined by "||", of which
// a version must satisfy one.
type Range [][]comparator

// comparator is one op and version; op "" matches anything.
type comparator struct {
	op string
	v  Version
}

func (c comparator) test(v Version) bool {
	d := v.Compare(c.v)
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
const partialPattern = `[v=\s]*(0|[1-9]\d*|x|X|\*)(?:\.(0|[1-9]\d*|x|X|\*)(?:\.(0|[1-9]\d*|x|X|\*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*))*))?` +
	`(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?`

var (
	hyphenRange       = regexp.MustCompile(`^\s*(` + partialPattern + `)\s+-\s+(` + partialPattern + `)\s*$`)
	comparatorPattern = regexp.MustCompile(`^(~>?|\^|<=|>=|<|>|=)?` + partialPattern + `$`)
	opSpace           = regexp.MustCompile(`(~>?|\^|<=|>=|<|>|=)\s+`)
	orSplit           = regexp.MustCompile(`\s*\|\|\s*`)
	build             = regexp.MustCompile(`\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*`)
	star              = regexp.MustCompile(`[<>]?=?\*`)
	operator          = regexp.MustCompile(`^[<>]?=?`)
)

// ParseRange reads a range as new Range(r) does, or fails where it
// throws; it is node-semver's validRange, which reads "" as "*".
func ParseRange(r string) (Range, bool) {
	var out Range
	for _, part := range orSplit.Split(strings.TrimSpace(r), -1) {
		// node-semver drops build metadata wherever it stands.
		part = build.ReplaceAllString(strings.TrimSpace(part), "")
		set, ok := parseComparatorSet(part)
		if !ok {
			return nil, false
		}
		out = append(out, set)
	}
	return out, true
}

func parseComparatorSet(s string) ([]comparator, bool) {
	if m := hyphenRange.FindStringSubmatch(s); m != nil {
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
			set = append(set, comparator{"<", Version{Major: uint64(hi.major) + 1, Prerelease: []string{"0"}}})
		case hi.patch < 0:
			set = append(set, comparator{"<", Version{Major: uint64(hi.major), Minor: uint64(hi.minor) + 1, Prerelease: []string{"0"}}})
		default:
			set = append(set, comparator{"<=", hi.floor()})
		}
		if len(set) == 0 {
			set = []comparator{{}}
		}
		return set, true
	}
	s = opSpace.ReplaceAllString(s, "$1")
	var set []comparator
	for _, tok := range strings.Fields(s) {
		m := comparatorPattern.FindStringSubmatch(tok)
		if m == nil || (!strings.HasPrefix(m[1], "~") && m[1] != "^" && invalidXOrder(m[2], m[3], m[4])) {
			c, ok := starless(tok)
			if !ok {
				return nil, false
			}
			set = append(set, c)
			continue
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

// invalidXOrder is node-semver's invalidXRangeOrder: a number after a
// wildcard (1.x.2) makes a plain x-range no x-range at all.
func invalidXOrder(major, minor, patch string) bool {
	isX := func(s string) bool { return s == "" || s == "x" || s == "X" || s == "*" }
	return isX(major) && !isX(minor) || isX(minor) && patch != "" && !isX(patch)
}

// starless is what node-semver makes of a token no rule desugars: the
// first "*" (with any <, > or = before it) removed, and what is left
// read as a plain comparator, so that "1.2.3*" is "1.2.3".
func starless(tok string) (comparator, bool) {
	if loc := star.FindStringIndex(tok); loc != nil {
		tok = tok[:loc[0]] + tok[loc[1]:]
	}
	if tok == "" {
		return comparator{}, true
	}
	op := operator.FindString(tok)
	v, ok := Parse(tok[len(op):])
	if !ok || strings.TrimSpace(tok[len(op):]) != tok[len(op):] {
		return comparator{}, false
	}
	if op == "" {
		op = "="
	}
	return comparator{op, v}, true
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

func (p partial) floor() Version {
	v := Version{Prerelease: p.pre}
	if p.major > 0 {
		v.Major = uint64(p.major)
	}
	if p.minor > 0 {
		v.Minor = uint64(p.minor)
	}
	if p.patch > 0 {
		v.Patch = uint64(p.patch)
	}
	return v
}

// bump is the lowest version of major.minor.patch, its first prerelease.
func bump(major, minor, patch uint64) Version {
	return Version{Major: major, Minor: minor, Patch: patch, Prerelease: []string{"0"}}
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
			return []comparator{{">=", Version{Major: M + 1}}}
		}
		return []comparator{{">=", Version{Major: M, Minor: m + 1}}}
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

// Satisfies is semver.satisfies(version, r): false for a version that does
// not parse, and false for a prerelease unless a comparator of the same
// set names a prerelease of that version's major.minor.patch.
func (r Range) Satisfies(version string) bool {
	v, ok := Parse(version)
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

func testSet(set []comparator, v Version) bool {
	for _, c := range set {
		if !c.test(v) {
			return false
		}
	}
	if len(v.Prerelease) == 0 {
		return true
	}
	for _, c := range set {
		if c.op == "" || len(c.v.Prerelease) == 0 {
			continue
		}
		if c.v.CompareCore(v) == 0 {
			return true
		}
	}
	return false
}
