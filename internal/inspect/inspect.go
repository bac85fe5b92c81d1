// Package inspect reads a package tarball as hostile input: streaming, bounded, every entry checked.
//
// The publish job runs it before anything irreversible. It accepts only a
// narrow dialect of tar that every reader in the npm ecosystem reads the
// same way (npm's node-tar, Go's archive/tar, GNU tar, tar-stream): one
// gzip member holding a ustar or GNU tar stream of regular files and
// folders under one top folder. Anything a consumer's extractor could read
// differently from what was checked here (a "parser differential") is
// refused, as are links, devices and decompression bombs. See reader.go
// for the tar rules and names.go for the path rules.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/manifest"
)

// Limits bound the work and memory a tarball can cost. A zero or negative
// field means its default: a limit cannot be switched off by accident.
type Limits struct {
	// MaxEntries bounds the archive's entries: files, folders and pax
	// global headers (extended headers ride on their entry).
	MaxEntries int
	// MaxEntrySize bounds one file's size.
	MaxEntrySize int64
	// MaxUnpackedSize bounds the whole decompressed tar stream, headers
	// and padding included, so it also stops bombs hidden in padding.
	MaxUnpackedSize int64
	// MaxRatio bounds decompressed bytes per compressed byte. It applies
	// once more than ratioGrace bytes are decompressed.
	MaxRatio float64
	// MaxPackageJSON bounds package.json, the one file held in memory.
	MaxPackageJSON int64
	// MaxPathLength bounds an entry's name in bytes, top folder included.
	MaxPathLength int
}

// ratioGrace is how much may be decompressed before MaxRatio applies: a
// small tarball can have a huge ratio (a 1 MiB file of zeros compresses
// to 1 KiB) without costing anything.
const ratioGrace = 4 << 20

