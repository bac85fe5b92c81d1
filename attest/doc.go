// Package attest builds npm-compatible provenance: the in-toto statement
// npm 11 signs for `npm publish --provenance`, reproduced byte for byte
// (SLSA provenance v1 in GitHub Actions, v0.2 in GitLab CI), so that a
// bundle airlock signs carries exactly what npm would have put in it.
//
// Signing and verification with Sigstore will land here too.
package attest
