package tardiff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// tarFile is one file of a tarball written in the order given.
type tarFile struct {
	name string
	data string
	mode int64
}

// npmTarball writes files as npm pack lays them out: package/ and the
// path, in the order of files.
func npmTarball(t *testing.T, files []tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	mtime := time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)
	for _, f := range files {
		h := &tar.Header{Name: "package/" + f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// words are the lines random files are made of: few, so that lines
// repeat and the diff's choice among equally short scripts shows; some
// with a trailing tab or space, which npm's output treats apart.
var words = []string{"a", "b", "c", "x", "", "{", "}", "  return x;", "\tif (y) {", "// note", "end\t", "trailing ", "é ü 世界"}

func randomText(r *rand.Rand, lines int) string {
	var b strings.Builder
	for range lines {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte('\n')
	}
	return b.String()
}

// edit changes s by a few random insertions, deletions, replacements
// and repeated blocks.
func edit(r *rand.Rand, s string) string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for range 1 + r.IntN(6) {
		i := r.IntN(len(lines) + 1)
		n := 1 + r.IntN(4)
		switch r.IntN(4) {
		case 0:
			lines = slices.Insert(lines, i, strings.SplitAfter(randomText(r, n), "\n")[:n]...)
		case 1:
			lines = slices.Delete(lines, min(i, len(lines)), min(i+n, len(lines)))
		case 2:
			lines = slices.Replace(lines, min(i, len(lines)), min(i+n, len(lines)), strings.SplitAfter(randomText(r, n), "\n")[:n]...)
		case 3:
			j := min(i+n, len(lines))
			lines = slices.Insert(lines, j, slices.Clone(lines[min(i, j):j])...)
		}
	}
	return strings.Join(lines, "")
}

// randomPair is two versions of a package of random files, each file
// edited in its own way: changed, added, removed, emptied, its mode or
// its line ends changed, its last newline dropped; and the tar order
// shuffled, so that npm's order (old's, then new's) shows.
func randomPair(seed uint64, n int) (old, new []tarFile) {
	r := rand.New(rand.NewPCG(seed, 1))
	pj := func(v string) tarFile {
		return tarFile{name: "package.json", data: `{"name":"rnd","version":"` + v + `"}` + "\n", mode: 0o644}
	}
	old, new = []tarFile{pj("1.0.0")}, []tarFile{pj("1.0.1")}
	for i := range n {
		name := fmt.Sprintf("%s/f%d.%s", []string{"lib", "src", "test"}[r.IntN(3)], i, []string{"js", "md", "txt", "png", "json"}[r.IntN(5)])
		a := randomText(r, r.IntN(40))
		b := edit(r, a)
		om, nm := int64(0o644), int64(0o644)
		emptied := false
		switch r.IntN(12) {
		case 0:
			a = "" // added
		case 1:
			b = "" // removed
		case 2:
			b = a
			nm = 0o755
		case 3:
			a = strings.TrimSuffix(a, "\n")
		case 4:
			b = strings.TrimSuffix(b, "\n")
		case 5:
			a, b = strings.ReplaceAll(a, "\n", "\r\n"), strings.ReplaceAll(b, "\n", "\r\n")
		case 6:
			b = strings.ReplaceAll(b, "\n", "\r\n")
		case 7:
			b, emptied = "", true
		case 8:
			b = a
		case 9:
			nm = 0o755
		}
		if a != "" || r.IntN(8) == 0 {
			old = append(old, tarFile{name: name, data: a, mode: om})
		}
		if b != "" || emptied || r.IntN(8) == 0 {
			new = append(new, tarFile{name: name, data: b, mode: nm})
		}
	}
	r.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
	r.Shuffle(len(new), func(i, j int) { new[i], new[j] = new[j], new[i] })
	return old, new
}

// TestNpmDiff: airlock diff --patch and --name-only print what npm 11's
// npm diff prints, byte for byte, for random edits of text files and for
// real releases.
func TestNpmDiff(t *testing.T) {
	npmtest.NPM(t)
	type pair struct {
		name     string
		old, new []byte
	}
	var pairs []pair
	for seed := range uint64(2) {
		o, n := randomPair(seed, 120)
		pairs = append(pairs, pair{fmt.Sprintf("random%d", seed), npmTarball(t, o), npmTarball(t, n)})
	}
	pairs = append(pairs, pair{"edges", npmTarball(t, []tarFile{
		{"package.json", `{"name":"e","version":"1.0.0"}`, 0o644},
		{"empty.js", "", 0o644},
		{"gone.js", "x\n", 0o755},
		{"img.png", "\x89PNG\r\n", 0o644},
		{".png", "not an image\n", 0o644},
		{"z-last.js", "a\n\n", 0o644},
	}), npmTarball(t, []tarFile{
		{"z-last.js", "a\nb\n \n\t\n", 0o644}, // npm trims the end
		{"new-empty.js", "", 0o644},
		{"img.png", "\x89PNG\r\n\x1a\n", 0o644},
		{".png", "not an image either\n", 0o644},
		{"package.json", `{"name":"e","version":"1.0.1"}`, 0o644},
	})})
	for _, p := range []struct{ old, new npmtest.Published }{
		{npmtest.Published{Name: "semver", Version: "7.6.2", Integrity: "sha512-FNAIBWCx9qcRhoHcgcJ0gvU7SN1lYU2ZXuSfl04bSC5OpvDHFyJCjdNHomPXxjQlCBU67YW64PzY7/VIEH7F2w=="},
			npmtest.Published{Name: "semver", Version: "7.6.3", Integrity: "sha512-oVekP1cKtI+CTDvHWYFUcMtsK/00wmAEfyqKfNdARm8u1wNVhSgaX7A8d4UuIlUI5e84iEwOhs7ZPYRmzU9U6A=="}},
		{npmtest.Published{Name: "ms", Version: "2.1.2", Integrity: "sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w=="},
			npmtest.Published{Name: "ms", Version: "2.1.3", Integrity: "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="}},
	} {
		read := func(pub npmtest.Published) []byte {
			data, err := os.ReadFile(npmtest.Fetch(t, pub))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		pairs = append(pairs, pair{p.old.String() + "→" + p.new.Version, read(p.old), read(p.new)})
	}

	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, data := range map[string][]byte{"old.tgz": p.old, "new.tgz": p.new} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			old, err := Read(t.Context(), "old.tgz", p.old, DefaultLimits())
			if err != nil {
				t.Fatalf("reading old: %v", err)
			}
			new, err := Read(t.Context(), "new.tgz", p.new, DefaultLimits())
			if err != nil {
				t.Fatalf("reading new: %v", err)
			}
			r := Compare(old, new, Options{Patch: true})
			r.Files = TarOrder(r.Files, old, new)
			for _, w := range []struct {
				flag  string
				write func(*bytes.Buffer, *Result) error
			}{
				{"", func(b *bytes.Buffer, r *Result) error { return WritePatch(b, r) }},
				{"--diff-name-only", func(b *bytes.Buffer, r *Result) error { return WriteNames(b, r) }},
			} {
				args := []string{"diff", "--diff=./old.tgz", "--diff=./new.tgz"}
				if w.flag != "" {
					args = append(args, w.flag)
				}
				want := npmtest.Run(t, dir, args...)
				var got bytes.Buffer
				if err := w.write(&got, r); err != nil {
					t.Fatal(err)
				}
				if d := firstDifference(want, got.Bytes()); d != "" {
					t.Errorf("npm %s and airlock differ: %s", strings.Join(args, " "), d)
				}
			}
		})
	}
}

// firstDifference describes the first line where got differs from want,
// or is "".
func firstDifference(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	w, g := strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n")
	for i := 0; ; i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("line %d:\n  npm:     %q\n  airlock: %q", i+1, w[lo:min(len(w), i+2)], g[lo:min(len(g), i+2)])
		}
	}
}

// TestBinaryExtensions: the list is the one npm diff uses.
func TestBinaryExtensions(t *testing.T) {
	root := npmtest.Run(t, t.TempDir(), "root", "-g")
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "npm", "node_modules", "binary-extensions", "binary-extensions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, e := range want {
		if !binaryExtensions[e] {
			t.Errorf("%q is missing", e)
		}
	}
	if len(binaryExtensions) != len(want) {
		t.Errorf("%d extensions, npm has %d", len(binaryExtensions), len(want))
	}
}
