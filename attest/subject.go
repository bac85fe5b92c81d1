package attest

import (
	"context"
	"crypto/sha512"
	"fmt"
	"io"

	"github.com/airlockdev/airlock/internal/inspect"
)

// ReadSubject reads a package tarball of size bytes as hostile input
// (inspect.Tarball, bounded by lim) and returns the subject npm would
// name for it: the package.json name and version, and the sha512 of
// every byte of r.
func ReadSubject(ctx context.Context, r io.Reader, size int64, lim inspect.Limits) (Subject, error) {
	h := sha512.New()
	tee := io.TeeReader(r, h)
	contents, err := inspect.Tarball(ctx, tee, size, lim)
	if err != nil {
		return Subject{}, fmt.Errorf("reading the tarball: %w", err)
	}
	// The digest covers the whole file, including what the tar reader
	// had no need to read (end-of-archive padding).
	if _, err := io.Copy(h, r); err != nil {
		return Subject{}, fmt.Errorf("reading the tarball: %w", err)
	}
	return Subject{Name: contents.Manifest.Name, Version: contents.Manifest.Version, SHA512: h.Sum(nil)}, nil
}
