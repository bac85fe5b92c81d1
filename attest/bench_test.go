package attest

import (
	"crypto/sha512"
	"testing"
)

// BenchmarkVerifyBundle verifies sigstore@1.3.0's real npm provenance
// against the public-good root, as 'airlock verify provenance' does once
// the bundle is at hand.
func BenchmarkVerifyBundle(b *testing.B) {
	bundle := readFixture(b, realBundle)
	subject := realSubject(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyBundle(bundle, subject, VerifyOptions{Policy: realPolicy}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatement builds the GitHub Actions statement.
func BenchmarkStatement(b *testing.B) {
	sum := sha512.Sum512([]byte("tarball"))
	s := Subject{Name: "@octo-org/demo", Version: "1.2.3", SHA512: sum[:]}
	lookup := lookupIn(githubFull)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Statement(s, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
