package network

// The bundle file crypto/x509 looks for on AIX, and the folder it reads.
var (
	bundleFiles = []string{"/var/ssl/certs/ca-bundle.crt"}
	bundleDirs  = []string{"/var/ssl/certs"}
)
