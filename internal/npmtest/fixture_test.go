package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

func TestMaterializeDirectives(t *testing.T) {
	old := syscall.Umask(0o077) // modes must not depend on the umask
	defer syscall.Umask(old)

	ar := txtar.Parse([]byte(`a fixture
-- a.js --
a
-- lib/q.txt --
>-- not a marker --
>tail
-- .fixture --
# comment
symlink l.js -> a.js
symlink lib/up -> ..
hardlink lib/h.js -> a.js
chmod 0750 a.js
mkdir empty/deeper
unquote lib/q.txt
-- .want --
644 a.js
`))
	dir := MaterializeArchive(t, ar)

	mode := func(rel string) fs.FileMode {
		t.Helper()
		info, err := os.Lstat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return info.Mode()
	}
	if m := mode("a.js"); m != 0o750 {
		t.Errorf("a.js mode %v, want 0750", m)
	}
	if m := mode("lib"); m != fs.ModeDir|0o755 {
		t.Errorf("lib mode %v, want 0755", m)
	}
	if m := mode("lib/q.txt"); m != 0o644 {
		t.Errorf("lib/q.txt mode %v, want 0644", m)
	}
	if target, err := os.Readlink(filepath.Join(dir, "lib/up")); err != nil || target != ".." {
		t.Errorf("lib/up -> %q, %v; want ..", target, err)
	}
	a, _ := os.Stat(filepath.Join(dir, "a.js"))
	h, _ := os.Stat(filepath.Join(dir, "lib/h.js"))
	if a == nil || h == nil || !os.SameFile(a, h) {
		t.Error("lib/h.js is not a hard link to a.js")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "lib/q.txt")); string(got) != "-- not a marker --\ntail\n" {
		t.Errorf("lib/q.txt = %q", got)
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "empty/deeper")); err != nil || len(entries) != 0 {
		t.Errorf("empty/deeper: %v, %v", entries, err)
	}
	for _, reserved := range []string{DirectivesFile, WantFile} {
		if _, err := os.Lstat(filepath.Join(dir, reserved)); err == nil {
			t.Errorf("%s was written into the tree", reserved)
		}
	}

	// ReadTree gives back an archive that builds the same tree.
	back, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ReadTree(MaterializeArchive(t, back))
	if err != nil {
		t.Fatal(err)
	}
	if f1, f2 := txtar.Format(back), txtar.Format(again); !bytes.Equal(f1, f2) {
		t.Errorf("ReadTree round trip differs:\n%s\n---\n%s", f1, f2)
	}
}

func TestMaterializeRejectsEscapes(t *testing.T) {
	for _, ar := range []string{
		"-- ../x --\n",
		"-- /abs --\n",
		"-- a --\n-- .fixture --\nsymlink ../l -> a\n",
		"-- a --\n-- .fixture --\nfrobnicate a\n",
	} {
		if err := WriteTree(t.TempDir(), txtar.Parse([]byte(ar))); err == nil {
			t.Errorf("WriteTree accepted %q", ar)
		}
	}
}

func TestExtract(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	// Like @types/node: the root folder is not package/, and folders
	// have entries of their own.
	add(&tar.Header{Name: "node/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "node/package.json", Typeflag: tar.TypeReg, Mode: 0o644}, "{}")
	add(&tar.Header{Name: "node/bin/run", Typeflag: tar.TypeReg, Mode: 0o755}, "#!/bin/sh\n")
	add(&tar.Header{Name: "node/link", Typeflag: tar.TypeSymlink, Linkname: "package.json"}, "")
	add(&tar.Header{Name: "node/../../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(t.TempDir(), "p.tgz")
	if err := os.WriteFile(tgz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := Extract(t, tgz)
	var got []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		info, _ := d.Info()
		got = append(got, rel+" "+info.Mode().String())
		return nil
	})
	want := []string{"bin drwxr-xr-x", "bin/run -rwxr-xr-x", "package.json -rw-r--r--"}
	if !slices.Equal(got, want) {
		t.Errorf("extracted %q, want %q", got, want)
	}
}

func TestCheckIntegrity(t *testing.T) {
	// sha512 of "hello\n", from openssl dgst -sha512 -binary | base64
	const sri = "sha512-58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ=="
	if err := checkIntegrity([]byte("hello\n"), "sha1-x "+sri); err != nil {
		t.Error(err)
	}
	if err := checkIntegrity([]byte("hello!\n"), sri); err == nil {
		t.Error("a wrong digest passed")
	}
	if err := checkIntegrity([]byte("hello\n"), "sha1-abc"); err == nil {
		t.Error("an integrity without sha512 passed")
	}
}
