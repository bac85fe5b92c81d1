//go:build !(aix || dragonfly || freebsd || linux || netbsd || openbsd || solaris)

package network

import "crypto/x509"

// SystemRoots is the platform's verifier on macOS and Windows (and
// crypto/x509's roots elsewhere): there crypto/x509 reads no environment
// variable, so its pool is used as it is.
func SystemRoots() (*x509.CertPool, error) { return x509.SystemCertPool() }
