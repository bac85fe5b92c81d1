//go:build dragonfly || freebsd || netbsd || openbsd

package network

// The bundle files crypto/x509 looks for on the BSDs, and the folders it
// reads.
var (
	bundleFiles = []string{
		"/usr/local/etc/ssl/cert.pem",
		"/etc/ssl/cert.pem",
		"/usr/local/share/certs/ca-root-nss.crt",
		"/etc/openssl/certs/ca-certificates.crt",
	}
	bundleDirs = []string{"/etc/ssl/certs", "/usr/local/share/certs", "/etc/openssl/certs"}
)
