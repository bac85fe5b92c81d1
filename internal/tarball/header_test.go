package tarball

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPadOctal(t *testing.T) {
	tests := []struct {
		n    int64
		size int
		want string
	}{
		{0, 8, "000000 \x00"},
		{0o644, 8, "000644 \x00"},
		{0o7777777, 8, "7777777\x00"},
		{0o777777, 8, "777777 \x00"},
		{npmMtime, 12, "3560116604 \x00"},
		{0, 12, "0000000000 \x00"},
		{512, 12, "0000001000 \x00"},
		{0o77777777777, 12, "77777777777\x00"},
	}
	for _, tt := range tests {
		field := make([]byte, tt.size)
		if encNumber(field, tt.n) {
			t.Errorf("encNumber(%o) reported overflow", tt.n)
		}
		if string(field) != tt.want {
			t.Errorf("encNumber(%o, %d) = %q, want %q", tt.n, tt.size, field, tt.want)
		}
	}
}

func TestBase256(t *testing.T) {
	field := make([]byte, 12)
	if !encNumber(field, 0o77777777777+1) {
		t.Fatal("8 GiB must need PAX")
	}
	want := []byte{0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0} // 1<<33
	if !bytes.Equal(field, want) {
		t.Errorf("got % x, want % x", field, want)
	}
}

func TestPaxField(t *testing.T) {
	tests := []struct {
		key, value string
		want       string
	}{
		{"size", "0", "9 size=0\n"},
		{"path", "a", "9 path=a\n"},
		// The length counts its own digits: 98 bytes plus 2 digits would
		// be 100, which needs 3.
		{"path", strings.Repeat("x", 89), "98 path=" + strings.Repeat("x", 89) + "\n"},
		{"path", strings.Repeat("x", 90), "99 path=" + strings.Repeat("x", 90) + "\n"},
		{"path", strings.Repeat("x", 91), "101 path=" + strings.Repeat("x", 91) + "\n"},
		{"path", strings.Repeat("x", 92), "102 path=" + strings.Repeat("x", 92) + "\n"},
	}
	for _, tt := range tests {
		if got := string(paxField(nil, tt.key, tt.value)); got != tt.want {
			t.Errorf("paxField(%s, %d bytes) = %q, want %q", tt.key, len(tt.value), got, tt.want)
		}
	}
}

func TestSplitPrefix(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		path, name, prefix string
		truncated          bool
	}{
		{"package/a.js", "package/a.js", "", false},
		{"package/" + r("a", 91), "package/" + r("a", 91), "", false},
		{"package/" + r("a", 92), r("a", 92), "package", false},
		{"package/" + r("a", 101), r("a", 99), "package", true},
		{"package/" + r("p", 146) + "/" + r("q", 50), r("q", 50), "package/" + r("p", 146), false},
		{"package/" + r("p", 147) + "/" + r("q", 50), r("q", 50), "package/" + r("p", 147), false},
		{"package/" + r("p", 148) + "/" + r("q", 50), r("p", 99), "package", true},
		{"package/" + r("p", 60) + "/" + r("q", 60) + "/" + r("s", 60), r("s", 60), "package/" + r("p", 60) + "/" + r("q", 60), false},
		// The name is cut in UTF-16 units; the field later in bytes.
		{"package/" + r("é", 45), "package/" + r("é", 45), "", false},
		{"package/" + r("é", 46), r("é", 46), "package", false},
		{"package/" + r("é", 60), r("é", 60), "package", true},
		{"package/" + r("é", 120), r("é", 99), "package", true},
	}
	for _, tt := range tests {
		name, prefix, truncated := splitPrefix(tt.path)
		if name != tt.name || prefix != tt.prefix || truncated != tt.truncated {
			t.Errorf("splitPrefix(%q) = %q, %q, %v; want %q, %q, %v", tt.path, name, prefix, truncated, tt.name, tt.prefix, tt.truncated)
		}
	}
}

