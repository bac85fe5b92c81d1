package npmtest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

const fixtures = "../../testdata/pack"

// TestFixturesWant checks the fixtures against npm itself: each one's
// .want section, worked out by hand from npm-packlist's rules, must be
// what npm packs. That keeps every fixture testing what its comment says
// it does, and shows when a new npm changes the rules.
func TestFixturesWant(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixtures, "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s (err %v)", fixtures, err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(bytes.TrimSpace(ar.Comment)) == 0 {
				t.Error("the fixture has no comment saying what it covers")
			}
			want, ok, err := ParseWant(ar)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatalf("the fixture has no %s section", WantFile)
			}
			var wantLines []string
			for _, w := range want {
				wantLines = append(wantLines, wantLine(w.Mode, w.Path, w.Linkname))
			}
			dir := MaterializeArchive(t, ar)
			_, tgz := Pack(t, dir, t.TempDir())
			entries, err := ReadTar(Gunzip(t, tgz))
			if err != nil {
				t.Fatal(err)
			}
			var gotLines []string
			for _, e := range entries {
				h := e.Header
				if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeLink {
					t.Errorf("entry %q has type %q; npm packs only files and hard links", h.Name, h.Typeflag)
				}
				link := ""
				if h.Typeflag == tar.TypeLink {
					link = h.Linkname
				}
				gotLines = append(gotLines, wantLine(h.Mode, strings.TrimPrefix(h.Name, "package/"), link))
			}
			if !slices.Equal(gotLines, wantLines) {
				t.Errorf("npm packed (in tar order):\n\t%s\nthe fixture's %s says:\n\t%s",
					strings.Join(gotLines, "\n\t"), WantFile, strings.Join(wantLines, "\n\t"))
			}
		})
	}
}

func wantLine(mode int64, path, link string) string {
	s := fmt.Sprintf("%o %s", mode, path)
	if link != "" {
		s += " -> " + link
	}
	return s
}

// TestNPMPackTwice checks that npm's own output is reproducible, which
// the byte-for-byte comparisons rely on, and that the dry-run report is
// the report of the real run.
func TestNPMPackTwice(t *testing.T) {
	for _, name := range []string{"long_paths", "unicode_names", "bundle_array", "hardlinks"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := Materialize(t, filepath.Join(fixtures, name+".txtar"))
			r1, tgz1 := Pack(t, dir, t.TempDir())
			r2, tgz2 := Pack(t, dir, t.TempDir())
			CompareTar(t, Gunzip(t, tgz1), Gunzip(t, tgz2))
			if d := DiffReport(r1, r2); d != "" {
				t.Errorf("reports of two npm pack runs differ:\n%s", d)
			}
			if r1.Integrity != r2.Integrity {
				t.Errorf("two npm pack runs gave integrity %s and %s", r1.Integrity, r2.Integrity)
			}
			dry := PackDryRun(t, dir)
			if d := DiffReport(r1, dry); d != "" {
				t.Errorf("dry-run report differs from the real one:\n%s", d)
			}
			if dry.Integrity != r1.Integrity || dry.Size != r1.Size || dry.Shasum != r1.Shasum {
				t.Errorf("dry run: size %d shasum %s integrity %s; real run: %d %s %s",
					dry.Size, dry.Shasum, dry.Integrity, r1.Size, r1.Shasum, r1.Integrity)
			}
		})
	}
}

