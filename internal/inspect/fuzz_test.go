package inspect

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// fuzzLimits are small enough that the fuzzer can reach every one of them.
var fuzzLimits = Limits{
	MaxEntries:      64,
	MaxEntrySize:    1 << 20,
	MaxUnpackedSize: 4 << 20,
	MaxPackageJSON:  4 << 10,
	MaxPathLength:   512,
}

// fuzzInput turns a fuzz input into a tarball. Inputs are mostly tar
// streams without their trailing zeros; they are padded to a block, ended
// and gzipped here, and every block that looks like a header (ustar magic
// at 257) gets its checksum fixed. Mutations then reach past the gzip and
// header checksums into the parser, and seeds stay small. An input that
// starts with the gzip signature is used as it is, to fuzz the gzip layer,
// bad checksums and what follows the end-of-archive marker.
func fuzzInput(data []byte) []byte {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return data
	}
	data = slices.Clone(data)
	for off := 0; off+blockSize <= len(data); off += blockSize {
		b := (*[blockSize]byte)(data[off : off+blockSize])
		if string(b[257:262]) == "ustar" {
			setChecksum(b)
		}
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(data)
	zw.Write(make([]byte, padding(int64(len(data)))+2*blockSize))
	zw.Close()
	return buf.Bytes()
}

func FuzzTarball(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tgz := fuzzInput(data)
		c, err := Tarball(t.Context(), bytes.NewReader(tgz), int64(len(tgz)), fuzzLimits)
		if err != nil {
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Err == nil {
				t.Fatalf("refusal %q is not an *EntryError with a kind", err)
			}
			return
		}
		checkContents(t, c, fuzzLimits)

		// archive/tar reads the same files with the same contents.
		ours := ourListing(t, tgz).String()
		if g := goListing(tgz); g != ours {
			t.Fatalf("archive/tar reads:\n%s\nwe read:\n%s", g, ours)
		}

		// Repacking the files gives the same contents. (The repack has no
		// folder or global entries, and its headers may take a few more
		// blocks, so the stream limits are relaxed.)
		again := repack(c)
		lim := fuzzLimits
		lim.MaxUnpackedSize *= 2
		lim.MaxRatio = 1e9
		c2, err := Tarball(t.Context(), bytes.NewReader(again), int64(len(again)), lim)
		if err != nil {
			t.Fatalf("repacked tarball refused: %v", err)
		}
		if c2.Root != c.Root || !slices.Equal(c2.Files, c.Files) || c2.UnpackedSize != c.UnpackedSize ||
			!bytes.Equal(c2.PackageJSON, c.PackageJSON) || !reflect.DeepEqual(c2.Manifest, c.Manifest) || c2.Entries != len(c.Files) {
			t.Fatalf("repacked contents differ:\n%+v\n%+v", c2, c)
		}
	})
}

// checkContents checks what an accepted tarball must satisfy.
func checkContents(t *testing.T, c *Contents, lim Limits) {
	t.Helper()
	if c.Entries > lim.MaxEntries || len(c.Files) > c.Entries || int64(len(c.PackageJSON)) > lim.MaxPackageJSON || c.Manifest == nil {
		t.Fatalf("entries %d, files %d, package.json %d bytes, manifest %v", c.Entries, len(c.Files), len(c.PackageJSON), c.Manifest)
	}
	if r := nameProblem(c.Root); r != "" || strings.Contains(c.Root, "/") {
		t.Fatalf("root %q: %s", c.Root, r)
	}
	var total int64
	seen := map[string]string{}
	hasPJ := false
	for _, f := range c.Files {
		name := c.Root + "/" + f.Path
		if r := nameProblem(name); r != "" || len(name) > lim.MaxPathLength || !utf8.ValidString(name) {
			t.Fatalf("accepted unsafe name %q: %s", name, r)
		}
		if f.Size < 0 || f.Size > lim.MaxEntrySize || f.Mode&^0o777 != 0 {
			t.Fatalf("file %q: size %d mode %v", f.Path, f.Size, f.Mode)
		}
		total += f.Size
		k := fold(f.Path)
		if other, dup := seen[k]; dup {
			t.Fatalf("accepted %q and %q", other, f.Path)
		}
		seen[k] = f.Path
		hasPJ = hasPJ || f.Path == "package.json"
	}
	for _, f := range c.Files {
		for dir := f.Path; strings.Contains(dir, "/"); {
			dir = dir[:strings.LastIndexByte(dir, '/')]
			if other, ok := seen[fold(dir)]; ok {
				t.Fatalf("accepted file %q and %q inside it", other, f.Path)
			}
		}
	}
	if total != c.UnpackedSize || total > lim.MaxUnpackedSize || !hasPJ {
		t.Fatalf("unpacked %d, files total %d, package.json listed: %v", c.UnpackedSize, total, hasPJ)
	}
}

// repack writes c's files into a new tarball: ustar headers, with a pax
// path when a name does not fit, package.json with its contents and the
// other files as zeros.
func repack(c *Contents) []byte {
	var parts [][]byte
	for i, f := range c.Files {
		name := c.Root + "/" + f.Path
		var data []byte
		if f.Path == "package.json" {
			data = c.PackageJSON
		} else {
			data = make([]byte, f.Size)
		}
		h := hdr{name: name, data: data, mode: int64(f.Mode)}
		if f.Mode == 0 { // hdr reads 0 as "the default mode"
			h.edit = func(b *[blockSize]byte) { octalField(b[100:108], 0) }
		}
		if len(name) > 100 {
			if prefix, base, ok := splitUSTAR(name); ok {
				h.prefix, h.name = prefix, base
			} else {
				// A header name no real name can equal: control
				// characters are refused in real names.
				h.name = fmt.Sprintf("%s/\x01pax%d", c.Root, i)
				parts = append(parts, paxHdr('x', "path", name))
			}
		}
		parts = append(parts, h.bytes())
	}
	return tgz(parts...)
}

