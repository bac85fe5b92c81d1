package publishdoc

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ReadTarball reads a package tarball (gzipped or plain tar) in one pass
// and returns the Input fields that come from it: PackageJSON, Files,
// Integrity, Shasum and Size. Files follows pacote's extraction: the first
// path component stripped, links, unsafe paths and non-file entries left
// out. To save memory it keeps the contents only of the files Build reads
// (package.json, readme candidates, AUTHORS, .git/*); the others are
// listed with their sizes but read as empty.
func ReadTarball(r io.Reader) (Input, error) {
	sha512h, sha1h := sha512.New(), sha1.New()
	counter := &countWriter{}
	br := bufio.NewReader(io.TeeReader(r, io.MultiWriter(sha512h, sha1h, counter)))
	var tr *tar.Reader
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Input{}, fmt.Errorf("reading the tarball: %w", err)
		}
		tr = tar.NewReader(zr)
	} else {
		tr = tar.NewReader(br)
	}
	fsys := newMemFS()
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Input{}, fmt.Errorf("reading the tarball: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeCont, tar.TypeGNUSparse:
		default:
			continue // folders, links and devices are not extracted
		}
		name, ok := extractedName(h.Name)
		if !ok {
			continue
		}
		var data []byte
		if keepContents(name) {
			if data, err = io.ReadAll(tr); err != nil {
				return Input{}, fmt.Errorf("reading %s from the tarball: %w", h.Name, err)
			}
		}
		fsys.add(name, data, h.Size)
	}
	// Drain the compressed stream so the digests cover every byte.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return Input{}, fmt.Errorf("reading the tarball: %w", err)
	}
	pj, err := fs.ReadFile(fsys, "package.json")
	if err != nil {
		return Input{}, errors.New("reading the tarball: it has no package.json")
	}
	return Input{
		PackageJSON: pj,
		Files:       fsys,
		Integrity:   "sha512-" + base64.StdEncoding.EncodeToString(sha512h.Sum(nil)),
		Shasum:      hex.EncodeToString(sha1h.Sum(nil)),
		Size:        counter.n,
	}, nil
}

// extractedName is where node-tar, with strip: 1, writes an entry.
func extractedName(name string) (string, bool) {
	parts := strings.Split(strings.ReplaceAll(name, `\`, "/"), "/")
	if len(parts) < 2 || slices.Contains(parts, "..") {
		return "", false
	}
	rest := path.Clean(strings.Join(parts[1:], "/"))
	rest = strings.TrimLeft(rest, "/")
	if rest == "" || rest == "." || !fs.ValidPath(rest) {
		return "", false
	}
	return rest, true
}

func keepContents(name string) bool {
	return name == "package.json" || name == "AUTHORS" || isReadmeName(name) || strings.HasPrefix(name, ".git/")
}

// FileSpec returns what npm writes as _resolved and _from when
// `npm publish arg` runs in cwd with a tarball path: the absolute path,
// and "file:" with the path relative to cwd (or absolute, if arg was).
func FileSpec(cwd, arg string) (resolved, from string) {
	arg = strings.TrimPrefix(arg, "file:")
	if filepath.IsAbs(arg) {
		resolved = filepath.Clean(arg)
		return resolved, "file:" + filepath.ToSlash(resolved)
	}
	resolved = filepath.Join(cwd, arg)
	rel, err := filepath.Rel(cwd, resolved)
	if err != nil {
		rel = resolved
	}
	return resolved, "file:" + filepath.ToSlash(rel)
}

// memFS is a read-only in-memory file tree.
type memFS struct {
	files map[string]*memFile
	dirs  map[string]map[string]bool // folder → child names
}

type memFile struct {
	name string
	data []byte
	size int64
	dir  bool
}

func newMemFS() *memFS {
	return &memFS{files: map[string]*memFile{}, dirs: map[string]map[string]bool{".": {}}}
}

func (m *memFS) add(name string, data []byte, size int64) {
	if data != nil {
		size = int64(len(data))
	}
	if m.dirs[name] != nil {
		return // a folder already holds files under this name
	}
	m.files[name] = &memFile{name: path.Base(name), data: data, size: size}
	for child := name; ; {
		parent := path.Dir(child)
		if m.dirs[parent] == nil {
			m.dirs[parent] = map[string]bool{}
		}
		m.dirs[parent][path.Base(child)] = true
		if parent == "." {
			break
		}
		if f := m.files[parent]; f != nil && !f.dir {
			delete(m.files, parent) // a later entry turned the file into a folder
		}
		if m.files[parent] == nil {
			m.files[parent] = &memFile{name: path.Base(parent), dir: true}
		}
		child = parent
	}
}

func (m *memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &memHandle{fsys: m, path: ".", f: &memFile{name: ".", dir: true}}, nil
	}
	f := m.files[name]
	if f == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memHandle{fsys: m, path: name, f: f, r: bytes.NewReader(f.data)}, nil
}

type memHandle struct {
	fsys *memFS
	path string
	f    *memFile
	r    *bytes.Reader
	read bool
}

func (h *memHandle) Stat() (fs.FileInfo, error) { return memInfo{h.f}, nil }
func (h *memHandle) Close() error               { return nil }

func (h *memHandle) Read(p []byte) (int, error) {
	if h.f.dir {
		return 0, &fs.PathError{Op: "read", Path: h.path, Err: errors.New("is a directory")}
	}
	return h.r.Read(p)
}

func (h *memHandle) ReadDir(n int) ([]fs.DirEntry, error) {
	if !h.f.dir {
		return nil, &fs.PathError{Op: "readdir", Path: h.path, Err: errors.New("not a directory")}
	}
	if h.read {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	h.read = true
	var names []string
	for name := range h.fsys.dirs[h.path] {
		names = append(names, name)
	}
	slices.Sort(names)
	entries := make([]fs.DirEntry, 0, len(names))
	for _, name := range names {
		child := name
		if h.path != "." {
			child = h.path + "/" + name
		}
		entries = append(entries, fs.FileInfoToDirEntry(memInfo{h.fsys.files[child]}))
	}
	return entries, nil
}

type memInfo struct{ f *memFile }

func (i memInfo) Name() string { return i.f.name }
func (i memInfo) Size() int64  { return i.f.size }
func (i memInfo) Mode() fs.FileMode {
	if i.f.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.f.dir }
func (i memInfo) Sys() any           { return nil }
