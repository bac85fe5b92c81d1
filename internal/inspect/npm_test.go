package inspect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// The differential tests run npm itself: npm pack writes tarballs that
// must be accepted, and npm's own node-tar must read every accepted
// tarball exactly as this package does. They fail, never skip, when node
// or npm is missing.

// published are real tarballs with shapes npm 11 no longer writes.
var published = []struct {
	pub npmtest.Published
	why string
}{
	{npmtest.Published{Name: "@types/node", Version: "22.10.1", Integrity: "sha512-qKgsUwfHZV2WCWLAnVP1JqnpE6Im6h3Y0+fYgMTasNQ7V++CBX5OT1as0g0f+OyubbFqhf6XVNIsmN4IIhEgGQ=="},
		"rooted at node/, with folder entries"},
	{npmtest.Published{Name: "npm", Version: "6.14.18", Integrity: "sha512-p3SjqSchSuNQUqbJBgwdv0L3O6bKkaSfQrQzJsskNpNKLg0g37c5xTXFV0SqTlX9GWvoGxBELVJMRWq0J8oaLA=="},
		"packed by npm 6: 4,215 files, ustar prefixes for paths over 100 bytes"},
	{npmtest.Published{Name: "typescript", Version: "5.7.2", Integrity: "sha512-i5t66RHxDvVN40HfDd1PsEThGNnlMCMT3jMUuoh9/0TaqWevNontacunWyN02LA9/fIbEWlcHZcgTKb9QoaLfg=="},
		"22 MB unpacked, files of 9 MB"},
	{npmtest.Published{Name: "@esbuild/linux-x64", Version: "0.24.0", Integrity: "sha512-vbutsFqQ+foy3wSSbmjBXXIJ6PL3scghJoM8zCL142cGaZKAdCZHyf+Bpu/MmX9zT9Q0zFBVKb36Ma5Fzfa8xA=="},
		"a 10 MB executable"},
}

func TestPublishedTarballs(t *testing.T) {
	for _, p := range published {
		t.Run(p.pub.String(), func(t *testing.T) {
			t.Parallel()
			t.Log(p.why)
			data, err := os.ReadFile(npmtest.Fetch(t, p.pub))
			if err != nil {
				t.Fatal(err)
			}
			c, err := inspect(t, data, Limits{})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.Manifest.Name != p.pub.Name || c.Manifest.Version != p.pub.Version {
				t.Errorf("manifest says %s", c.Manifest.ID())
			}
			sameAsNode(t, data, 0, 1<<16)
		})
	}
}

// TestNPMPack inspects what npm pack writes for a package with nested
// folders, a bin, an empty file and a long non-ASCII name (which npm
// writes with a pax header), and wants npm's own report.
func TestNPMPack(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"package.json":  `{"name":"@airlock-test/inspect","version":"1.2.3","bin":{"cli":"bin/cli.js"}}`,
		"index.js":      "module.exports = 1\n",
		"bin/cli.js":    "#!/usr/bin/env node\n",
		"lib/a/b/c.js":  strings.Repeat("deep\n", 1000),
		"lib/empty.js":  "",
		longUnicode[8:]: "unicode\n",
		"lib/" + strings.Repeat("long-ascii-", 20) + ".js": "x",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	report, path := npmtest.Pack(t, dir, t.TempDir())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(npmtest.Gunzip(t, path), []byte(" path="+longUnicode)) {
		t.Error("npm did not write a pax path for the long unicode name; the test no longer covers pax")
	}
	c, err := inspect(t, data, Limits{})
	if err != nil {
		t.Fatalf("refused what npm pack wrote: %v", err)
	}
	var got []npmtest.File
	for _, f := range c.Files {
		got = append(got, npmtest.File{Path: f.Path, Size: f.Size, Mode: uint32(f.Mode)})
	}
	want := slices.Clone(report.Files)
	sortFiles := func(fs []npmtest.File) {
		slices.SortFunc(fs, func(a, b npmtest.File) int { return strings.Compare(a.Path, b.Path) })
	}
	sortFiles(got)
	sortFiles(want)
	if d := npmtest.DiffReport(npmtest.Report{Files: want}, npmtest.Report{Files: got}); d != "" {
		t.Error(d)
	}
	if c.Root != "package" || c.UnpackedSize != report.UnpackedSize || c.Entries != report.EntryCount || c.Manifest.ID() != report.ID {
		t.Errorf("root %q, unpacked %d, entries %d, id %s; npm reports %d, %d, %s",
			c.Root, c.UnpackedSize, c.Entries, c.Manifest.ID(), report.UnpackedSize, report.EntryCount, report.ID)
	}
	sameAsNode(t, data, 0, 1, 333)
}

