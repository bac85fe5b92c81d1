package jsvalue

import (
	"encoding/json"
	"math"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"}, {"x", "x"}, {true, "true"}, {1.0, "1"}, {1.5, "1.5"}, {1e21, "1e+21"}, {1.5e-7, "1.5e-7"},
		{json.Number("12"), "12"}, {[]any{"a", nil, 2.0}, "a,,2"}, {map[string]any{}, "[object Object]"},
		{math.NaN(), "NaN"}, {math.Inf(-1), "-Infinity"}, {-0.0, "0"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruthy(t *testing.T) {
	for _, v := range []any{true, "a", 1.0, json.Number("2"), []any{}, map[string]any{}} {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false", v)
		}
	}
	for _, v := range []any{nil, false, "", 0.0, json.Number("0"), math.NaN()} {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true", v)
		}
	}
}

func TestTrim(t *testing.T) {
	if got := Trim("\ufeff\u00a0 x y\u2028\t"); got != "x y" {
		t.Errorf("Trim = %q", got)
	}
	if got := Trim("\u0085x"); got != "\u0085x" {
		t.Errorf("Trim removed U+0085, which JavaScript keeps: %q", got)
	}
}

func TestJSNumber(t *testing.T) {
	// Values and strings from node -e 'console.log(String(n))'.
	tests := map[float64]string{
		1e21:                  "1e+21",
		1e-7:                  "1e-7",
		123456789012345680000: "123456789012345680000",
		0.1:                   "0.1",
		1.5:                   "1.5",
		100:                   "100",
		1e300:                 "1e+300",
		5e-324:                "5e-324",
		9007199254740992:      "9007199254740992",
		-1.5e-9:               "-1.5e-9",
		0.000001:              "0.000001",
	}
	for in, want := range tests {
		if got := Number(in); got != want {
			t.Errorf("Number(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestWellFormed(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"abc", "abc"},
		{"a\xffb", "a\ufffdb"},
		{"a\xe2\x82b", "a\ufffdb"},             // one U+FFFD for a truncated sequence
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // a surrogate: ED A0 is never valid
		{"\xf0\x9f\x98", "\ufffd"},
		{"\xc0\xaf", "\ufffd\ufffd"},
	} {
		if got := WellFormed(tt.in); got != tt.want {
			t.Errorf("WellFormed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLength(t *testing.T) {
	for s, want := range map[string]int{
		"":                  0,
		"abc":               3,
		"a—b":               3, // U+2014 in Rekor checkpoints: 3 bytes, 1 unit
		"😀":                 2, // a surrogate pair
		"\xff\xfe":          2, // two replacement characters
		"\xe2\x80":          1, // one maximal ill-formed subsequence
		"é\u2028\U0010ffff": 4,
	} {
		if got := Length(s); got != want {
			t.Errorf("Length(%q) = %d, want %d", s, got, want)
		}
	}
}