// DefaultLimits returns limits far above real packages and far below what
// would hurt the publish job.
func DefaultLimits() Limits {
	return Limits{
		// The largest packages on the registry (icon sets, type
		// collections) hold tens of thousands of files. The name index
		// kept for duplicate checks grows with this, not with file sizes.
		MaxEntries: 100_000,
		// Native binaries shipped in packages are tens of MiB
		// (@esbuild/linux-x64 is 10 MiB); nothing legitimate needs more.
		MaxEntrySize: 512 << 20,
		// typescript unpacks to 22 MiB. Gunzipping 1 GiB takes a couple of
		// seconds, so a bomb costs little before it is stopped.
		MaxUnpackedSize: 1 << 30,
		// Code and JSON compress 3 to 30 times; deflate cannot exceed
		// about 1032. 200 leaves room for data-heavy packages while a
		// bomb (zeros) is stopped after ratioGrace bytes.
		MaxRatio: 200,
		// Real package.json files are at most a few hundred KiB (VS Code
		// extensions with large "contributes" sections).
		MaxPackageJSON: 1 << 20,
		// PATH_MAX on Linux; npm itself has no limit.
		MaxPathLength: 4096,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = d.MaxEntrySize
	}
	if l.MaxUnpackedSize <= 0 {
		l.MaxUnpackedSize = d.MaxUnpackedSize
	}
	if !(l.MaxRatio > 0) { // also NaN
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxPackageJSON <= 0 {
		l.MaxPackageJSON = d.MaxPackageJSON
	}
	if l.MaxPathLength <= 0 {
		l.MaxPathLength = d.MaxPathLength
	}
	return l
}

// Contents is what an accepted tarball holds.
type Contents struct {
	// PackageJSON is <root>/package.json as stored.
	PackageJSON []byte
	// Manifest is PackageJSON parsed with npm's normalization.
	Manifest *manifest.Manifest
	// Root is the single top folder every entry is under: "package" for
	// npm pack, but npm strips it whatever it is (@types packages use
	// the package's own name, e.g. "node").
	Root string
	// Files are the regular files in archive order. Folders are not
	// listed: npm's own report leaves them out too.
	Files []File
	// UnpackedSize is the sum of the files' sizes, as npm reports it.
	UnpackedSize int64
	// Entries counts the archive's files, folders and pax global headers.
	Entries int
}

// File is one regular file of the package.
type File struct {
	// Path is the name below Root, '/'-separated, e.g. "lib/index.js".
	Path string
	Size int64
	// Mode is the permission bits (no setuid, setgid or sticky bit).
	Mode fs.FileMode
}

// The kinds of refusal, for errors.Is. Every refusal is an *EntryError
// wrapping one of them.
var (
	ErrNotGzip       = errors.New("not a valid gzip stream")
	ErrNotTar        = errors.New("not a valid tar archive")
	ErrUnsafePath    = errors.New("unsafe entry name")
	ErrLink          = errors.New("link entry")
	ErrSpecialFile   = errors.New("special file")
	ErrDuplicate     = errors.New("duplicate entry")
	ErrLimit         = errors.New("limit exceeded")
	ErrNoPackageJSON = errors.New("no package.json")
	ErrBadManifest   = errors.New("invalid package.json")
)

// EntryError says which entry was refused and why.
type EntryError struct {
	// Entry is the entry's name as the archive spells it (the pax or GNU
	// long name when there is one); "" when the problem is with the
	// archive as a whole.
	Entry string
	// Reason is what is wrong, in words.
	Reason string
	// Err is the kind of refusal: ErrNotGzip, ErrUnsafePath, ….
	Err error

	cause error // an underlying error, e.g. from manifest.Parse
}

func (e *EntryError) Error() string {
	if e.Entry == "" {
		return e.Reason
	}
	return "entry " + quote(e.Entry) + ": " + e.Reason
}

func (e *EntryError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

func refuse(kind error, entry, format string, args ...any) *EntryError {
	return &EntryError{Entry: entry, Reason: fmt.Sprintf(format, args...), Err: kind}
}

// Advice shown under a refusal, by kind; entries absent give none.
var advice = map[error]string{
	ErrNotGzip: "pass the .tgz file that npm pack or airlock pack wrote, unchanged",
	ErrLimit: "the limits protect the publish job from decompression bombs; a real package " +
		"this big usually includes files by mistake: check the \"files\" field and .npmignore",
	ErrLink: "npm packs hard-linked files as link entries, which airlock does not publish: " +
		"replace the links with copies and pack again",
	ErrNoPackageJSON: "pack the package folder itself, with npm pack or airlock pack",
	ErrBadManifest:   "fix package.json and pack again",
	ErrSpecialFile:   "pack only regular files and folders",
	ErrUnsafePath: "rename the file: names must be plain relative paths that mean the same on " +
		"Linux, macOS and Windows",
	ErrDuplicate: "rename or remove one of the two and pack again",
	ErrNotTar: "pack with npm pack or airlock pack: this archive uses tar features that " +
		"npm's tar and other readers read differently",
}

// withAdvice attaches the default advice for err's kind, unless err
// already carries advice.
func withAdvice(err error) error {
	var ee *EntryError
	if err == nil || hint.Of(err) != "" || !errors.As(err, &ee) {
		return err
	}
	if a, ok := advice[ee.Err]; ok {
		return hint.With(err, a)
	}
	return err
}

// Tarball reads a gzip-compressed package tarball from r and checks every
// entry. compressedSize is r's length when known (from Stat), or -1; the
// compression ratio is measured against it or against the bytes read so
// far, whichever is larger.
//
// Memory use does not depend on the tarball's size: only package.json is
// buffered, plus one name per entry for the duplicate checks. A refusal
// is an *EntryError (possibly carrying hint advice); a cancelled ctx stops
// the read and its error is returned.
func Tarball(ctx context.Context, r io.Reader, compressedSize int64, lim Limits) (*Contents, error) {
	c, err := walk(ctx, r, compressedSize, lim, nil)
	if err != nil {
		return nil, withAdvice(err)
	}
	return c, nil
}

// walk is Tarball, calling visit (when not nil) with every regular file
// other than package.json and a reader of its data. visit may read as
// much of the data as it likes; the rest is skipped.
func walk(ctx context.Context, r io.Reader, compressedSize int64, lim Limits, visit func(File, io.Reader) error) (*Contents, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := openStream(ctx, r, compressedSize, lim)
	if err != nil {
		return nil, err
	}
	return walkStream(s, lim, visit)
}

// walkStream is walk on an opened stream.
func walkStream(s *stream, lim Limits, visit func(File, io.Reader) error) (*Contents, error) {
	tr := &reader{r: s, lim: lim}
	names := newTree(lim)
	c := &Contents{}
	for {
		h, err := tr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		c.Entries++
		if c.Entries > lim.MaxEntries {
			return nil, refuse(ErrLimit, h.name, "more than %d entries in the archive", lim.MaxEntries)
		}
		if h.typ == typeGlobal {
			continue
		}
		rel, err := names.add(h)
		if err != nil {
			return nil, err
		}
		if h.typ != typeFile {
			continue
		}
		if c.UnpackedSize += h.size; c.UnpackedSize > lim.MaxUnpackedSize {
			return nil, refuse(ErrLimit, h.name, "files total more than %d bytes unpacked", lim.MaxUnpackedSize)
		}
		f := File{Path: rel, Size: h.size, Mode: fs.FileMode(h.mode & 0o777)}
		c.Files = append(c.Files, f)
		switch {
		case rel == "package.json":
			if h.size > lim.MaxPackageJSON {
				return nil, refuse(ErrLimit, h.name, "package.json is %d bytes, more than the %d allowed", h.size, lim.MaxPackageJSON)
			}
			c.PackageJSON = make([]byte, h.size)
			if _, err := io.ReadFull(tr, c.PackageJSON); err != nil {
				return nil, err
			}
		case visit != nil:
			if err := visit(f, tr); err != nil {
				return nil, err
			}
		}
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	c.Root = names.root
	pj := c.Root + "/package.json"
	if c.Root == "" {
		return nil, refuse(ErrNoPackageJSON, "", "the archive has no entries")
	}
	if c.PackageJSON == nil {
		return nil, refuse(ErrNoPackageJSON, "", "the archive has no %s", pj)
	}
	m, err := manifest.Parse(c.PackageJSON, nil)
	if err != nil {
		reason := err.Error()
		var me *manifest.Error
		if errors.As(err, &me) {
			reason = me.Err.Error()
		}
		return nil, &EntryError{Entry: pj, Reason: reason, Err: ErrBadManifest, cause: err}
	}
	for _, err := range []error{manifest.ValidateName(m.Name), manifest.ValidateVersion(m.Version)} {
		if err != nil {
			return nil, &EntryError{Entry: pj, Reason: err.Error(), Err: ErrBadManifest, cause: err}
		}
	}
	c.Manifest = m
	return c, nil
}

// quote shows a name in a message: Go-quoted, so control characters and
// broken UTF-8 are visible, and shortened in the middle when long.
func quote(s string) string {
	const head, tail = 100, 40
	if len(s) > head+tail+20 {
		i, j := head, len(s)-tail
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		for j < len(s) && !utf8.RuneStart(s[j]) {
			j++
		}
		s = s[:i] + "…" + s[j:]
	}
	return strconv.Quote(s)
}
