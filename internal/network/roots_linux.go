package network

// The bundle files crypto/x509 looks for on Linux, first found wins, and
// the folders it reads.
var (
	bundleFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem",
		"/etc/pki/tls/cacert.pem",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/ssl/cert.pem",
	}
	bundleDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
)
