// Package tardiff compares two package tarballs and finds the changes that
// matter for security: install-time scripts, new dependencies and where
// they come from, new native binaries, obfuscated or minified code, new
// uses of processes, the network, the environment and credential files,
// invisible Unicode, and changes of the provenance that vouches for them.
//
// Both tarballs are hostile input. They are read with inspect.Tarball, the
// check the publish job makes, before anything here looks at a file, and
// every reading is bounded. Nothing in a tarball is run.
package tardiff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/manifest"
)

// Limits bound what Read keeps of a tarball's files for diffing and
// scanning; the tarball itself is bounded by Inspect. Zero fields mean
// their defaults.
type Limits struct {
	Inspect inspect.Limits
	// MaxFile is the largest file kept whole; larger ones keep only
	// their first HeadSize bytes, and are reported as not scanned.
	MaxFile int64
	// MaxTotal bounds the bytes kept over all files.
	MaxTotal int64
}

// HeadSize is how much of a file too large to keep is read, for its
// magic number.
const HeadSize = 4096

// DefaultLimits are far above the files of real packages (the largest
// JavaScript bundles are a few MiB) and far below what would hurt.
func DefaultLimits() Limits {
	return Limits{Inspect: inspect.DefaultLimits(), MaxFile: 16 << 20, MaxTotal: 256 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFile <= 0 {
		l.MaxFile = d.MaxFile
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = d.MaxTotal
	}
	return l
}

// Package is one side of a comparison: a tarball that passed inspection,
// with its files' contents.
type Package struct {
	// Label names the package in reports: a file name, name@version or
	// stage:ID.
	Label       string
	Manifest    *manifest.Manifest
	PackageJSON []byte
	Files       []File
	// Size is the tarball's size; UnpackedSize the sum of its files'.
	Size, UnpackedSize int64
	Integrity          string // sha512, as SRI
	Shasum             string // sha1, hex
	SHA512             []byte
	// Provenance is what the caller found out about the version's
	// provenance; nil when it was not looked for.
	Provenance *Provenance
}

// File is one regular file of a Package.
type File struct {
	Path string
	Size int64
	Mode fs.FileMode
	// Digest is the sha256 of the whole file.
	Digest [sha256.Size]byte
	// Data is the file's contents; only the first HeadSize bytes when
	// Partial.
	Data    []byte
	Partial bool
}

// ErrReaders: the second reading of a tarball did not see the entries
// inspection saw. It should never happen; it is refused, not guessed at.
var ErrReaders = errors.New("the tarball reads differently on a second pass")

// Read inspects the tarball data as publish does and reads its files.
func Read(ctx context.Context, label string, data []byte, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	c, err := inspect.Tarball(ctx, bytes.NewReader(data), int64(len(data)), lim.Inspect)
	if err != nil {
		return nil, err
	}
	return ReadInspected(ctx, label, data, c, lim)
}

// ReadInspected is Read for data a caller has inspected already, with
// lim.Inspect: c is what inspect.Tarball returned for it.
func ReadInspected(ctx context.Context, label string, data []byte, c *inspect.Contents, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	p := &Package{Label: label, Manifest: c.Manifest, PackageJSON: c.PackageJSON, Size: int64(len(data)), UnpackedSize: c.UnpackedSize}
	s512 := sha512.Sum512(data)
	s1 := sha1.Sum(data)
	p.SHA512 = s512[:]
	p.Integrity = "sha512-" + base64.StdEncoding.EncodeToString(s512[:])
	p.Shasum = hex.EncodeToString(s1[:])

	// Inspection accepted only a dialect every tar reader reads alike, so
	// archive/tar now sees the same regular files in the same order; the
	// paths are inspection's, and the sizes must agree.
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReaders, err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	var total int64
	for i := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			if i != len(c.Files) {
				return nil, fmt.Errorf("%w: %d files, inspection counted %d", ErrReaders, i, len(c.Files))
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrReaders, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if i >= len(c.Files) || c.Files[i].Size != h.Size {
			return nil, fmt.Errorf("%w: entry %q", ErrReaders, h.Name)
		}
		f := File{Path: c.Files[i].Path, Size: h.Size, Mode: c.Files[i].Mode}
		i++
		keep := f.Size <= lim.MaxFile && total+f.Size <= lim.MaxTotal
		sum := sha256.New()
		if keep {
			f.Data = make([]byte, f.Size)
			if _, err := io.ReadFull(tr, f.Data); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrReaders, err)
			}
			sum.Write(f.Data)
			total += f.Size
		} else {
			f.Partial = true
			var head bytes.Buffer
			if _, err := io.Copy(io.MultiWriter(sum, &limitedBuffer{&head, HeadSize}), tr); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrReaders, err)
			}
			f.Data = head.Bytes()
		}
		copy(f.Digest[:], sum.Sum(nil))
		p.Files = append(p.Files, f)
	}
	return p, nil
}

// limitedBuffer keeps the first n bytes written and accepts the rest.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// file returns the file at path, or nil.
func (p *Package) file(path string) *File {
	for i := range p.Files {
		if p.Files[i].Path == path {
			return &p.Files[i]
		}
	}
	return nil
}