// TestNodeTarReadsAcceptedTarballsTheSame runs npm's node-tar and Go's
// archive/tar over every tarball the table tests accept.
func TestNodeTarReadsAcceptedTarballsTheSame(t *testing.T) {
	for _, tt := range acceptances(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sameAsNode(t, tt.tgz, 0, 1, 100, 4096)
		})
	}
}

// TestRefusedShapesAreAmbiguous shows that the refusals that exist because
// readers disagree are about real disagreements: node-tar (fed as npm might
// feed it) and archive/tar read these tarballs differently, or one of them
// fails where the other does not.
func TestRefusedShapesAreAmbiguous(t *testing.T) {
	ambiguous := []string{
		"signed checksum", "checksum without terminator", "linkname on a file", "empty name", "newline after the name's NUL",
		"mode with junk", "size with junk", "base-256 uid with a bad marker",
		"file named like a folder", "zero block then entry",
		"two pax headers", "long name then pax", "pax then global", "global size",
		"pax newline in value", "pax size in hex", "pax size disagrees",
		"non-ASCII pax path over one block",
	}
	cases := map[string]refusal{}
	for _, r := range refusals() {
		cases[r.name] = r
	}
	for _, name := range ambiguous {
		tt, ok := cases[name]
		if !ok {
			t.Fatalf("no refusal named %q", name)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			goView := goListing(tt.tgz)
			for _, chunk := range []int{0, 1, 7, 100, 512, 611, 1000, 1021} {
				if n := nodeListing(t, tt.tgz, chunk); n.String() != goView {
					t.Logf("node-tar, fed %d bytes at a time:\n%s\narchive/tar:\n%s", chunk, n, goView)
					return
				}
			}
			t.Errorf("node-tar and archive/tar agree on this tarball:\n%s", goView)
		})
	}
}

// listing is a reader's view of the regular files of a tarball.
type listing struct {
	files    []string // "name size sha256"
	problems []string // warnings or the error that stopped the reader
}

func (l listing) String() string {
	return strings.Join(append(slices.Clone(l.files), l.problems...), "\n")
}

func fileLine(name string, size int64, sum []byte) string {
	return fmt.Sprintf("%s %d %s", name, size, hex.EncodeToString(sum))
}

// ourListing is what walk reports, with content hashes.
func ourListing(t testing.TB, tgz []byte) listing {
	t.Helper()
	sums := map[string][]byte{}
	c, err := walk(t.Context(), bytes.NewReader(tgz), int64(len(tgz)), Limits{}, func(f File, r io.Reader) error {
		h := sha256.New()
		_, err := io.Copy(h, r)
		sums[f.Path] = h.Sum(nil)
		return err
	})
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	s := sha256.Sum256(c.PackageJSON)
	sums["package.json"] = s[:]
	var l listing
	for _, f := range c.Files {
		l.files = append(l.files, fileLine(c.Root+"/"+f.Path, f.Size, sums[f.Path]))
	}
	return l
}

// goListing is archive/tar's view.
func goListing(tgz []byte) string {
	var l listing
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return "gzip: " + err.Error()
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			l.problems = append(l.problems, "error: "+err.Error())
			break
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		s := sha256.New()
		if _, err := io.Copy(s, tr); err != nil {
			l.problems = append(l.problems, "error: "+err.Error())
			break
		}
		l.files = append(l.files, fileLine(h.Name, h.Size, s.Sum(nil)))
	}
	return l.String()
}

