package stage

import "testing"

func TestIsSemverRange(t *testing.T) {
	ranges := []string{"", " ", "1", "1.2", "1.2.3", "^1.2.3", "~1.2", ">=1.0.0 <2", "1.x", "*", "1.2.3 - 2.0.0", "1 || 2", "v1.2.3", "=1.0.0", "1.2.3-beta.1"}
	tags := []string{"latest", "next", "beta", "v1-maintenance", "1.x-lts", "canary", "release-2", "x1"}
	for _, r := range ranges {
		if !isSemverRange(r) {
			t.Errorf("isSemverRange(%q) = false, npm refuses it as a tag", r)
		}
	}
	for _, tag := range tags {
		if isSemverRange(tag) {
			t.Errorf("isSemverRange(%q) = true, npm accepts it as a tag", tag)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0", "10.0.0"}
	for i := range ordered {
		for j := range ordered {
			want := compareInts(i, j)
			if got := compareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("compareVersions(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if compareVersions("1.0.0+build.1", "1.0.0+build.2") != 0 {
		t.Error("build metadata must not order versions")
	}
}

func TestCheckPin(t *testing.T) {
	got := "sha512-abc"
	if err := checkPin("sha512-abc", got, false); err != nil {
		t.Errorf("matching pin refused: %v", err)
	}
	if err := checkPin("sha1-xyz sha512-abc", got, false); err != nil {
		t.Errorf("multi-hash SRI with a matching sha512 refused: %v", err)
	}
	for _, pin := range []string{"sha512-abd", "sha1-abc", "abc"} {
		if checkPin(pin, got, false) == nil {
			t.Errorf("pin %q accepted for %s", pin, got)
		}
	}
	if checkPin("", got, false) == nil || checkPin("", got, true) != nil {
		t.Error("an empty pin must need --allow-unpinned")
	}
}
