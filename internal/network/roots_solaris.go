package network

// The bundle files crypto/x509 looks for on Solaris and illumos, and the
// folder it reads.
var (
	bundleFiles = []string{"/etc/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cacert.pem"}
	bundleDirs  = []string{"/etc/certs/CA"}
)