var npmDir = sync.OnceValues(func() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node is required for the differential tests: %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is required for the differential tests: %w", err)
	}
	out, err := exec.Command(npm, "root", "-g").Output()
	if err != nil {
		return "", fmt.Errorf("finding npm's global root: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "npm")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tar", "package.json")); err != nil {
		return "", fmt.Errorf("npm's node-tar not found: %w", err)
	}
	return dir, nil
})

// nodeListing is node-tar's view: of the whole tgz in one write when
// chunk is 0, else of the decompressed tar stream fed chunk bytes per
// write, as a stream from the network or a decompressor may be split.
func nodeListing(t testing.TB, tgz []byte, chunk int) listing {
	t.Helper()
	input := tgz
	if chunk > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(tgz))
		if err != nil {
			t.Fatal(err)
		}
		if input, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := npmDir()
	if err != nil {
		t.Fatalf("%v\nhint: install Node.js 20+ with npm 11", err)
	}
	cmd := exec.CommandContext(t.Context(), "node", filepath.Join("testdata", "nodetar.js"), dir, fmt.Sprint(chunk))
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node-tar: %v\n%s", err, stderr.Bytes())
	}
	var res struct {
		Entries []struct {
			Path   string `json:"path"`
			Type   string `json:"type"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"entries"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node-tar output %q: %v", out, err)
	}
	var l listing
	for _, e := range res.Entries {
		switch e.Type {
		case "File", "OldFile":
			l.files = append(l.files, fmt.Sprintf("%s %d %s", e.Path, e.Size, e.SHA256))
		case "Directory":
		default:
			l.problems = append(l.problems, fmt.Sprintf("%s entry %q", e.Type, e.Path))
		}
	}
	for _, w := range res.Warnings {
		l.problems = append(l.problems, "warning: "+w)
	}
	return l
}

// sameAsNode requires node-tar, fed in each of the chunk sizes, and
// archive/tar to list exactly the files walk reports, with the same
// contents, and no warnings.
func sameAsNode(t *testing.T, tgz []byte, chunks ...int) {
	t.Helper()
	ours := ourListing(t, tgz).String()
	if g := goListing(tgz); g != ours {
		t.Errorf("archive/tar reads:\n%s\nwe read:\n%s", g, ours)
	}
	for _, chunk := range chunks {
		if n := nodeListing(t, tgz, chunk).String(); n != ours {
			t.Errorf("node-tar, fed %d bytes at a time, reads:\n%s\nwe read:\n%s", chunk, n, ours)
		}
	}
}

var corpusDir = flag.String("inspect.corpus", filepath.Join("testdata", "fuzz", "FuzzTarball"),
	"fuzz corpus whose accepted inputs node-tar must read as we do (point it at $(go env GOCACHE)/fuzz/.../FuzzTarball after fuzzing)")

// TestNodeTarReadsAcceptedFuzzInputsTheSame extends the differential test
// to whatever the fuzzer found: every input of the corpus that is accepted
// must be read identically by node-tar and archive/tar.
func TestNodeTarReadsAcceptedFuzzInputsTheSame(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(*corpusDir, "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus in %s (%v)", *corpusDir, err)
	}
	accepted := 0
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data, err := decodeCorpusFile(raw)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		tgz := fuzzInput(data)
		if _, err := Tarball(t.Context(), bytes.NewReader(tgz), int64(len(tgz)), fuzzLimits); err != nil {
			continue
		}
		accepted++
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			sameAsNode(t, tgz, 0, 1, 333)
		})
	}
	t.Logf("%d of %d inputs accepted and compared", accepted, len(paths))
}

// decodeCorpusFile reads a "go test fuzz v1" file holding one []byte.
func decodeCorpusFile(b []byte) ([]byte, error) {
	s, ok := strings.CutPrefix(string(b), "go test fuzz v1\n")
	s = strings.TrimSpace(s)
	if !ok || !strings.HasPrefix(s, "[]byte(") || !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("not a go test fuzz v1 file with one []byte")
	}
	v, err := strconv.Unquote(s[len("[]byte(") : len(s)-1])
	return []byte(v), err
}
