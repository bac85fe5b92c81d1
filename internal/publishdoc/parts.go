package publishdoc

import (
	"bytes"
	"io/fs"
)

// The registry client writes the publish body itself (it streams the
// tarball and checks it on the way); these give it the parts.

// VersionJSON is versions[version] as JSON.stringify writes it.
func (d *Document) VersionJSON() ([]byte, error) {
	var b bytes.Buffer
	w := &errWriter{w: &b}
	stringify(w, d.version)
	return b.Bytes(), w.err
}

// DescriptionJSON is the root "description" as JSON.stringify writes it,
// or nil when npm leaves it out (undefined).
func (d *Document) DescriptionJSON() ([]byte, error) {
	v := d.root.get("description")
	if v == undefined {
		return nil, nil
	}
	var b bytes.Buffer
	w := &errWriter{w: &b}
	stringify(w, v)
	return b.Bytes(), w.err
}

// Access is the root "access": "" with false for null.
func (d *Document) Access() (string, bool) {
	s, ok := d.root.get("access").(string)
	return s, ok
}

// File is one regular file of the tarball, path below the root folder.
// Data is needed only for the files Wants names; the others are listed.
type File struct {
	Path string
	Size int64
	Data []byte
}

// Wants reports whether Build reads the contents of the file at path (a
// readme, AUTHORS, package.json); for every other file only its name
// and size matter.
func Wants(path string) bool { return keepContents(path) }

// NewFS is the read-only file tree Build expects as Input.Files.
func NewFS(files []File) fs.FS {
	m := newMemFS()
	for _, f := range files {
		m.add(f.Path, f.Data, f.Size)
	}
	return m
}
