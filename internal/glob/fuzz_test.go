package glob

import (
	"github.com/airlockdev/airlock/internal/jsvalue"
	"strings"
	"testing"
)

// FuzzMatch checks properties that hold for any pattern and path: no
// panics, deterministic answers, "!" flipping only Negate, doubled slashes
// changing nothing, and a pattern without magic matching its own text in
// any ASCII case.
func FuzzMatch(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.pattern, tt.path)
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		// Tens of thousands of expansions take seconds to compile, in JS
		// too; they are covered by TestEdgesAgainstMinimatch instead.
		if len(braceExpand(jsvalue.WellFormed(pattern))) > 1000 {
			return
		}
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		full, partial := p.Match(path, false), p.Match(path, true)
		if p.Match(path, false) != full || p.Match(path, true) != partial {
			t.Fatalf("%q against %q: answers changed between calls", pattern, path)
		}
		if got := withoutNeeds(p).Match(path, false); got != full {
			t.Fatalf("%q against %q: %v, but %v without the text shortcut", pattern, path, full, got)
		}
		if path != "/" {
			doubled := strings.ReplaceAll(path, "/", "//")
			if p.Match(doubled, false) != full || p.Match(doubled, true) != partial {
				t.Fatalf("%q: %q and %q disagree", pattern, path, doubled)
			}
		}
		if pattern != "" && pattern[0] != '#' {
			if q, err := Compile("!" + pattern); err == nil {
				if q.Negate() == p.Negate() || q.Relative() != p.Relative() ||
					q.Match(path, false) != full || q.Match(path, true) != partial {
					t.Fatalf("%q and its negation disagree on %q", pattern, path)
				}
			}
		}
		if literal(pattern) {
			if !p.Match(pattern, false) || !p.Match(flipASCIICase(pattern), false) {
				t.Fatalf("%q does not match itself", pattern)
			}
		}
		ParseIgnoreFile(pattern + "\n" + path)
	})
}

// withoutNeeds is p matched the long way, never skipping an expansion for
// lacking the text it needs.
func withoutNeeds(p *Pattern) *Pattern {
	q := *p
	q.set = append([]compiled(nil), p.set...)
	for i := range q.set {
		q.set[i].need = ""
	}
	return &q
}

// literal reports whether pattern has nothing that minimatch treats
// specially, and no "." or ".." segments, which are resolved in patterns
// but not in paths.
func literal(pattern string) bool {
	if pattern == "" || pattern[0] == '!' || pattern[0] == '#' || strings.ContainsAny(pattern, `*?[]{}()\+@!`) {
		return false
	}
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func flipASCIICase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}
