package jwt

import (
	"testing"
	"time"
)

// BenchmarkParseVerifyRS256 is what the front door does with each ID
// token a CI job presents: parse, check the RS256 signature, validate.
func BenchmarkParseVerifyRS256(b *testing.B) {
	rsaKey, _, _, _ := keys(b)
	set := testSet(b)
	tok, err := Sign(rsaKey, "rsa", map[string]any{"iss": "https://issuer", "aud": "npm:registry.npmjs.org",
		"exp": time.Now().Add(time.Hour).Unix(), "repository": "acme/widget",
		"workflow_ref": "acme/widget/.github/workflows/release.yml@refs/heads/main"})
	if err != nil {
		b.Fatal(err)
	}
	e := Expect{Issuer: "https://issuer", Audience: "npm:registry.npmjs.org", Now: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		t, err := Parse(tok)
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Verify(set); err != nil {
			b.Fatal(err)
		}
		if err := t.Validate(e); err != nil {
			b.Fatal(err)
		}
	}
}
