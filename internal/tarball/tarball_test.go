package tarball

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		abs := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWriteLayout(t *testing.T) {
	dir := writeFiles(t, map[string]string{"package.json": "{}", "a.js": strings.Repeat("x", 513)})
	var buf bytes.Buffer
	entries, err := Write(context.Background(), &buf, []string{"package.json", "a.js"}, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// header+1 block, header+2 blocks, then node-tar's 1024-byte trailer
	// with no padding to a 10240-byte record.
	if want := 512*2 + 512*3 + 1024; buf.Len() != want {
		t.Errorf("archive is %d bytes, want %d", buf.Len(), want)
	}
	if !bytes.Equal(buf.Bytes()[buf.Len()-1024:], make([]byte, 1024)) {
		t.Error("archive does not end with two zero blocks")
	}
	want := []Entry{
		{Path: "package.json", Size: 2, Mode: 0o644, Type: '0'},
		{Path: "a.js", Size: 513, Mode: 0o644, Type: '0'},
	}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Errorf("entries = %+v, want %+v", entries, want)
	}
	tr := tar.NewReader(&buf)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "package/package.json" || !h.ModTime.Equal(time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)) ||
		h.Uid != 0 || h.Uname != "" || h.Format != tar.FormatUSTAR {
		t.Errorf("unexpected header %+v", h)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.js": "x", "d/b.js": "y"})
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"missing", []string{"a.js", "nope.js"}, "packing nope.js: lstat"},
		{"directory", []string{"d"}, "packing d: is a directory"},
		{"absolute", []string{"/etc/passwd"}, "not a clean relative path"},
		{"dot-dot", []string{"d/../a.js"}, "not a clean relative path"},
		{"mangled by npm", []string{"q:"}, `npm would archive it as "package/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Write(context.Background(), io.Discard, tt.files, Options{Dir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWriteCanceled(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.js": "x"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, io.Discard, []string{"a.js"}, Options{Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A file that is not the size lstat reported must fail, naming the file.
func TestChangedFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.js": "0123456789"})
	abs := filepath.Join(dir, "a.js")
	st, err := lstat(abs)
	if err != nil {
		t.Fatal(err)
	}

	for _, size := range []int64{9, 11, 2000} {
		f, err := os.Open(abs)
		if err != nil {
			t.Fatal(err)
		}
		tw := &writer{w: bufio.NewWriter(io.Discard)}
		err = tw.copyContent(context.Background(), f, size)
		f.Close()
		if !errors.Is(err, ErrChanged) {
			t.Errorf("copyContent with size %d: err = %v, want ErrChanged", size, err)
		}
	}

	if err := os.WriteFile(abs, []byte("grown by some bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openSame(abs, st); !errors.Is(err, ErrChanged) {
		t.Errorf("openSame after growth: err = %v, want ErrChanged", err)
	}
	other := filepath.Join(dir, "b.js")
	if err := os.WriteFile(other, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, abs); err != nil {
		t.Fatal(err)
	}
	_, err = openSame(abs, st)
	if !errors.Is(err, ErrChanged) {
		t.Errorf("openSame after replacement: err = %v, want ErrChanged", err)
	}

	// Through Write the error names the file. The tiny bufio.Writer
	// passes the header straight through, so the file grows between the
	// header and the content, as with a build running alongside the pack.
	w := bufio.NewWriterSize(&growAfterHeader{dir: dir}, 16)
	_, err = Write(context.Background(), w, []string{"a.js"}, Options{Dir: dir})
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "packing a.js") {
		t.Errorf("err = %v, want ErrChanged naming a.js", err)
	}
}

// growAfterHeader appends to a.js on the first write it is given.
type growAfterHeader struct {
	dir  string
	done bool
}

func (w *growAfterHeader) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		f, err := os.OpenFile(filepath.Join(w.dir, "a.js"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if _, err := f.WriteString("more"); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Memory must not grow with file size.
func TestWriteBoundedMemory(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	if err := f.Truncate(size); err != nil { // sparse: cheap to create and read
		t.Fatal(err)
	}
	f.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.Copy(io.Discard, writeReader(t, dir, []string{"big.bin"}))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n != size+512+1024 {
		t.Errorf("archive is %d bytes", n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("packing a %d MiB file allocated %d bytes", size>>20, alloc)
	}
}

// writeReader runs Write into a pipe so the archive is never held whole.
func writeReader(t testing.TB, dir string, files []string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, err := Write(context.Background(), pw, files, Options{Dir: dir})
		pw.CloseWithError(err)
	}()
	return pr
}

func FuzzHeader(f *testing.F) {
	f.Add("index.js", int64(0), uint16(0o644), "")
	f.Add("./@scope/"+strings.Repeat("n", 120), int64(1)<<34, uint16(0o4755), "")
	f.Add(strings.Repeat("dir/", 40)+"x.js", int64(513), uint16(0o600), "")
	f.Add("l/"+strings.Repeat("日本", 40), int64(5), uint16(0o777), strings.Repeat("../", 50))
	f.Add("c:\\x", int64(99), uint16(0), "tärget")
	f.Fuzz(func(t *testing.T, name string, size int64, mode uint16, link string) {
		path, err := entryPath(name)
		if err != nil {
			return
		}
		size &= 1<<50 - 1 // node-tar numbers must stay exact in a double
		h := header{path: path, mode: int64(modeFix(uint32(mode))), size: size, typ: typeFile}
		if link != "" && utf8.ValidString(link) && !strings.Contains(link, "\x00") {
			h.typ, h.size, h.linkpath, h.hasLink = typeSymlink, 0, link, true
		}
		var blk [blockSize]byte
		var archive []byte
		if h.encode(&blk) {
			archive = (&pax{path: h.path, linkpath: h.linkpath, hasLink: h.hasLink, size: h.size}).encode()
		}
		archive = append(archive, blk[:]...)

		// node-tar writes whole UTF-8 characters into the ustar fields.
		for _, field := range [][]byte{blk[0:100], blk[157:257], blk[345:500]} {
			if !utf8.Valid(bytes.TrimRight(field, "\x00")) {
				t.Errorf("field %q is not valid UTF-8", field)
			}
		}
		got, err := tar.NewReader(bytes.NewReader(archive)).Next()
		if err != nil {
			t.Fatalf("archive/tar: %v", err)
		}
		if got.Name != h.path || got.Size != h.size || got.Mode != h.mode ||
			got.Linkname != h.linkpath || got.Typeflag != h.typ || got.ModTime.Unix() != npmMtime {
			t.Errorf("wrote %+v, read back name %q size %d mode %o link %q type %c mtime %v",
				h, got.Name, got.Size, got.Mode, got.Linkname, got.Typeflag, got.ModTime)
		}
	})
}

func BenchmarkWriteSmallFiles(b *testing.B) {
	dir := b.TempDir()
	var files []string
	for i := range 1000 {
		p := fmt.Sprintf("lib/m%02d/file%04d.js", i%50, i)
		abs := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(abs, content(p, 200+i*7%3000), 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, p)
	}
	var cw countWriter
	if _, err := Write(context.Background(), &cw, files, Options{Dir: dir}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(cw))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(context.Background(), io.Discard, files, Options{Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// The end of a file is proven by a short read, or by one more read when
// the content fills the buffer exactly: both must catch a file longer
// than its size by a single byte, at every size around the buffer's.
func TestCopyContentBufferEdges(t *testing.T) {
	for _, size := range []int64{1, readSize - 1, readSize, readSize + 1, readSize + 2, 2*readSize + 1, 2*readSize + 2} {
		data := bytes.Repeat([]byte{'x'}, int(size)+1)
		for _, declared := range []int64{size, size + 1} {
			tw := &writer{w: bufio.NewWriter(io.Discard)}
			err := tw.copyContent(context.Background(), bytes.NewReader(data), declared)
			if declared == size && !errors.Is(err, ErrChanged) {
				t.Errorf("%d bytes declared as %d: err = %v, want ErrChanged", len(data), declared, err)
			}
			if declared == size+1 && err != nil {
				t.Errorf("%d bytes declared as %d: %v", len(data), declared, err)
			}
		}
	}
}

// A file replaced by a symlink between lstat and open is refused, not
// followed.
func TestReplacedBySymlink(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.js": "0123456789", "b.js": "9876543210"})
	abs := filepath.Join(dir, "a.js")
	st, err := lstat(abs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(abs); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b.js", abs); err != nil {
		t.Fatal(err)
	}
	if f, err := openSame(abs, st); !errors.Is(err, ErrChanged) {
		if f != nil {
			f.Close()
		}
		t.Errorf("openSame of a symlink: err = %v, want ErrChanged", err)
	}
}
