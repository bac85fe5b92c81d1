package stage

import (
	"encoding/json"
	"testing"

	"github.com/airlockdev/airlock/internal/registry"
)

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

func TestCheckLatest(t *testing.T) {
	raw := json.RawMessage(`{"versions":{"1.0.0":{},"2.9.0":{},"2.10.0":{},"3.0.0":{"deprecated":"broken"},"4.0.0-beta.1":{}}}`)
	pk := &registry.Packument{Raw: raw}
	if err := json.Unmarshal(raw, pk); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version string
		chosen  bool
		refused bool
	}{
		{"2.10.1", false, false},
		{"3.0.1", false, false}, // above the deprecated 3.0.0, and the prerelease does not count
		{"2.10.0", false, true},
		{"2.9.1", false, true}, // 2.10.0 is higher: numbers, not strings
		{"2.11.0-rc.1", false, false},
		{"2.10.0-rc.1", false, true},
		{"1.0.1", true, false},
	} {
		err := checkLatest(plan{tag: "latest", tagChosen: tc.chosen}, tc.version, pk)
		if (err != nil) != tc.refused {
			t.Errorf("checkLatest(%s, tag chosen %v) = %v, want refused %v", tc.version, tc.chosen, err, tc.refused)
		}
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
