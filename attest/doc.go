// Package attest will build, sign and verify npm-compatible provenance
// (in-toto statements with SLSA predicates, signed keylessly with
// Sigstore). It is empty until that capability lands.
package attest
