package pack

import (
	"encoding/json"
	"slices"
	"testing"
)

// nodeSemver is what node-semver 7 (npm 11's) answers for each range:
// whether new Range(r) accepts it, and which of semverVersions satisfy it.
// Generated with npm's own semver; yarn decides workspace: ranges with it.
const nodeSemver = `[["",true,["0.0.3","0.2.5","1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0","0.0.0"]],["*",true,["0.0.3","0.2.5","1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0","0.0.0"]],["x",true,["0.0.3","0.2.5","1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0","0.0.0"]],["1",true,["1.0.0","1.2.3","1.2.4","1.3.0"]],["1.x",true,["1.0.0","1.2.3","1.2.4","1.3.0"]],["1.2",true,["1.2.3","1.2.4"]],["1.2.3",true,["1.2.3"]],["=1.2.3",true,["1.2.3"]],["v1.2.3",true,["1.2.3"]],["^1.2.3",true,["1.2.3","1.2.4","1.3.0"]],["^0.2.3",true,["0.2.5"]],["^0.0.3",true,["0.0.3"]],["^0",true,["0.0.3","0.2.5","0.0.0"]],["^0.0",true,["0.0.3","0.0.0"]],["^1.2.3-beta.2",true,["1.2.3","1.2.4","1.3.0","1.2.3-beta.3"]],["~1.2.3",true,["1.2.3","1.2.4"]],["~1.2",true,["1.2.3","1.2.4"]],["~1",true,["1.0.0","1.2.3","1.2.4","1.3.0"]],["~1.2.3-beta",true,["1.2.3","1.2.4","1.2.3-beta.3"]],[">=1.2.3",true,["1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0"]],[">1.2",true,["1.3.0","2.0.0","2.3.9","2.4.0"]],["<1.2",true,["0.0.3","0.2.5","1.0.0","0.0.0"]],["<=1.2",true,["0.0.3","0.2.5","1.0.0","1.2.3","1.2.4","0.0.0"]],[">1",true,["2.0.0","2.3.9","2.4.0"]],["<1",true,["0.0.3","0.2.5","0.0.0"]],["1.2.3 - 2.3",true,["1.2.3","1.2.4","1.3.0","2.0.0","2.3.9"]],["1.2 - 2.3.4",true,["1.2.3","1.2.4","1.3.0","2.0.0"]],[">=1.0.0 <2.0.0",true,["1.0.0","1.2.3","1.2.4","1.3.0"]],[">= 1.0.0",true,["1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0"]],["^1.0.0 || ^2.0.0",true,["1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0"]],["1.2.3-beta",true,[]],["latest",false,null],["a.b.c",false,null],["1.2.3.4",false,null],["^1.2.3-01",false,null],[">=1.2.3-0",true,["1.2.3","1.2.4","1.3.0","1.2.3-beta.3","1.2.3-alpha","2.0.0","2.3.9","2.4.0"]],["~>1.2",true,["1.2.3","1.2.4"]],["packages/b",false,null],[">x",true,[]],["<*",true,[]],["1 - 2",true,["1.0.0","1.2.3","1.2.4","1.3.0","2.0.0","2.3.9","2.4.0"]]]`

var semverVersions = []string{"0.0.3", "0.2.5", "1.0.0", "1.2.3", "1.2.4", "1.3.0", "1.2.3-beta.3", "1.2.3-alpha", "2.0.0", "2.3.9", "2.4.0", "3.0.0-rc.1", "0.0.0"}

func TestSemverMatchesNodeSemver(t *testing.T) {
	var cases [][3]json.RawMessage
	if err := json.Unmarshal([]byte(nodeSemver), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var r string
		var valid bool
		var want []string
		json.Unmarshal(c[0], &r)
		json.Unmarshal(c[1], &valid)
		json.Unmarshal(c[2], &want)
		rng, ok := parseRange(r)
		if ok != valid {
			t.Errorf("parseRange(%q) ok = %v, node-semver: %v", r, ok, valid)
			continue
		}
		if !ok {
			continue
		}
		var got []string
		for _, v := range semverVersions {
			if rng.satisfies(v) {
				got = append(got, v)
			}
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("range %q satisfied by %v, node-semver: %v", r, got, want)
		}
	}
	if _, ok := validRange("npm:^1.0.0"); ok {
		t.Error(`validRange("npm:^1.0.0") = true; yarn refuses ranges with ":"`)
	}
}