func TestJSSlice(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 2, "ab"},
		{"ééé", 2, "éé"},
		{"a😀b", 2, "a\uFFFD"}, // half a surrogate pair
		{"a😀b", 3, "a😀"},
		{"😀", 5, "😀"},
	}
	for _, tt := range tests {
		if got := jsSlice(tt.s, tt.n); got != tt.want {
			t.Errorf("jsSlice(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestEncStringWholeCharacters(t *testing.T) {
	field := make([]byte, 5)
	if !encString(field, "ab€c") { // € is 3 bytes
		t.Error("non-ASCII must need PAX")
	}
	if want := "ab€"; string(bytes.TrimRight(field, "\x00")) != want {
		t.Errorf("got %q, want %q", field, want)
	}
	field = make([]byte, 4)
	encString(field, "ab€c")
	if want := "ab\x00\x00"; string(field) != want {
		t.Errorf("partial character written: %q, want %q", field, want)
	}
}

func TestEntryPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"index.js", "package/index.js"},
		{"./@scope/x.js", "package/@scope/x.js"},
		{"lib/a b.js", "package/lib/a b.js"},
		{"日本.js", "package/日本.js"},
		{"..a/a..", "package/..a/a.."},
		// node-tar strips Windows roots even on Linux.
		{"c:foo.js", "package/foo.js"},
		{`\back.js`, "package/back.js"},
		{`C:\dir\x.js`, `package/dir\x.js`},
		{`\\server\share\y.js`, "package/y.js"},
		{"d:/e.js", "package/e.js"},
		{"c:c:x", "package/x"},
		{"c:./x", "package/x"},
		{"a:b/c", "package/b/c"},
		{"ab:c", "package/ab:c"},
	}
	for _, tt := range tests {
		if got, err := entryPath(tt.in); got != tt.want || err != nil {
			t.Errorf("entryPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "./", "/abs", "a//b", "a/", "./a/./b", "a/../b", "..", ".", "././a",
		"a\x00b", "\xff.js",
		// Names npm would archive as "package/" or outside "package/".
		"q:", `\`, "c:../x", "c:/../x", "c:./..",
	}
	for _, p := range bad {
		if got, err := entryPath(p); !errors.Is(err, errBadPath) {
			t.Errorf("entryPath(%q) = %q, %v; want errBadPath", p, got, err)
		}
	}
}

func TestIsPackageBin(t *testing.T) {
	bin := map[string]string{"a": "cli.js", "b": "bin/b.js", "c": "@scope/t.js"}
	tests := []struct {
		path string
		want bool
	}{
		{"cli.js", true},
		{"bin/b.js", false}, // compared as "b.js"
		{"x/bin/b.js", true},
		{"./@scope/t.js", true},
		{"@scope/t.js", false},
		{`x\y/cli.js`, false}, // a '\' before the first '/': nothing dropped
		{"other.js", false},
	}
	for _, tt := range tests {
		if got := isPackageBin(bin, tt.path); got != tt.want {
			t.Errorf("isPackageBin(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if isPackageBin(nil, "cli.js") {
		t.Error("no bins, no match")
	}
}

// headerSpec is one entry for testdata/nodetar.js "headers".
type headerSpec struct {
	Path     string `json:"path"`
	Linkpath string `json:"linkpath,omitempty"`
	Mode     int64  `json:"mode"`
	Size     int64  `json:"size"`
	Type     string `json:"type"`
}

func (s headerSpec) encode() []byte {
	h := header{path: s.Path, linkpath: s.Linkpath, hasLink: s.Linkpath != "", mode: s.Mode, size: s.Size}
	h.typ = map[string]byte{"File": typeFile, "Link": typeLink, "SymbolicLink": typeSymlink}[s.Type]
	var b [blockSize]byte
	var out []byte
	if h.encode(&b) {
		out = (&pax{path: h.path, linkpath: h.linkpath, hasLink: h.hasLink, size: h.size}).encode()
	}
	return append(out, b[:]...)
}

// randomEntryName builds "package/…" names around the ustar limits, with
// multi-byte and astral characters near every cut point.
func randomEntryName(r *rand.Rand) string {
	pieces := []string{"a", "b", "-", ".", " ", "é", "日", "😀", "ß", "\\", ":", "\t"}
	var b strings.Builder
	b.WriteString("package/")
	target := []int{10, 91, 92, 93, 99, 100, 101, 150, 200, 254, 255, 256, 300, 400}[r.IntN(14)] + r.IntN(4)
	for b.Len() < target {
		switch r.IntN(10) {
		case 0:
			b.WriteByte('/')
		case 1, 2:
			b.WriteString(pieces[r.IntN(len(pieces))])
		default:
			b.WriteByte("abcdefghijklmnopqrstuvwxyz"[r.IntN(26)])
		}
	}
	// Keep to plain names, as entryPath guarantees.
	var parts []string
	for part := range strings.SplitSeq(b.String(), "/") {
		if part != "" && part != "." && part != ".." {
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, "/")
}

func TestHeadersMatchNodeTar(t *testing.T) {
	r := rand.New(rand.NewPCG(*randomSeed, 99))
	var specs []headerSpec
	sizes := []int64{0, 1, 511, 512, 0o77777777777, 0o77777777777 + 1, 1 << 40}
	for range 3000 {
		s := headerSpec{
			Path: randomEntryName(r),
			Mode: []int64{0o644, 0o755, 0o4755, 0o600, 0o7777}[r.IntN(5)],
			Size: sizes[r.IntN(len(sizes))],
			Type: "File",
		}
		switch r.IntN(4) {
		case 0:
			s.Type, s.Size, s.Linkpath = "Link", 0, randomEntryName(r)
		case 1:
			s.Type, s.Size, s.Linkpath = "SymbolicLink", 0, strings.TrimPrefix(randomEntryName(r), "package/")
		}
		specs = append(specs, s)
	}
	out, _ := runNode(t, "headers", specs)
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range specs {
		w, err := base64.StdEncoding.DecodeString(want[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := s.encode(); !bytes.Equal(got, w) {
			t.Fatalf("%+v:\n%s", s, describeDiff(got, w))
		}
	}
}

func TestStripAbsolutePathMatchesNode(t *testing.T) {
	r := rand.New(rand.NewPCG(*randomSeed, 7))
	inputs := []string{"", "/", "//", "a", "c:", "c:/", `c:\`, `\\`, `\\a`, `\\a\b`, `\\a\b\c`, `//?/c:/x`, `\\?\c:\x`, "C:x:y", `a\b`}
	for range 3000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString([]string{"/", "\\", ".", "..", ":", "c", "C:", "ab", "é", "?"}[r.IntN(10)])
		}
		inputs = append(inputs, b.String())
	}
	out, _ := runNode(t, "strip", inputs)
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if got := stripAbsolutePath(in); got != want[i] {
			t.Errorf("stripAbsolutePath(%q) = %q, node %q", in, got, want[i])
		}
	}
}