// TestCompareTarReports checks that DiffTar, given npm's tarball and a
// copy with one change, says where the change is in terms a reader can
// act on.
func TestCompareTarReports(t *testing.T) {
	dir := Materialize(t, filepath.Join(fixtures, "long_paths.txtar"))
	_, tgz := Pack(t, dir, t.TempDir())
	orig := Gunzip(t, tgz)
	if d := DiffTar(orig, bytes.Clone(orig)); d != "" {
		t.Fatalf("DiffTar of identical streams = %q, want empty", d)
	}
	recs := records(orig)
	pj := slices.IndexFunc(recs, func(r record) bool { return r.name == "package/package.json" })
	if pj < 0 {
		t.Fatalf("no package/package.json record in %v", recs)
	}
	pjStart := recs[pj].start
	long := slices.IndexFunc(recs, func(r record) bool { return r.kind == "pax header" })
	if long < 0 {
		t.Fatal("the long_paths fixture should need a pax header")
	}

	cases := []struct {
		name   string
		mutate func([]byte) []byte
		want   []string
	}{{
		name: "content byte",
		mutate: func(d []byte) []byte {
			d[pjStart+512+3] ^= 0x20
			return d
		},
		want: []string{
			"first differing byte at offset " + fmt.Sprint(pjStart+512+3),
			`data of file "package/package.json"`, "byte 3 of",
			`entry "package/package.json" differs`, "content differs at byte 3",
		},
	}, {
		name: "mode with a valid checksum",
		mutate: func(d []byte) []byte {
			copy(d[pjStart+100:], "000755 ")
			fixChecksum(d[pjStart : pjStart+512])
			return d
		},
		want: []string{
			`header of file "package/package.json"`, "field mode",
			"mode: want 0644, got 0755",
		},
	}, {
		name: "header byte with a bad checksum",
		mutate: func(d []byte) []byte {
			d[pjStart+265] = 'x' // uname
			return d
		},
		want: []string{"field uname", "got is not a valid tar stream"},
	}, {
		name: "entry dropped",
		mutate: func(d []byte) []byte {
			return slices.Delete(d, pjStart, recs[pj].end)
		},
		want: []string{`only in want (1): "package/package.json"`},
	}, {
		name: "entries swapped",
		mutate: func(d []byte) []byte {
			a, b := recs[pj-1], recs[pj]
			if a.kind != "file" {
				t.Fatalf("record before package.json is a %s", a.kind)
			}
			out := slices.Clone(d[:a.start])
			out = append(out, d[b.start:b.end]...)
			out = append(out, d[a.start:a.end]...)
			return append(out, d[b.end:]...)
		},
		want: []string{"entry names differ", `> want[`, `"package/package.json"`},
	}, {
		name: "pax record",
		mutate: func(d []byte) []byte {
			r := recs[long]
			i := bytes.Index(d[r.start+512:r.end], []byte("path="))
			d[r.start+512+i+len("path=package/")] = 'L'
			return d
		},
		want: []string{`data of pax header`, "only in want (1)", "only in got (1)", "package/Lib/"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.mutate(bytes.Clone(orig))
			d := DiffTar(orig, got)
			t.Logf("DiffTar says:\n%s", d)
			for _, w := range tc.want {
				if !strings.Contains(d, w) {
					t.Errorf("DiffTar does not say %q:\n%s", w, d)
				}
			}
			ft := &fakeT{TB: t}
			CompareTar(ft, orig, got)
			if !ft.failed {
				t.Error("CompareTar did not fail the test")
			}
		})
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Error(args ...any)     { f.failed = true }
func (f *fakeT) Errorf(string, ...any) { f.failed = true }

func fixChecksum(hdr []byte) {
	copy(hdr[148:156], "        ")
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

func TestDiffReport(t *testing.T) {
	a := Report{ID: "x@1.0.0", Name: "x", Version: "1.0.0", Filename: "x-1.0.0.tgz", EntryCount: 2,
		Size: 10, Shasum: "aa", Integrity: "sha512-a",
		Files: []File{{Path: "a.js", Size: 1, Mode: 0o644}, {Path: "package.json", Size: 2, Mode: 0o644}}}
	b := a
	b.Size, b.Shasum, b.Integrity = 11, "bb", "sha512-b"
	if d := DiffReport(a, b); d != "" {
		t.Errorf("fields that depend on compression should not count:\n%s", d)
	}
	b.Files = []File{{Path: "a.js", Size: 1, Mode: 0o755}, {Path: "package.json", Size: 2, Mode: 0o644}}
	b.UnpackedSize = 3
	d := DiffReport(a, b)
	for _, w := range []string{"unpackedSize", "first difference at index 0", "a.js (size 1, mode 0755)"} {
		if !strings.Contains(d, w) {
			t.Errorf("DiffReport does not say %q:\n%s", w, d)
		}
	}
}
