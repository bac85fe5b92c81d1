package pack

import "testing"

func TestValidRangeRefusesProtocols(t *testing.T) {
	if _, ok := validRange("npm:^1.0.0"); ok {
		t.Error(`validRange("npm:^1.0.0") = true; yarn refuses ranges with ":"`)
	}
	if _, ok := validRange("^1.0.0"); !ok {
		t.Error(`validRange("^1.0.0") = false; node-semver reads it`)
	}
}
