// Package tarball writes the uncompressed tar stream of a package byte for
// byte as npm pack writes it: node-tar 7 in portable mode with pacote's
// options (prefix "package/", mtime 1985-10-26T08:15:00Z, bins made
// executable).
package tarball

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options says where the listed files live and which are bins.
type Options struct {
	// Dir is the package directory the listed paths are relative to.
	Dir string
	// Bin is the manifest's "bin" map after npm's normalization (a string
	// bin becomes {name: target}). A listed path gets 0o111 added to its
	// mode when pacote's is-package-bin matches it, and that check first
	// drops the path's first component: "bin/cli.js" is compared as
	// "cli.js", so a bin "bin/cli.js" does NOT make bin/cli.js executable
	// but does make x/bin/cli.js executable. npm does this; so do we.
	Bin map[string]string
}

// Entry is one archive entry as written.
type Entry struct {
	// Path is the archive name without "package/", as npm pack reports it.
	Path string
	// Size is the content length: 0 for hard links and symlinks.
	Size int64
	// Mode is the permission bits in the header.
	Mode uint32
	// Type is the tar typeflag: '0' file, '1' hard link, '2' symlink.
	Type byte
	// Linkname is a link's target; hard links carry the "package/" prefix.
	Linkname string
}

// ErrChanged is returned (wrapped, with the file's name) when a file is
// replaced or changes size while it is being packed.
var ErrChanged = errors.New("file changed while being packed")

// readSize bounds the buffer file content is copied through.
const readSize = 64 << 10

var zeros [2 * blockSize]byte

// Write writes the tar stream npm would write for files, in that order,
// and ends it with node-tar's trailer (two zero blocks, no record
// padding). files are '/'-separated paths relative to opts.Dir as
// npm-packlist lists them, with "./" before names starting with "@".
//
// Regular files and symlinks are archived; a directory is an error since
// npm never lists one, and other file types are skipped silently as
// node-tar skips them. A file with several names becomes a hard-link entry
// for every name after the first listed one. (On some such layouts npm 11
// itself fails: node-tar's queue stalls, "Exit handler never called!", or
// throws after the archive is complete. Write writes the archive anyway,
// in list order, as node-tar does whenever it succeeds.)
//
// Memory use does not depend on file sizes. On error, w may have been
// given part of the archive.
func Write(ctx context.Context, w io.Writer, files []string, opts Options) ([]Entry, error) {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, readSize)
	}
	tw := &writer{
		w:     bw,
		opts:  opts,
		links: map[fileID]string{},
	}
	entries := make([]Entry, 0, len(files))
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, ok, err := tw.add(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("packing %s: %w", p, err)
		}
		if ok {
			entries = append(entries, e)
		}
	}
	if _, err := bw.Write(zeros[:]); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return entries, nil
}

type fileID struct{ dev, ino uint64 }

// stat is the part of lstat(2) node-tar looks at.
type stat struct {
	mode     uint32 // raw st_mode
	size     int64
	kind     fs.FileMode // fs.ModeType bits
	dev, ino uint64
	nlink    uint64
}

type writer struct {
	w     *bufio.Writer
	opts  Options
	links map[fileID]string // first listed name of each multiply linked file
	buf   []byte
	block [blockSize]byte
}

