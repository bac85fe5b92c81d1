package tardiff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/airlockdev/airlock/internal/inspect"
)

func TestReadKeepsHeads(t *testing.T) {
	files := map[string]*fixtureFile{
		"package.json": {data: []byte(`{"name":"a","version":"1.0.0"}`), mode: 0o644},
		"big.bin":      {data: append([]byte("\x7fELF"), bytes.Repeat([]byte{1}, 10000)...), mode: 0o755},
		"small.js":     {data: []byte("x"), mode: 0o644},
	}
	p, err := Read(context.Background(), "a.tgz", tarball(t, files), Limits{MaxFile: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 3 {
		t.Fatalf("%d files", len(p.Files))
	}
	for _, f := range p.Files {
		want := sha256.Sum256(files[f.Path].data)
		if f.Digest != want {
			t.Errorf("%s: digest of another file", f.Path)
		}
		if f.Path == "big.bin" && (!f.Partial || len(f.Data) != HeadSize || f.Mode != 0o755) {
			t.Errorf("big.bin: partial %v, %d bytes, mode %o", f.Partial, len(f.Data), f.Mode)
		}
		if f.Path == "small.js" && (f.Partial || string(f.Data) != "x") {
			t.Errorf("small.js: %+v", f)
		}
	}
}

// FuzzRead: Read accepts exactly what inspection accepts, and what it
// keeps is what the digests say.
func FuzzRead(f *testing.F) {
	f.Add(tarball(f, map[string]*fixtureFile{"package.json": {data: []byte(`{"name":"a","version":"1.0.0"}`), mode: 0o644}}))
	f.Add(tarball(f, map[string]*fixtureFile{
		"package.json": {data: []byte(`{"name":"b","version":"2.0.0","bin":"x.js"}`), mode: 0o644},
		"x.js":         {data: []byte("#!/usr/bin/env node\n"), mode: 0o755},
		"lib/a/b.js":   {data: []byte("module.exports=1"), mode: 0o644},
	}))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxFile: 64, MaxTotal: 256}
		lim.Inspect.MaxUnpackedSize = 1 << 20
		c, ierr := inspect.Tarball(context.Background(), bytes.NewReader(data), int64(len(data)), lim.Inspect)
		p, err := Read(context.Background(), "f.tgz", data, lim)
		if (ierr == nil) != (err == nil) {
			t.Fatalf("inspection says %v, Read says %v", ierr, err)
		}
		if err != nil {
			return
		}
		if len(p.Files) != len(c.Files) {
			t.Fatalf("%d files, inspection %d", len(p.Files), len(c.Files))
		}
		var kept int64
		for i, f := range p.Files {
			if f.Path != c.Files[i].Path || f.Size != c.Files[i].Size {
				t.Fatalf("file %d is %s (%d), inspection %s (%d)", i, f.Path, f.Size, c.Files[i].Path, c.Files[i].Size)
			}
			if !f.Partial {
				kept += f.Size
				if sha256.Sum256(f.Data) != f.Digest || int64(len(f.Data)) != f.Size {
					t.Fatalf("%s: kept data does not match", f.Path)
				}
			}
		}
		if kept > 256 {
			t.Fatalf("kept %d bytes", kept)
		}
	})
}
