package inspect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// The gzip layer. Exactly one gzip member is accepted, with nothing after
// it: npm pack and airlock pack write one, and readers disagree about
// more (Node and Go read every member; Rust's GzDecoder and others stop
// after the first, and gzip(1) skips trailing garbage with a warning).
// Whatever comes after the member would be read by some consumers and not
// by others, so it is refused rather than ignored.

// stream is the decompressed tar stream, metered: every Read counts
// toward the unpacked-size and ratio limits and checks ctx, so a bomb is
// stopped while it inflates rather than after.
type stream struct {
	ctx        context.Context
	lim        Limits
	src        *counter      // compressed bytes read from the caller
	br         *bufio.Reader // over src; the gzip reader reads it bytewise, so what is left after the member stays here
	zr         *gzip.Reader  // nil for a tar stream read as it is
	compressed int64         // the caller's compressedSize
	n          int64         // decompressed bytes so far
	err        error         // sticky
}

type counter struct {
	r   io.Reader
	n   int64
	err error // the first error other than io.EOF: the caller's, not the data's
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func openStream(ctx context.Context, r io.Reader, compressedSize int64, lim Limits) (*stream, error) {
	src := &counter{r: r}
	s := &stream{ctx: ctx, lim: lim, src: src, br: bufio.NewReaderSize(src, 32<<10), compressed: compressedSize}
	magic, err := s.br.Peek(2)
	switch {
	case src.err != nil:
		return nil, fmt.Errorf("reading tarball: %w", src.err)
	case len(magic) == 0:
		return nil, refuse(ErrNotGzip, "", "the file is empty")
	case err != nil || magic[0] != 0x1f || magic[1] != 0x8b:
		if head, _ := s.br.Peek(262); len(head) == 262 && string(head[257:262]) == "ustar" {
			return nil, refuse(ErrNotGzip, "", "the file is an uncompressed tar archive; npm publishes gzip-compressed ones (.tgz)")
		}
		return nil, refuse(ErrNotGzip, "", "the file does not start with the gzip signature (1f 8b)")
	}
	zr, err := gzip.NewReader(s.br)
	if err != nil {
		return nil, s.gzipError(err)
	}
	zr.Multistream(false)
	s.zr = zr
	return s, nil
}

// openTar reads r as an uncompressed tar stream: what is inside the gzip
// member, for a writer that has it before compressing it.
func openTar(ctx context.Context, r io.Reader, lim Limits) *stream {
	src := &counter{r: r}
	return &stream{ctx: ctx, lim: lim, src: src, br: bufio.NewReaderSize(src, 32<<10), compressed: -1}
}

func (s *stream) gzipError(err error) error {
	if s.src.err != nil {
		return fmt.Errorf("reading tarball: %w", s.src.err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return refuse(ErrNotGzip, "", "the gzip stream is truncated")
	}
	return &EntryError{Reason: "corrupt gzip stream: " + err.Error(), Err: ErrNotGzip, cause: err}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	if s.zr == nil {
		return s.readTar(p)
	}
	n, err := s.zr.Read(p)
	s.n += int64(n)
	switch {
	case s.n > s.lim.MaxUnpackedSize:
		s.err = refuse(ErrLimit, "", "more than %d bytes unpacked", s.lim.MaxUnpackedSize)
	case s.n > ratioGrace && float64(s.n) > s.lim.MaxRatio*float64(max(s.compressed, s.src.n)):
		s.err = refuse(ErrLimit, "", "compression ratio above %g: %d bytes unpacked from %d", s.lim.MaxRatio, s.n, max(s.compressed, s.src.n))
	case err == io.EOF:
		s.err = s.afterMember()
	case err != nil:
		s.err = s.gzipError(err)
	}
	return n, s.err
}

func (s *stream) readTar(p []byte) (int, error) {
	n, err := s.br.Read(p)
	s.n += int64(n)
	switch {
	case s.n > s.lim.MaxUnpackedSize:
		s.err = refuse(ErrLimit, "", "more than %d bytes unpacked", s.lim.MaxUnpackedSize)
	case s.src.err != nil:
		s.err = fmt.Errorf("reading tarball: %w", s.src.err)
	case err != nil:
		s.err = err
	}
	return n, s.err
}

// afterMember checks that nothing follows the gzip member; it returns
// io.EOF when nothing does.
func (s *stream) afterMember() error {
	next, err := s.br.Peek(2)
	switch {
	case s.src.err != nil:
		return fmt.Errorf("reading tarball: %w", s.src.err)
	case len(next) == 0 && err == io.EOF:
		return io.EOF
	case len(next) == 2 && next[0] == 0x1f && next[1] == 0x8b:
		return refuse(ErrNotGzip, "", "a second gzip member follows the first; npm writes one, and readers disagree about the rest")
	}
	return refuse(ErrNotGzip, "", "data follows the end of the gzip stream")
}

// finish reads what is left of the decompressed stream: the tar reader
// stopped at the end-of-archive marker, and only zero padding may follow.
// Reading to the end also makes gzip check its CRC and length.
func (s *stream) finish() error {
	var buf [8 << 10]byte
	for {
		n, err := s.Read(buf[:])
		for _, b := range buf[:n] {
			if b != 0 {
				return refuse(ErrNotTar, "", "data follows the end-of-archive marker; GNU tar --ignore-zeros and others would read it as more entries")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