func (tw *writer) add(ctx context.Context, p string) (Entry, bool, error) {
	name, err := entryPath(p)
	if err != nil {
		return Entry{}, false, err
	}
	abs := filepath.Join(tw.opts.Dir, p)
	st, err := lstat(abs)
	if err != nil {
		return Entry{}, false, err
	}
	mode := st.mode
	// pacote's filter sees the path as listed, "./" included.
	if isPackageBin(tw.opts.Bin, p) {
		mode |= 0o111
	}
	h := header{
		path: name,
		mode: int64(modeFix(mode)),
	}
	// node-tar resolves link targets against cwd, which drops the "./".
	rel := strings.TrimPrefix(p, "./")

	var f openFile
	switch st.kind {
	case 0:
		h.typ = typeFile
		h.size = st.size
		// node-tar turns every name after the first of a multiply linked
		// file into a Link entry. Its async queue defers such a file until
		// the entries before it are done, so "first" is list order.
		if st.nlink > 1 {
			id := fileID{st.dev, st.ino}
			if first, ok := tw.links[id]; ok {
				h.typ = typeLink
				h.size = 0
				h.linkpath, h.hasLink = prefixPath(first), true
				break
			}
			tw.links[id] = rel
		}
		if st.size > 0 { // node-tar never opens empty files
			f, err = openSame(abs, st)
			if err != nil {
				return Entry{}, false, err
			}
			defer f.Close()
		}
	case fs.ModeSymlink:
		target, err := os.Readlink(abs)
		if err != nil {
			return Entry{}, false, err
		}
		h.typ = typeSymlink
		h.linkpath, h.hasLink = target, true
	case fs.ModeDir:
		return Entry{}, false, errors.New("is a directory; list the files in it instead")
	default:
		return Entry{}, false, nil // sockets, FIFOs, devices: node-tar omits them
	}

	if h.encode(&tw.block) {
		px := pax{path: h.path, linkpath: h.linkpath, hasLink: h.hasLink, size: h.size}
		if _, err := tw.w.Write(px.encode()); err != nil {
			return Entry{}, false, err
		}
	}
	if _, err := tw.w.Write(tw.block[:]); err != nil {
		return Entry{}, false, err
	}
	if f != nil {
		if err := tw.copyContent(ctx, f, st.size); err != nil {
			return Entry{}, false, err
		}
	}
	return Entry{
		Path:     strings.TrimPrefix(h.path, "package/"),
		Size:     h.size,
		Mode:     uint32(h.mode),
		Type:     h.typ,
		Linkname: h.linkpath,
	}, true, nil
}

// modeFix is node-tar's mode-fix.js for files in portable mode.
func modeFix(mode uint32) uint32 {
	return (mode&0o7777 | 0o600) &^ 0o22
}

// modeFromGo rebuilds st_mode permission bits where there is no Stat_t.
func modeFromGo(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// openFile is a file being archived.
type openFile interface {
	io.Reader
	Close() error
}

// sameFile reports as ErrChanged a file that is no longer the one lstat
// saw: another file, or a different size.
func sameFile(got, want stat) error {
	if got.kind != 0 || got.dev != want.dev || got.ino != want.ino {
		return fmt.Errorf("%w: replaced", ErrChanged)
	}
	if got.size != want.size {
		return fmt.Errorf("%w: size was %d bytes, now %d", ErrChanged, want.size, got.size)
	}
	return nil
}

// copyContent copies exactly size bytes and the block padding, failing if
// the file turns out shorter or longer.
func (tw *writer) copyContent(ctx context.Context, f io.Reader, size int64) error {
	if tw.buf == nil {
		tw.buf = make([]byte, readSize+1)
	}
	var done int64
	atEnd := false
	for done < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Asking for one byte more than is left proves, when the read
		// comes back short, that the file ends where lstat said: a
		// regular file reads short only at its end. That saves the read
		// that would otherwise look for the end.
		want := min(int64(len(tw.buf)), size-done+1)
		n, err := f.Read(tw.buf[:want])
		if int64(n) > size-done {
			return fmt.Errorf("%w: size was %d bytes, now longer", ErrChanged, size)
		}
		if n > 0 {
			if _, werr := tw.w.Write(tw.buf[:n]); werr != nil {
				return werr
			}
			done += int64(n)
		}
		if err == io.EOF {
			return fmt.Errorf("%w: size was %d bytes, read only %d", ErrChanged, size, done)
		}
		if err != nil {
			return err
		}
		atEnd = int64(n) < want
	}
	if !atEnd {
		// The last read filled the buffer: look for the end.
		if n, err := f.Read(tw.buf[:1]); n > 0 {
			return fmt.Errorf("%w: size was %d bytes, now longer", ErrChanged, size)
		} else if err != nil && err != io.EOF {
			return err
		}
	}
	if pad := roundBlock(size) - size; pad > 0 {
		if _, err := tw.w.Write(zeros[:pad]); err != nil {
			return err
		}
	}
	return nil
}
