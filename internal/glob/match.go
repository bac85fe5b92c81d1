package glob

import (
	"strings"
	"unicode/utf8"
)

type segKind uint8

const (
	segLiteral     segKind = iota // compared exactly
	segGlobstar                   // **
	segRegexp                     // a JS regexp
	segStar                       // stars only, other than "**"
	segStarExt                    // *.ext: lower-cased suffix
	segQmarks                     // ???ext: UTF-16 length, lower-cased suffix
	segStarDotStar                // *.*
	segDotStar                    // .*
)

// segment matches one path segment. minimatch replaces the regexp of a few
// common shapes with a string test; those tests are not always what the
// regexp would say (they see backslashes literally and compare with
// toLowerCase), and they are what npm runs, so they are kept.
type segment struct {
	kind segKind
	lit  string // the literal, or the lower-cased extension
	n    int    // qmarks: the pattern's length in UTF-16 code units
	re   *reProg
	src  string // the JS regexp source, for tests
	u    bool   // the regexp has the u flag
	// caseLit is the lower-cased text of a regexp that is only an ASCII
	// literal with letters in it, matched ignoring case.
	caseLit string
}

// need returns ASCII text an ASCII path segment matching s must contain,
// lower-cased if fold (then compared ignoring ASCII case), or "".
func (s *segment) need() (text string, fold bool) {
	var lit string
	switch s.kind {
	case segLiteral:
		lit = s.lit
	case segStarExt:
		lit, fold = s.lit, true
	case segRegexp:
		lit, fold = s.caseLit, true
	}
	if !isASCII(lit) {
		return "", false
	}
	return lit, fold
}

// regexpLiteral returns the text a regexp source of ASCII characters
// matches if it is only literal characters and escaped punctuation, and
// false if it has anything else.
func regexpLiteral(src string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c >= utf8.RuneSelf:
			return "", false
		case c == '\\':
			if i+1 == len(src) {
				return "", false
			}
			i++
			c = src[i]
			if 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c >= utf8.RuneSelf {
				return "", false // \d, \b, \1 and the like
			}
		case strings.IndexByte(".^$|?*+()[]{}", c) >= 0:
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() > 0
}

func compileSegment(part string) (segment, error) {
	switch part {
	case "**":
		return segment{kind: segGlobstar}, nil
	case "":
		return segment{kind: segLiteral}, nil
	}
	root := newNode(0, nil)
	parseAST(part, root, 0, 0)
	glob := root.String()
	src, bare, magic, u, err := root.rootSource()
	if err != nil {
		return segment{}, err
	}
	if !magic && !hasCaseString(glob) {
		return segment{kind: segLiteral, lit: unescape(bare)}, nil
	}
	re, err := compileRegexp("^"+src+"$", u)
	if err != nil {
		return segment{}, err
	}
	s := segment{kind: segRegexp, re: re, src: src, u: u}
	if lit, ok := regexpLiteral(src); ok && !magic {
		// Text with letters: an i-flag regexp that is case-insensitive
		// equality. Kept to narrow matches down (see compiled.need).
		s.caseLit = lowerJS(lit)
	}
	s.kind, s.lit, s.n = fastTest(part)
	if s.kind != segRegexp {
		s.re = nil
	}
	return s, nil
}

// fastTest picks minimatch's string test for part, if it has one.
func fastTest(part string) (segKind, string, int) {
	stars := len(part) - len(strings.TrimLeft(part, "*"))
	qmarks := len(part) - len(strings.TrimLeft(part, "?"))
	switch {
	case stars == len(part):
		return segStar, "", 0
	case stars > 0 && !strings.ContainsAny(part[stars:], "+@!?*[("):
		return segStarExt, lowerJS(part[stars:]), 0
	case qmarks > 0 && !strings.ContainsAny(part[qmarks:], "+@!?*[("):
		return segQmarks, lowerJS(part[qmarks:]), utf16Len(part)
	case stars > 0 && part[stars] == '.' && len(part) > stars+1 && strings.Trim(part[stars+1:], "*") == "":
		return segStarDotStar, "", 0
	case part[0] == '.' && len(part) > 1 && strings.Trim(part[1:], "*") == "":
		return segDotStar, "", 0
	}
	return segRegexp, "", 0
}

func (s *segment) test(f string) bool {
	switch s.kind {
	case segLiteral:
		return f == s.lit
	case segRegexp:
		return s.re.match(f)
	case segStar:
		return f != "" && f != "." && f != ".."
	case segStarExt:
		return hasLowerSuffix(f, s.lit)
	case segQmarks:
		return f != "." && f != ".." && utf16Len(f) == s.n && (s.lit == "" || hasLowerSuffix(f, s.lit))
	case segStarDotStar:
		return f != "." && f != ".." && strings.IndexByte(f, '.') >= 0
	case segDotStar:
		return f != "." && f != ".." && strings.HasPrefix(f, ".")
	}
	return false
}

// hasLowerSuffix is f.toLowerCase().endsWith(ext) for a lower-cased ext.
func hasLowerSuffix(f, ext string) bool {
	for i := 0; i < len(f); i++ {
		if f[i] >= utf8.RuneSelf {
			return strings.HasSuffix(lowerJS(f), ext)
		}
	}
	if len(ext) > len(f) {
		return false
	}
	tail := f[len(f)-len(ext):]
	for i := 0; i < len(ext); i++ {
		c := tail[i]
		if c >= 'A' && c <= 'Z' {
			c += 0x20
		}
		if c != ext[i] {
			return false
		}
	}
	return true
}

