// Package glob matches paths against ignore-file patterns exactly as npm's
// ignore-walk does: each line is a minimatch 10.2.5 pattern compiled with
// matchBase, dot, flipNegate and nocase, on Linux.
//
// Every quirk of that combination is kept, because npm's file list depends
// on it: brace expansion before anything else, "**" only as a whole
// segment, a pattern without a slash matching the base name, the shortcuts
// minimatch takes for "*.ext" and "???" (which compare lower-cased text and
// so ignore backslash escapes), JS case folding, and UTF-16 lengths.
package glob

import (
	"errors"
	"fmt"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"strings"
)

// maxPatternLength is minimatch's limit, in UTF-16 code units.
const maxPatternLength = 64 * 1024

// maxGlobstarRecursion bounds how many ** sections are tried in a row;
// past it minimatch gives up and reports no match.
const maxGlobstarRecursion = 200

// ErrTooLong is returned for a pattern longer than minimatch accepts;
// ignore-walk would crash on it.
var ErrTooLong = errors.New("pattern is too long")

// Pattern is one compiled ignore-file line.
type Pattern struct {
	negate   bool
	comment  bool
	empty    bool
	relative bool
	set      []compiled
	parts    [][]string // minimatch's globParts, kept for tests
}

// compiled is one brace expansion of a pattern, split into segments.
type compiled struct {
	segs      []segment
	globstars bool
	plan      [2]globstarPlan // indexed by partial

	// need is a piece of ASCII text every whole (not partial) match of
	// an ASCII path contains, lower-cased and found ignoring ASCII case
	// if fold: the literal of one segment, which must equal a segment of
	// the path. Most paths lack it, and finding that out is much cheaper
	// than matching. Empty if no segment has one.
	need string
	fold bool
}

// Compile compiles one pattern. The caller trims it, as ignore-walk does.
// It fails where minimatch's constructor throws: for a pattern over 65,536
// UTF-16 code units, or one whose generated regular expression JS rejects
// (a POSIX class makes it a u-flag regexp, in which escapes such as \- or
// \, are syntax errors).
func Compile(line string) (*Pattern, error) {
	line = jsvalue.WellFormed(line)
	if utf16Len(line) > maxPatternLength {
		return nil, ErrTooLong
	}
	p := &Pattern{}
	// minimatch looks for comments and empty patterns before negation, so
	// "!#x" is a negated pattern and "!" is not empty.
	if strings.HasPrefix(line, "#") {
		p.comment = true
		return p, nil
	}
	if line == "" {
		p.empty = true
		return p, nil
	}
	for line != "" && line[0] == '!' {
		p.negate = !p.negate
		line = line[1:]
	}
	seen := map[string]bool{}
	for _, g := range braceExpand(line) {
		if seen[g] {
			continue
		}
		seen[g] = true
		parts := optimize(slashSplit(g))
		// ignore-walk's isRelativeRule: a single segment, or one followed
		// by a trailing slash.
		limit := 1
		if parts[len(parts)-1] == "" {
			limit = 2
		}
		p.relative = p.relative || len(parts) <= limit
		p.parts = append(p.parts, parts)
		c, err := compileParts(parts)
		if err != nil {
			return nil, fmt.Errorf("compiling %q: %w", g, err)
		}
		p.set = append(p.set, c)
	}
	return p, nil
}

// ParseIgnoreFile compiles the rules of an ignore file as ignore-walk reads
// them: lines split on \n or \r\n, trimmed as JS trims, blank lines and
// lines starting with # dropped.
func ParseIgnoreFile(data string) ([]*Pattern, error) {
	var rules []*Pattern
	// Splitting on \n and trimming drops a \r before it, as /\r?\n/ does.
	for i, line := range strings.Split(jsvalue.WellFormed(data), "\n") {
		line = trimJS(line)
		if line == "" || line[0] == '#' {
			continue
		}
		p, err := Compile(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		rules = append(rules, p)
	}
	return rules, nil
}

// Negate reports whether the pattern began with an odd number of "!".
func (p *Pattern) Negate() bool { return p.negate }

// Relative reports ignore-walk's isRelativeRule: whether some expansion of
// the pattern is a single segment, possibly with a trailing slash.
func (p *Pattern) Relative() bool { return p.relative }

// Match reports whether path matches the pattern, ignoring negation (with
// flipNegate a negated pattern reports its matches too). With partial, a
// path that runs out before the pattern does matches if what there is of it
// matches, as when deciding whether to walk into a directory.
func (p *Pattern) Match(path string, partial bool) bool {
	if p.comment {
		return false
	}
	if p.empty {
		return path == ""
	}
	if path == "/" && partial {
		return true
	}
	ascii := isASCII(path)
	if !ascii {
		path = jsvalue.WellFormed(path)
	}
	var base [1]string
	var buf [16]string
	var file []string
	for i := range p.set {
		c := &p.set[i]
		if ascii && !partial && c.need != "" && !contains(path, c.need, c.fold) {
			continue
		}
		f := base[:]
		if len(c.segs) == 1 && base[0] == "" {
			// matchBase: a pattern of one segment is matched against the
			// base name alone, the last segment that is not empty.
			base[0] = strings.TrimRight(path, "/")
			if i := strings.LastIndexByte(base[0], '/'); i >= 0 {
				base[0] = base[0][i+1:]
			}
		}
		if len(c.segs) > 1 {
			if file == nil {
				file = slashSplitInto(buf[:0], path)
			}
			f = file
		}
		if c.match(f, partial) {
			return true
		}
	}
	return false
}

// slashSplit is p.split(/\/+/).
func slashSplit(p string) []string {
	return slashSplitInto(nil, p)
}

func slashSplitInto(dst []string, p string) []string {
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(dst, p)
		}
		dst = append(dst, p[:i])
		for i+1 < len(p) && p[i+1] == '/' {
			i++
		}
		p = p[i+1:]
	}
}

// optimize is minimatch's optimizationLevel 1: adjacent ** collapse, and
// "x/.." cancels out unless x is "", ".", ".." or "**".
func optimize(parts []string) []string {
	out := parts[:0:0]
	for _, part := range parts {
		prev := ""
		if len(out) > 0 {
			prev = out[len(out)-1]
		}
		if part == "**" && prev == "**" {
			continue
		}
		if part == ".." && prev != "" && prev != ".." && prev != "." && prev != "**" {
			out = out[:len(out)-1]
			continue
		}
		out = append(out, part)
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

func compileParts(parts []string) (compiled, error) {
	c := compiled{segs: make([]segment, len(parts))}
	for i, part := range parts {
		s, err := compileSegment(part)
		if err != nil {
			return compiled{}, err
		}
		c.segs[i] = s
		c.globstars = c.globstars || s.kind == segGlobstar
		if need, fold := s.need(); len(need) > len(c.need) {
			c.need, c.fold = need, fold
		}
	}
	if c.globstars {
		c.plan[0] = makePlan(c.segs, false)
		c.plan[1] = makePlan(c.segs, true)
	}
	return c, nil
}

// contains reports whether s contains the lower-case ASCII sub, ignoring
// ASCII case if fold.
func contains(s, sub string, fold bool) bool {
	if !fold {
		return strings.Contains(s, sub)
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}
