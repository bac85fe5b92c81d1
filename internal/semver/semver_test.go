package semver

import (
	"cmp"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	ordered := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0", "10.0.0"}
	for i := range ordered {
		for j := range ordered {
			a, _ := Parse(ordered[i])
			b, _ := Parse(ordered[j])
			if got, want := a.Compare(b), cmp.Compare(i, j); got != want {
				t.Errorf("%s compared with %s = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	a, _ := Parse("1.0.0+build.1")
	b, _ := Parse("1.0.0+build.2")
	if a.Compare(b) != 0 {
		t.Error("build metadata must not order versions")
	}
}

func TestParse(t *testing.T) {
	valid := []string{"0.0.0", "1.2.3", " 1.2.3 ", "v1.2.3", "1.2.3-0", "1.2.3-alpha.01a", "1.2.3+build.01", "9007199254740991.0.0"}
	invalid := []string{"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3-a..b", "1.2.3+", "=1.2.3", "9007199254740992.0.0", "1.2.3-" + strings.Repeat("a", 300)}
	for _, v := range valid {
		if _, ok := Parse(v); !ok {
			t.Errorf("Parse(%q) failed; node-semver reads it", v)
		}
	}
	for _, v := range invalid {
		if _, ok := Parse(v); ok {
			t.Errorf("Parse(%q) succeeded; node-semver throws", v)
		}
	}
}
