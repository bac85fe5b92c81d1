package inspect

import (
	"context"
	"crypto/sha256"
	"io"
)

// Digest is the sha256 of a file's data.
type Digest [sha256.Size]byte

// TarballDigests reads a tarball as Tarball does and also returns the
// sha256 of every regular file's data, package.json included, by path:
// what two tarballs must agree on to hold the same package, whatever
// their compression.
func TarballDigests(ctx context.Context, r io.Reader, compressedSize int64, lim Limits) (*Contents, map[string]Digest, error) {
	sums := map[string]Digest{}
	h := sha256.New()
	c, err := walk(ctx, r, compressedSize, lim, func(f File, data io.Reader) error {
		h.Reset()
		if _, err := io.Copy(h, data); err != nil {
			return err
		}
		sums[f.Path] = Digest(h.Sum(nil))
		return nil
	})
	if err != nil {
		return nil, nil, withAdvice(err)
	}
	sums["package.json"] = sha256.Sum256(c.PackageJSON)
	return c, sums, nil
}