// splitUSTAR splits a name into a prefix of at most 155 bytes and a name
// of at most 100 at a '/'.
func splitUSTAR(name string) (prefix, base string, ok bool) {
	for i := strings.IndexByte(name, '/'); i >= 0; i = next(name, i) {
		if i <= 155 && len(name)-i-1 <= 100 && len(name)-i-1 > 0 {
			return name[:i], name[i+1:], true
		}
	}
	return "", "", false
}

// TestRepack checks the repacker on a name of every kind.
func TestRepack(t *testing.T) {
	for _, tt := range acceptances(t) {
		c, err := inspect(t, tt.tgz, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := inspect(t, repack(c), Limits{})
		if err != nil {
			t.Fatalf("%s: repack refused: %v", tt.name, err)
		}
		if !slices.Equal(c2.Files, c.Files) {
			t.Errorf("%s: repacked files %v, want %v", tt.name, c2.Files, c.Files)
		}
	}
}

var writeSeeds = flag.Bool("inspect.writeseeds", false, "rewrite testdata/fuzz/FuzzTarball from the table tests")

// TestFuzzSeeds keeps the seed corpus in step with the table tests: the
// small tarballs they accept or refuse, stored uncompressed and without
// their trailing zeros (see fuzzInput) unless the gzip layer is the
// point. It checks the committed corpus against them, and rewrites it
// with -inspect.writeseeds.
func TestFuzzSeeds(t *testing.T) {
	committed := filepath.Join("testdata", "fuzz", "FuzzTarball")
	dir := t.TempDir()
	if *writeSeeds {
		dir = committed
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		defer func() {
			if !t.Failed() {
				compareSeeds(t, committed, dir)
			}
		}()
	}
	write := func(name string, tgz []byte, raw bool) {
		data := tgz
		if !raw {
			zr, err := gzip.NewReader(bytes.NewReader(tgz))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !raw {
			data = bytes.TrimRight(data, "\x00") // fuzzInput puts the zeros back
		}
		if len(data) > 4<<10 {
			return
		}
		file := strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, strings.ToLower(name))
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range acceptances(t) {
		write("ok-"+a.name, a.tgz, false)
	}
	// One refusal of each kind of structure; the fuzzer finds the rest.
	bad := []string{
		"truncated gzip", "trailing garbage", "two gzip members", "data after end marker",
		"truncated in data", "zero block then entry", "signed checksum", "checksum without terminator",
		"no magic (v7)", "star trailer", "GNU header with times", "linkname on a file", "empty name",
		"base-256 uid with a bad marker", "file named like a folder", "folder with data",
		"hard link", "symlink", "GNU long link", "fifo", "setuid",
		"two pax headers", "long name then pax", "pax at the end", "pax xattr", "global size",
		"pax length wrong", "pax size disagrees", "long name with junk",
		"non-ASCII pax path over one block", "pax path hides a traversal from naive readers",
		"dot-dot", "backslash", "colon", "dot root", "trailing dot", "two roots",
		"file then file inside it", "case", "case, Kelvin sign", "bad JSON",
	}
	byName := map[string]refusal{}
	for _, r := range refusals() {
		byName[r.name] = r
	}
	for _, name := range bad {
		r, ok := byName[name]
		if !ok {
			t.Fatalf("no refusal named %q", name)
		}
		write("bad-"+r.name, r.tgz, errors.Is(r.kind, ErrNotGzip) || strings.Contains(r.name, "checksum"))
	}
}

// compareSeeds fails when the committed corpus lacks a seed the table
// tests would write, or holds it with other contents. Extra committed
// seeds (from fuzzing) are fine.
func compareSeeds(t *testing.T, committed, fresh string) {
	t.Helper()
	entries, err := os.ReadDir(fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, _ := os.ReadFile(filepath.Join(fresh, e.Name()))
		got, err := os.ReadFile(filepath.Join(committed, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("seed %s is missing or stale in %s: run go test ./internal/inspect -run TestFuzzSeeds -inspect.writeseeds", e.Name(), committed)
		}
	}
}

// FuzzTarMatchesTarball: reading the tar stream before it is compressed
// (what pack does as it writes) accepts and refuses exactly what reading
// the gzipped tarball does, with the same contents, whenever the gzip
// layer itself is sound.
func FuzzTarMatchesTarball(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			return // a gzip-layer input: nothing to compare
		}
		tgz := fuzzInput(data)
		zr, err := gzip.NewReader(bytes.NewReader(tgz))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		keep := func(p string) bool { return strings.HasPrefix(strings.ToLower(p), "readme") }
		lim := fuzzLimits
		lim.MaxRatio = 1e9 // the tar stream has no ratio to measure
		c1, k1, err1 := TarballKeeping(t.Context(), bytes.NewReader(tgz), int64(len(tgz)), lim, keep)
		c2, k2, err2 := TarKeeping(t.Context(), bytes.NewReader(raw), lim, keep)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("gzipped: %v; tar stream: %v", err1, err2)
		}
		if err1 != nil {
			if err1.Error() != err2.Error() {
				t.Fatalf("refusals differ:\n gzipped:    %v\n tar stream: %v", err1, err2)
			}
			return
		}
		if !reflect.DeepEqual(c1, c2) || !reflect.DeepEqual(k1, k2) {
			t.Fatalf("contents differ:\n%+v\n%+v", c1, c2)
		}
	})
}
