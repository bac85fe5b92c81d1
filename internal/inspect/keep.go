package inspect

import (
	"context"
	"io"
)

// TarballKeeping is Tarball that also returns the contents of the files
// keep selects (a readme, say), each bounded like package.json.
func TarballKeeping(ctx context.Context, r io.Reader, compressedSize int64, lim Limits, keep func(path string) bool) (*Contents, map[string][]byte, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s, err := openStream(ctx, r, compressedSize, lim)
	if err != nil {
		return nil, nil, withAdvice(err)
	}
	return keeping(s, lim, keep)
}

// TarKeeping is TarballKeeping on the uncompressed tar stream a gzip
// member would hold: every check but those of the gzip layer and the
// compression ratio, for a writer that has the stream before it
// compresses it.
func TarKeeping(ctx context.Context, r io.Reader, lim Limits, keep func(path string) bool) (*Contents, map[string][]byte, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return keeping(openTar(ctx, r, lim), lim, keep)
}

func keeping(s *stream, lim Limits, keep func(path string) bool) (*Contents, map[string][]byte, error) {
	kept := map[string][]byte{}
	var total int64
	c, err := walkStream(s, lim, func(f File, r io.Reader) error {
		if !keep(f.Path) {
			return nil
		}
		if f.Size > lim.MaxPackageJSON || total+f.Size > 4*lim.MaxPackageJSON {
			return refuse(ErrLimit, f.Path, "%d bytes is more than airlock reads of a file npm puts in the publish document", f.Size)
		}
		data := make([]byte, f.Size)
		if _, err := io.ReadFull(r, data); err != nil {
			return err
		}
		total += f.Size
		kept[f.Path] = data
		return nil
	})
	if err != nil {
		return nil, nil, withAdvice(err)
	}
	return c, kept, nil
}