func (c *compiled) match(file []string, partial bool) bool {
	if c.globstars {
		return c.matchGlobstar(file, partial)
	}
	return matchSegments(file, c.segs, partial, 0)
}

// matchSegments matches file[fi:] against pattern in step. Running out of
// file is fine when partial; running out of pattern is fine only before a
// trailing slash.
func matchSegments(file []string, pattern []segment, partial bool, fi int) bool {
	pi := 0
	for ; fi < len(file) && pi < len(pattern); fi, pi = fi+1, pi+1 {
		p := &pattern[pi]
		if p.kind == segGlobstar || !p.test(file[fi]) {
			return false
		}
	}
	switch {
	case fi == len(file) && pi == len(pattern):
		return true
	case fi == len(file):
		return partial
	case pi == len(pattern):
		return fi == len(file)-1 && file[fi] == ""
	}
	return false
}

// globstarPlan is how minimatch cuts a pattern with ** into a head, body
// sections between globstars, and a tail.
type globstarPlan struct {
	head     int // pattern[:head] comes before the first **
	tail     int // pattern[tail:] must match the end of the path
	sections []section
}

type section struct {
	start, end int // pattern[start:end]
	// reserve is how many path segments are kept free after this section
	// starts: fileLength - reserve is the last place it may start. Upstream
	// pairs each section with the count of the wrong side (the sums are
	// read in reverse), and so do we.
	reserve int
}

func makePlan(segs []segment, partial bool) globstarPlan {
	first, last := -1, -1
	for i, s := range segs {
		if s.kind == segGlobstar {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	plan := globstarPlan{head: first, tail: last + 1}
	bodyEnd := last
	if partial {
		plan.tail = len(segs)
		bodyEnd = len(segs)
	}
	if first+1 >= bodyEnd {
		return plan
	}
	sums := []int{0}
	start, nonGlobstar := first+1, 0
	for i := first + 1; i < bodyEnd; i++ {
		if segs[i].kind == segGlobstar {
			sums = append(sums, nonGlobstar)
			plan.sections = append(plan.sections, section{start: start, end: i})
			start = i + 1
			continue
		}
		nonGlobstar++
	}
	plan.sections = append(plan.sections, section{start: start, end: bodyEnd})
	for j := range plan.sections {
		s := &plan.sections[j]
		s.reserve = sums[len(sums)-1-j] + s.end - s.start
	}
	return plan
}

func (c *compiled) matchGlobstar(file []string, partial bool) bool {
	pi := 0
	if partial {
		pi = 1
	}
	plan := &c.plan[pi]
	segs := c.segs
	fileIndex := 0
	if head := segs[:plan.head]; len(head) > 0 {
		if !matchSegments(file[:min(len(head), len(file))], head, partial, 0) {
			return false
		}
		fileIndex += len(head)
	}
	tailMatch := 0
	if tail := segs[plan.tail:]; len(tail) > 0 {
		if len(tail)+fileIndex > len(file) {
			return false
		}
		if matchSegments(file, tail, partial, len(file)-len(tail)) {
			tailMatch = len(tail)
		} else {
			// a/**/* matches a/b/: try again without the trailing "".
			if file[len(file)-1] != "" || fileIndex+len(tail) == len(file) {
				return false
			}
			if !matchSegments(file, tail, partial, len(file)-len(tail)-1) {
				return false
			}
			tailMatch = len(tail) + 1
		}
	}
	if len(plan.sections) == 0 {
		sawSome := tailMatch > 0
		for i := fileIndex; i < len(file)-tailMatch; i++ {
			sawSome = true
			if file[i] == "." || file[i] == ".." {
				return false
			}
		}
		return partial || sawSome
	}
	m := sectionMatcher{file: file, segs: segs, sections: plan.sections, partial: partial, fileLength: len(file) - tailMatch}
	return m.match(fileIndex, 0, 0, tailMatch > 0) == yes
}

type sectionMatcher struct {
	file       []string
	segs       []segment
	sections   []section
	partial    bool
	fileLength int
}

// match places section i at fileIndex or later. It returns no to let the
// caller try further along, and undefined when no placement can work.
func (m *sectionMatcher) match(fileIndex, i, depth int, sawTail bool) tri {
	if i == len(m.sections) {
		// No section left; the rest of the path must hold no "." or "..".
		for ; fileIndex < len(m.file); fileIndex++ {
			sawTail = true
			if f := m.file[fileIndex]; f == "." || f == ".." {
				return no
			}
		}
		return triOf(sawTail)
	}
	s := m.sections[i]
	body := m.segs[s.start:s.end]
	for after := m.fileLength - s.reserve; fileIndex <= after; fileIndex++ {
		end := min(fileIndex+len(body), len(m.file))
		if matchSegments(m.file[:end], body, m.partial, fileIndex) && depth < maxGlobstarRecursion {
			if sub := m.match(fileIndex+len(body), i+1, depth+1, sawTail); sub != no {
				return sub
			}
		}
		if fileIndex < len(m.file) {
			if f := m.file[fileIndex]; f == "." || f == ".." {
				return no
			}
		}
	}
	if m.partial {
		return yes
	}
	return undefined
}
