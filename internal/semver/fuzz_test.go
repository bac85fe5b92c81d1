package semver

import (
	"strings"
	"testing"
)

// FuzzParseRange checks that no input makes ParseRange or Satisfies panic,
// and that the ranges built from a version it reads all admit that version.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3-beta.1+b", "^0.0.1", ">= 1.x <2", "1 - 2.3", "1.2.3-rc.1 - 2", "*||~>1.2", "9007199254740991.0.0", "1.2.3*", "1.x.2", "1+b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, ok := ParseRange(s); ok {
			r.Satisfies(s)
			r.Satisfies("1.2.3")
		}
		if _, ok := Parse(s); !ok {
			return
		}
		v := strings.TrimSpace(s) // as Parse does; a range's grammar allows only ASCII spaces
		for _, rs := range []string{v, "=" + v, "^" + v, "~" + v, ">=" + v, "<=" + v, v + " - " + v, "<0.0.0-0 || " + v} {
			r, ok := ParseRange(rs)
			if !ok {
				t.Fatalf("ParseRange(%q) failed, but %q is a version", rs, s)
			}
			if !r.Satisfies(s) {
				t.Errorf("%q does not satisfy %q", s, rs)
			}
		}
	})
}
