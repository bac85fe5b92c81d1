// Package attest makes and checks npm-compatible provenance: the in-toto
// statement npm 11 signs for `npm publish --provenance`, reproduced byte
// for byte (SLSA provenance v1 in GitHub Actions, v0.2 in GitLab CI);
// keyless signing with Sigstore (a Fulcio certificate for the CI's OIDC
// identity, a DSSE envelope, a Rekor entry, a v0.3 bundle); the checks the
// registry would refuse a bundle for, made before anything is signed; and
// verification of a bundle against a trusted root and an identity policy.
package attest
