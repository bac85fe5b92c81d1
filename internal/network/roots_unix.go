//go:build aix || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package network

import (
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SystemRoots loads the roots crypto/x509 would load on this system,
// from the same bundle files and folders, but never from SSL_CERT_FILE
// or SSL_CERT_DIR, which Go reads on Unix and an earlier CI job can set.
// As in crypto/x509, the first bundle file found is read, and every file
// of every folder.
func SystemRoots() (*x509.CertPool, error) {
	return loadRoots(bundleFiles, bundleDirs)
}

func loadRoots(files, dirs []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	found := false
	var firstErr error
	note := func(err error) {
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = err
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			found = pool.AppendCertsFromPEM(data) || found
			break
		}
		note(err)
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			note(err)
			continue
		}
		for _, e := range entries {
			if sameFolderLink(d, e) {
				continue // a hash link to a file read anyway
			}
			if data, err := os.ReadFile(filepath.Join(d, e.Name())); err == nil {
				found = pool.AppendCertsFromPEM(data) || found
			}
		}
	}
	if !found && firstErr != nil {
		return nil, firstErr
	}
	return pool, nil
}

// sameFolderLink reports whether e is a symbolic link to a file in the
// same folder (c_rehash's hash links).
func sameFolderLink(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	target, err := os.Readlink(filepath.Join(dir, e.Name()))
	return err == nil && !strings.Contains(target, "/")
}
