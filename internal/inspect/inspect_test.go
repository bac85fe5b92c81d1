package inspect

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
)

func inspect(t testing.TB, data []byte, lim Limits) (*Contents, error) {
	t.Helper()
	return Tarball(t.Context(), bytes.NewReader(data), int64(len(data)), lim)
}

var longUnicode = "package/lib/" + strings.Repeat("ünïcödé-", 12) + "名前.js" // 150 bytes, not ASCII

// goTar writes entries with archive/tar, which picks ustar, pax or GNU as
// each name needs.
func goTar(t testing.TB, format tar.Format, files map[string]string, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range order {
		h := &tar.Header{Name: name, Mode: 0o644, ModTime: time.Unix(499162500, 0), Format: format, Typeflag: tar.TypeReg, Size: int64(len(files[name]))}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz(buf.Bytes())
}

type acceptance struct {
	name  string
	tgz   []byte
	root  string
	files []string
}

const minimalPJ = `{"name":"x","version":"1.0.0"}`

func acceptances(t testing.TB) []acceptance {
	pj := minimalPJ
	return []acceptance{
		{"npm pack shape", tgz(pjson("package"), file("package/index.js", "x"), file("package/lib/a/b.js", "yy")),
			"package", []string{"package.json", "index.js", "lib/a/b.js"}},
		{"folder entries", tgz(dir("package/"), pjson("package"), dir("package/lib/"), file("package/lib/a.js", "a"), dir("package/lib/empty")),
			"package", []string{"package.json", "lib/a.js"}},
		{"folder entry after its files", tgz(pjson("package"), file("package/lib/a.js", "a"), dir("package/lib/")),
			"package", []string{"package.json", "lib/a.js"}},
		{"@types root", tgz(dir("node/"), pjson("node"), dir("node/fs/"), file("node/fs/promises.d.ts", "export {}")),
			"node", []string{"package.json", "fs/promises.d.ts"}},
		{"pax path for a long unicode name", tgz(pjson("package"), paxHdr('x', "path", longUnicode),
			hdr{name: "package/lib/" + longUnicode[12:60], data: []byte("x")}.bytes()),
			"package", []string{"package.json", longUnicode[len("package/"):]}},
		{"pax path, size and times", tgz(pjson("package"), paxHdr('x', "path", "package/a.js", "size", "3", "mtime", "499162500.25", "uid", "0", "uname", "ünï", "comment", "hi"),
			hdr{name: "package/a.js", data: []byte("abc")}.bytes()),
			"package", []string{"package.json", "a.js"}},
		{"ustar prefix", tgz(pjson("package"), hdr{prefix: "package/" + strings.Repeat("d", 120), name: "f.js", data: []byte("x")}.bytes()),
			"package", []string{"package.json", strings.Repeat("d", 120) + "/f.js"}},
		{"GNU long name", tgz(pjson("package"), longName("package/"+strings.Repeat("n", 200)),
			hdr{name: "package/" + strings.Repeat("n", 92), data: []byte("x"), magic: "ustar  \x00"}.bytes()),
			"package", []string{"package.json", strings.Repeat("n", 200)}},
		{"GNU long unicode name, header name cut inside a character (GNU tar)", tgz(pjson("package"), longName(longUnicode), hdr{name: longUnicode[:100], data: []byte("x"), magic: "ustar  \x00"}.bytes()),
			"package", []string{"package.json", longUnicode[len("package/"):]}},
		{"GNU magic", tgz(hdr{name: "package/package.json", data: []byte(pj), magic: "ustar  \x00"}.bytes()),
			"package", []string{"package.json"}},
		{"times after a short prefix (node-tar outside portable mode)", tgz(pjson("package"), hdr{name: "package/a", prefix: "", data: []byte("x"), edit: func(b *[blockSize]byte) {
			copy(b[476:488], "14722003562\x00")
			copy(b[488:500], "14722003562\x00")
		}}.bytes()), "package", []string{"package.json", "a"}},
		{"ASCII pax path over one block", tgz(pjson("package"), paxHdr('x', "path", "package/"+strings.Repeat("long/", 150)+"x.js"),
			hdr{name: "package/long/long", data: []byte("x")}.bytes()),
			"package", []string{"package.json", strings.Repeat("long/", 150) + "x.js"}},
		{"git archive global header", tgz(paxHdr('g', "comment", "0123456789abcdef"), pjson("package")),
			"package", []string{"package.json"}},
		{"NUL type flag", tgz(pjson("package"), hdr{name: "package/a", data: []byte("a"), edit: func(b *[blockSize]byte) { b[156] = 0 }}.bytes()),
			"package", []string{"package.json", "a"}},
		{"empty file and executable", tgz(pjson("package"), hdr{name: "package/empty"}.bytes(), hdr{name: "package/bin/cli", mode: 0o755, data: []byte("#!")}.bytes()),
			"package", []string{"package.json", "empty", "bin/cli"}},
		{"zero padding to a 10 KiB record (GNU tar)", gz(append(archive(pjson("package")), make([]byte, 8192)...)),
			"package", []string{"package.json"}},
		{"numeric fields with spaces, NULs and base-256", tgz(pjson("package"), hdr{name: "package/a", data: []byte("a"), edit: func(b *[blockSize]byte) {
			copy(b[100:108], "   644\x00\x00")
			copy(b[108:116], "\x80\x00\x00\x00\x00\x10\x00\x00") // uid 1<<20 in base-256
			copy(b[116:124], "\x00\x00\x00\x00\x00\x00\x00\x00") // empty gid
		}}.bytes()), "package", []string{"package.json", "a"}},
		{"archive/tar ustar", goTar(t, tar.FormatUSTAR, map[string]string{"package/package.json": pj, "package/x.js": "x"}, []string{"package/", "package/package.json", "package/x.js"}),
			"package", []string{"package.json", "x.js"}},
		{"archive/tar pax unicode", goTar(t, tar.FormatPAX, map[string]string{"package/package.json": pj, longUnicode: "x"}, []string{"package/package.json", longUnicode}),
			"package", []string{"package.json", longUnicode[len("package/"):]}},
		{"archive/tar GNU long name", goTar(t, tar.FormatGNU, map[string]string{"package/package.json": pj, "package/" + strings.Repeat("g", 150): "x"}, []string{"package/package.json", "package/" + strings.Repeat("g", 150)}),
			"package", []string{"package.json", strings.Repeat("g", 150)}},
	}
}

func TestAccepts(t *testing.T) {
	for _, tt := range acceptances(t) {
		t.Run(tt.name, func(t *testing.T) {
			c, err := inspect(t, tt.tgz, Limits{})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			var got []string
			for _, f := range c.Files {
				got = append(got, f.Path)
			}
			if c.Root != tt.root || !slices.Equal(got, tt.files) {
				t.Errorf("root %q files %q, want %q %q", c.Root, got, tt.root, tt.files)
			}
			if c.Manifest == nil || c.Manifest.ID() != "x@1.0.0" || !bytes.Equal(c.PackageJSON, []byte(minimalPJ)) {
				t.Errorf("manifest %+v, package.json %q", c.Manifest, c.PackageJSON)
			}
		})
	}
}

func TestContents(t *testing.T) {
	data := tgz(dir("package/"), pjson("package"), hdr{name: "package/bin/x", mode: 0o755, data: []byte("12345")}.bytes(), paxHdr('g', "comment", "c"))
	c, err := inspect(t, data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []File{{"package.json", 30, 0o644}, {"bin/x", 5, 0o755}}
	if !slices.Equal(c.Files, want) || c.UnpackedSize != 35 || c.Entries != 4 {
		t.Errorf("files %v unpacked %d entries %d; want %v 35 4", c.Files, c.UnpackedSize, c.Entries, want)
	}
}

type refusal struct {
	name  string
	tgz   []byte
	lim   Limits
	kind  error
	entry string   // EntryError.Entry; "-" skips the check
	msg   []string // substrings of the message
}

func refusals() []refusal {
	pj := pjson("package")
	long := strings.Repeat("é", 300) // a pax body over 512 bytes
	zeros := make([]byte, 8<<20)
	twoMembers := append(tgz(pj), tgz(pj)...)
	truncGz := tgz(pj, file("package/a", strings.Repeat("abc", 1000)))
	badCRC := tgz(pj)
	badCRC[len(badCRC)-6] ^= 0xff
	reg := func(name string, edit func(*[blockSize]byte)) []byte {
		return hdr{name: name, data: []byte("x"), edit: edit}.bytes()
	}
	typ := func(name string, t byte, link string) []byte { return hdr{name: name, typ: t, linkname: link}.bytes() }
	return []refusal{
		// gzip
		{"empty file", nil, Limits{}, ErrNotGzip, "", []string{"empty"}},
		{"not gzip", []byte("hello, this is not gzip"), Limits{}, ErrNotGzip, "", []string{"gzip signature"}},
		{"plain tar", archive(pj), Limits{}, ErrNotGzip, "", []string{"uncompressed tar"}},
		{"truncated gzip", truncGz[:len(truncGz)/2], Limits{}, ErrNotGzip, "-", []string{"truncated"}},
		{"gzip CRC", badCRC, Limits{}, ErrNotGzip, "", []string{"corrupt gzip"}},
		{"trailing garbage", append(tgz(pj), "junk"...), Limits{}, ErrNotGzip, "", []string{"data follows the end of the gzip stream"}},
		{"trailing zeros after gzip", append(tgz(pj), 0, 0, 0, 0), Limits{}, ErrNotGzip, "", []string{"data follows the end of the gzip stream"}},
		{"two gzip members", twoMembers, Limits{}, ErrNotGzip, "", []string{"second gzip member"}},

		// tar structure
		{"truncated in data", gz(append(pj, hdr{name: "package/a", data: make([]byte, 5000)}.bytes()[:1024]...)), Limits{}, ErrNotTar, "package/a", []string{"truncated"}},
		{"no end marker", gz(pj), Limits{}, ErrNotTar, "", []string{"without the end-of-archive marker"}},
		{"one zero block", gz(append(pj, make([]byte, 512)...)), Limits{}, ErrNotTar, "", []string{"single zero block"}},
		{"zero block then entry", gz(append(append(pj, make([]byte, 512)...), archive(file("package/hidden", "x"))...)), Limits{}, ErrNotTar, "", []string{"zero block is followed by more data"}},
		{"data after end marker", gz(append(archive(pj), file("package/hidden", "x")...)), Limits{}, ErrNotTar, "", []string{"data follows the end-of-archive marker"}},
		{"bad checksum", tgz(pj, hdr{name: "package/a", broken: func(b *[blockSize]byte) { b[0] = 'q' }}.bytes()), Limits{}, ErrNotTar, "qackage/a", []string{"bad header checksum"}},
		{"signed checksum", tgz(pj, hdr{name: "package/a", uname: "üser", broken: func(b *[blockSize]byte) {
			sum := 0
			for i, c := range b {
				if i >= 148 && i < 156 {
					c = ' '
				}
				sum += int(int8(c))
			}
			copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
		}}.bytes()), Limits{}, ErrNotTar, "package/a", []string{"bad header checksum"}},
		{"checksum without terminator", tgz(pj, hdr{name: "package/a", broken: func(b *[blockSize]byte) {
			copy(b[148:156], "0"+string(b[148:154])+"0") // 8 digits: node-tar reads on into the type flag
		}}.bytes()), Limits{}, ErrNotTar, "package/a", []string{"checksum field"}},
		{"no magic (v7)", tgz(pj, hdr{name: "package/a", magic: "\x00\x00\x00\x00\x00\x00\x00\x00"}.bytes()), Limits{}, ErrNotTar, "", []string{"without ustar or GNU tar magic", `after entry "package/package.json"`}},
		{"ustar magic, GNU version", tgz(pj, hdr{name: "package/a", magic: "ustar\x00 \x00"}.bytes()), Limits{}, ErrNotTar, "", []string{"magic"}},
		{"junk between prefix and times", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[460:470], "junk") })), Limits{}, ErrNotTar, "package/a", []string{"junk after the name prefix"}},
		{"malformed access time", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[476:488], "\x81") })), Limits{}, ErrNotTar, "package/a", []string{"junk after the name prefix"}},
		{"star trailer", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[508:512], "tar\x00") })), Limits{}, ErrNotTar, "package/a", []string{"junk after the name prefix"}},
		{"GNU header with times", tgz(pj, hdr{name: "package/a", magic: "ustar  \x00", edit: func(b *[blockSize]byte) { copy(b[345:357], "14000000000\x00") }}.bytes()), Limits{}, ErrNotTar, "package/a", []string{"GNU header with sparse"}},
		{"newline after the name's NUL", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[9:], "\x00\n/../../../b") })), Limits{}, ErrNotTar, "package/a", []string{"bytes after the end of the name"}},
		{"linkname on a file", tgz(pj, hdr{name: "package/a", linkname: "b"}.bytes()), Limits{}, ErrNotTar, "package/a", []string{"link target on an entry that is not a link"}},
		{"empty name", tgz(pj, hdr{name: ""}.bytes()), Limits{}, ErrNotTar, "", []string{"empty name"}},
		{"mode with junk", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[100:108], "0644x \x00") })), Limits{}, ErrNotTar, "package/a", []string{"malformed mode"}},
		{"size with junk", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[124:136], "1 2        \x00") })), Limits{}, ErrNotTar, "package/a", []string{"malformed size"}},
		{"negative base-256 size", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[124:136], "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe") })), Limits{}, ErrNotTar, "package/a", []string{"malformed size"}},
		{"base-256 uid with a bad marker", tgz(pj, reg("package/a", func(b *[blockSize]byte) { copy(b[108:116], "\x81\x00\x00\x00\x00\x00\x00\x01") })), Limits{}, ErrNotTar, "package/a", []string{"malformed numeric field at offset 108"}},
		{"file named like a folder", tgz(pj, file("package/a/", "data")), Limits{}, ErrNotTar, "package/a/", []string{"regular file whose name ends in '/'"}},
		{"folder with data", tgz(pj, hdr{name: "package/d/", typ: '5', size: 512}.bytes()), Limits{}, ErrNotTar, "package/d/", []string{"folder entry with 512 bytes"}},

		// entry types
		{"hard link", tgz(pj, typ("package/b", '1', "package/package.json")), Limits{}, ErrLink, "package/b", []string{`hard link to "package/package.json"`}},
		{"symlink", tgz(pj, typ("package/b", '2', "../../etc/passwd")), Limits{}, ErrLink, "package/b", []string{`symbolic link to "../../etc/passwd"`}},
		{"GNU long link", tgz(pj, hdr{name: "././@LongLink", typ: 'K', data: []byte("target\x00")}.bytes()), Limits{}, ErrLink, "././@LongLink", []string{"long link"}},
		{"pax linkpath", tgz(pj, paxHdr('x', "linkpath", "/etc"), file("package/a", "")), Limits{}, ErrLink, "PaxHeader/entry", []string{"linkpath"}},
		{"char device", tgz(pj, typ("package/tty", '3', "")), Limits{}, ErrSpecialFile, "package/tty", []string{"character device"}},
		{"block device", tgz(pj, typ("package/sda", '4', "")), Limits{}, ErrSpecialFile, "package/sda", []string{"block device"}},
		{"fifo", tgz(pj, typ("package/p", '6', "")), Limits{}, ErrSpecialFile, "package/p", []string{"FIFO"}},
		{"contiguous file", tgz(pj, typ("package/c", '7', "")), Limits{}, ErrSpecialFile, "package/c", []string{`entry type "7"`}},
		{"old pax type X", tgz(pj, hdr{name: "package/x", typ: 'X', data: []byte(paxRec("path", "package/../../x"))}.bytes()), Limits{}, ErrSpecialFile, "package/x", []string{`entry type "X"`}},
		{"GNU sparse", tgz(pj, typ("package/s", 'S', "")), Limits{}, ErrSpecialFile, "package/s", []string{`entry type "S"`}},
		{"GNU dump dir", tgz(pj, typ("package/d", 'D', "")), Limits{}, ErrSpecialFile, "package/d", []string{`entry type "D"`}},
		{"setuid", tgz(pj, hdr{name: "package/su", mode: 0o4755}.bytes()), Limits{}, ErrSpecialFile, "package/su", []string{"setuid"}},
		{"sticky folder", tgz(pj, hdr{name: "package/tmp/", typ: '5', mode: 0o1777}.bytes()), Limits{}, ErrSpecialFile, "package/tmp/", []string{"sticky"}},

		// extended headers
		{"two pax headers", tgz(pj, paxHdr('x', "path", "package/a"), paxHdr('x', "mtime", "1"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"second extended header"}},
		{"pax then long name", tgz(pj, paxHdr('x', "mtime", "1"), longName("package/b"), file("package/c", "")), Limits{}, ErrNotTar, "././@LongLink", []string{"second extended header"}},
		{"long name then pax", tgz(pj, longName("package/b"), paxHdr('x', "path", "package/a"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"second extended header"}},
		{"pax then global", tgz(pj, paxHdr('x', "path", "package/a"), paxHdr('g', "comment", "x"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"second extended header"}},
		{"pax at the end", tgz(pj, paxHdr('x', "path", "package/a")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"no entry after it"}},
		{"pax mode", tgz(pj, paxHdr('x', "mode", "4755"), file("package/a", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{`pax record "mode" is not accepted`}},
		{"pax type", tgz(pj, paxHdr('x', "type", "SymbolicLink"), file("package/a", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{`"type"`}},
		{"pax xattr", tgz(pj, paxHdr('x', "SCHILY.xattr.security.capability", "x"), file("package/a", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"SCHILY.xattr"}},
		{"pax sparse", tgz(pj, paxHdr('x', "GNU.sparse.size", "100"), file("package/a", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"GNU.sparse.size"}},
		{"global size", tgz(paxHdr('g', "size", "0"), pj), Limits{}, ErrNotTar, "PaxHeader/entry", []string{`pax global record "size"`}},
		{"global path", tgz(paxHdr('g', "path", "package/x"), pj), Limits{}, ErrNotTar, "PaxHeader/entry", []string{`pax global record "path"`}},
		{"pax key twice", tgz(pj, paxHdr('x', "path", "package/a", "path", "package/b"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"appears twice"}},
		{"pax length wrong", tgz(pj, hdr{name: "PaxHeader/a", typ: 'x', data: []byte("99 path=package/a\n")}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/a", []string{"malformed pax record"}},
		{"pax length with leading zero", tgz(pj, hdr{name: "PaxHeader/a", typ: 'x', data: []byte("019 path=package/a\n")}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/a", []string{"malformed pax record length"}},
		{"pax newline in value", tgz(pj, hdr{name: "PaxHeader/a", typ: 'x', data: []byte(paxRec("path", "package/a\n1 x"))}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/a", []string{"NUL or newline"}},
		{"pax NUL in value", tgz(pj, paxHdr('x', "path", "package/a\x00b"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"NUL or newline"}},
		{"pax not UTF-8", tgz(pj, paxHdr('x', "path", "package/\xff"), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"not valid UTF-8"}},
		{"pax trailing NULs", tgz(pj, hdr{name: "PaxHeader/a", typ: 'x', data: []byte(paxRec("path", "package/a") + "\x00\x00")}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "PaxHeader/a", []string{"malformed pax record"}},
		{"pax size disagrees", tgz(pj, paxHdr('x', "size", "0"), file("package/a", "hidden header here")), Limits{}, ErrNotTar, "package/a", []string{"pax size 0 disagrees with the header's size 18"}},
		{"pax size in hex", tgz(pj, paxHdr('x', "size", "0x1"), file("package/a", "x")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{`malformed pax size "0x1"`}},
		{"pax mtime junk", tgz(pj, paxHdr('x', "mtime", "soon"), file("package/a", "x")), Limits{}, ErrNotTar, "PaxHeader/entry", []string{"malformed pax mtime"}},
		{"pax header too big", tgz(pj, paxHdr('x', "comment", strings.Repeat("c", maxMeta)), file("package/a", "x")), Limits{}, ErrLimit, "PaxHeader/entry", []string{"extended header of"}},
		{"empty pax path", tgz(pj, paxHdr('x', "path", ""), file("package/a", "x")), Limits{}, ErrUnsafePath, "", []string{"empty name"}},
		{"long name with junk", tgz(pj, hdr{name: "././@LongLink", typ: 'L', data: []byte("package/a\x00junk")}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "././@LongLink", []string{"malformed GNU long name"}},
		{"empty long name", tgz(pj, hdr{name: "././@LongLink", typ: 'L', data: []byte("\x00")}.bytes(), file("package/c", "")), Limits{}, ErrNotTar, "././@LongLink", []string{"malformed GNU long name"}},
		{"pax path hides a traversal from naive readers", tgz(pj, paxHdr('x', "path", "package/a"), file("../../evil", "x")), Limits{}, ErrUnsafePath, "../../evil", []string{"'..' component", "the header block's own name"}},
		{"pax header named to escape", tgz(pj, hdr{name: "/tmp/PaxHeader", typ: 'x', data: []byte(paxRec("path", "package/a"))}.bytes(), file("package/b", "")), Limits{}, ErrUnsafePath, "/tmp/PaxHeader", []string{"absolute"}},
		{"non-ASCII pax path over one block", tgz(pj, file("package/index.js", "real"), paxHdr('x', "path", "package/"+long+".js"), file("package/index.js", "evil")),
			Limits{}, ErrNotTar, "package/" + long + ".js", []string{"non-ASCII name in an extended header of 621 bytes", "garble"}},
		{"non-ASCII GNU long name over one block", tgz(pj, longName("package/"+long), file("package/x", "")),
			Limits{}, ErrNotTar, "package/" + long, []string{"non-ASCII name in an extended header of 609 bytes"}},

		// names
		{"absolute", tgz(file("/package/package.json", "{}")), Limits{}, ErrUnsafePath, "/package/package.json", []string{"absolute"}},
		{"dot-dot", tgz(pj, file("package/../../etc/x", "")), Limits{}, ErrUnsafePath, "package/../../etc/x", []string{"'..' component"}},
		{"dot-dot root", tgz(file("../package.json", "")), Limits{}, ErrUnsafePath, "../package.json", []string{"'..'"}},
		{"pax dot-dot", tgz(pj, paxHdr('x', "path", "package/../x"), file("package/x", "")), Limits{}, ErrUnsafePath, "package/../x", []string{"'..' component"}},
		{"GNU long name dot-dot", tgz(pj, longName("package/a/../../../x"), file("package/x", "")), Limits{}, ErrUnsafePath, "package/a/../../../x", []string{"'..'"}},
		{"backslash", tgz(pj, file(`package/..\..\x`, "")), Limits{}, ErrUnsafePath, `package/..\..\x`, []string{"backslash"}},
		{"drive letter", tgz(pj, file("package/C:/x", "")), Limits{}, ErrUnsafePath, "package/C:/x", []string{"drive letter"}},
		{"colon", tgz(pj, file("package/x/ab:c", "")), Limits{}, ErrUnsafePath, "package/x/ab:c", []string{"data stream"}},
		{"empty component", tgz(pj, file("package//a", "")), Limits{}, ErrUnsafePath, "package//a", []string{"empty component"}},
		{"dot component", tgz(pj, file("package/./a", "")), Limits{}, ErrUnsafePath, "package/./a", []string{"'.' component"}},
		{"dot root", tgz(file("./package/package.json", "{}")), Limits{}, ErrUnsafePath, "./package/package.json", []string{"'.' component"}},
		{"trailing dot", tgz(pj, file("package/a.", "")), Limits{}, ErrUnsafePath, "package/a.", []string{"ending in a dot or space"}},
		{"trailing space", tgz(pj, file("package/a /b", "")), Limits{}, ErrUnsafePath, "package/a /b", []string{`"a "`}},
		{"control character", tgz(pj, file("package/a\nb", "")), Limits{}, ErrUnsafePath, "package/a\nb", []string{`control character "\n"`}},
		{"not UTF-8", tgz(pj, file("package/\xff", "")), Limits{}, ErrUnsafePath, "package/\xff", []string{"not UTF-8"}},
		{"replacement character", tgz(pj, file("package/\uFFFD", "")), Limits{}, ErrUnsafePath, "package/\uFFFD", []string{"U+FFFD"}},
		{"two roots", tgz(pj, file("other/a", "")), Limits{}, ErrUnsafePath, "other/a", []string{`outside the top folder "package"`}},
		{"top-level file", tgz(file("package.json", "{}")), Limits{}, ErrUnsafePath, "package.json", []string{"top level"}},
		{"name too long", tgz(pj, longName("package/"+strings.Repeat("a", 5000)), file("package/x", "")), Limits{}, ErrLimit, "package/" + strings.Repeat("a", 5000), []string{"name of 5008 bytes, longer than the 4096 allowed"}},
		{"name over the limit", tgz(pj, longName("package/"+strings.Repeat("a", 100)), file("package/x", "")), Limits{MaxPathLength: 64}, ErrLimit, "package/" + strings.Repeat("a", 100), []string{"longer than the 64 allowed"}},

		// duplicates
		{"same file twice", tgz(pj, file("package/a", "1"), file("package/a", "2")), Limits{}, ErrDuplicate, "package/a", []string{"already has a file"}},
		{"package.json twice", tgz(pj, file("package/package.json", "{}")), Limits{}, ErrDuplicate, "package/package.json", []string{"already has a file"}},
		{"file then file inside it", tgz(pj, file("package/a", "1"), file("package/a/b", "2")), Limits{}, ErrDuplicate, "package/a/b", []string{`"package/a" is a file`}},
		{"file inside then file", tgz(pj, file("package/a/b", "1"), file("package/a", "2")), Limits{}, ErrDuplicate, "package/a", []string{"already has a folder"}},
		{"file then folder", tgz(pj, file("package/a", "1"), dir("package/a/")), Limits{}, ErrDuplicate, "package/a/", []string{"already has a file"}},
		{"folder twice", tgz(pj, dir("package/a/"), dir("package/a")), Limits{}, ErrDuplicate, "package/a", []string{"appears twice"}},
		{"root folder twice", tgz(dir("package/"), pj, dir("package")), Limits{}, ErrDuplicate, "package", []string{"appears twice"}},
		{"case", tgz(pj, file("package/README.md", "1"), file("package/readme.md", "2")), Limits{}, ErrDuplicate, "package/readme.md", []string{`differs only in letter case from "package/README.md"`}},
		{"case of a folder", tgz(pj, file("package/Lib/a", "1"), file("package/lib/b", "2")), Limits{}, ErrDuplicate, "package/lib/b", []string{`"package/Lib"`}},
		{"case, unicode", tgz(pj, file("package/ÉTÉ", "1"), file("package/été", "2")), Limits{}, ErrDuplicate, "package/été", []string{"letter case"}},
		{"case, Kelvin sign", tgz(pj, file("package/k", "1"), file("package/\u212a", "2")), Limits{}, ErrDuplicate, "package/\u212a", []string{"letter case"}},

		// limits
		{"too many entries", tgz(pj, file("package/a", ""), file("package/b", "")), Limits{MaxEntries: 2}, ErrLimit, "package/b", []string{"more than 2 entries"}},
		{"big entry, stopped at its header", gz(append(pj, hdr{name: "package/big", edit: func(b *[blockSize]byte) {
			copy(b[124:136], "\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00")
		}}.bytes()...)), Limits{}, ErrLimit, "package/big", []string{"4294967296 bytes, more than the 536870912"}},
		{"files total, stopped at a header", gz(append(append(pj, file("package/a", strings.Repeat("a", 600_000))...), hdr{name: "package/b", data: make([]byte, 600_000)}.bytes()[:512]...)),
			Limits{MaxUnpackedSize: 1 << 20}, ErrLimit, "package/b", []string{"files total more than 1048576 bytes"}},
		{"stream size", tgz(pj, file("package/a", strings.Repeat("a", 4000))), Limits{MaxUnpackedSize: 4096}, ErrLimit, "package/a", []string{"more than 4096 bytes unpacked"}},
		{"package.json too big", tgz(file("package/package.json", `{"name":"x","version":"1.0.0","d":"`+strings.Repeat("x", 100)+`"}`)), Limits{MaxPackageJSON: 64}, ErrLimit, "package/package.json", []string{"more than the 64 allowed"}},
		{"ratio", tgz(pj, hdr{name: "package/zeros", data: zeros}.bytes()), Limits{}, ErrLimit, "package/zeros", []string{"compression ratio above 200"}},

		// package.json
		{"no entries", gz(endMarker), Limits{}, ErrNoPackageJSON, "", []string{"no entries"}},
		{"no package.json", tgz(file("package/index.js", "")), Limits{}, ErrNoPackageJSON, "", []string{"no package/package.json"}},
		{"nested package.json only", tgz(file("node/lib/package.json", "{}")), Limits{}, ErrNoPackageJSON, "", []string{"no node/package.json"}},
		{"package.json folder", tgz(dir("package/package.json/"), file("package/package.json/x", "")), Limits{}, ErrNoPackageJSON, "", nil},
		{"bad JSON", tgz(file("package/package.json", "{")), Limits{}, ErrBadManifest, "package/package.json", []string{"invalid JSON"}},
		{"bad name", tgz(file("package/package.json", `{"name":"Bad Name","version":"1.0.0"}`)), Limits{}, ErrBadManifest, "package/package.json", []string{`invalid package name "Bad Name"`}},
		{"bad version", tgz(file("package/package.json", `{"name":"x","version":"v1.0.0"}`)), Limits{}, ErrBadManifest, "package/package.json", []string{`write it as "1.0.0"`}},
		{"no version", tgz(file("package/package.json", `{"name":"x"}`)), Limits{}, ErrBadManifest, "package/package.json", []string{"invalid version"}},
	}
}

func TestRefuses(t *testing.T) {
	for _, tt := range refusals() {
		t.Run(tt.name, func(t *testing.T) {
			c, err := inspect(t, tt.tgz, tt.lim)
			if err == nil {
				t.Fatalf("accepted: %+v", c.Files)
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %q is not %v", err, tt.kind)
			}
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %q is not an *EntryError", err)
			}
			if tt.entry != "-" && ee.Entry != tt.entry {
				t.Errorf("Entry = %q, want %q (error %q)", ee.Entry, tt.entry, err)
			}
			if ee.Entry != "" && !strings.Contains(err.Error(), quote(ee.Entry)) {
				t.Errorf("message %q does not name the entry", err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not mention %q", err, m)
				}
			}
			if strings.HasSuffix(err.Error(), ".") || err.Error() != strings.TrimSpace(err.Error()) {
				t.Errorf("message %q: no final period or surrounding space", err)
			}
		})
	}
}

func TestHints(t *testing.T) {
	for _, tt := range []struct {
		tgz  []byte
		want string
	}{
		{tgz(pjson("package"), hdr{name: "package/b", typ: '1', linkname: "package/package.json"}.bytes()), "replace the links with copies"},
		{[]byte("nope"), "npm pack or airlock pack wrote"},
		{tgz(file("package/package.json", "{")), "fix the JSON syntax"}, // manifest's own advice wins
		{tgz(file("package/package.json", `{"name":"x","version":"1"}`)), "fix package.json"},
	} {
		_, err := inspect(t, tt.tgz, Limits{})
		if got := hint.Of(err); !strings.Contains(got, tt.want) {
			t.Errorf("%v: hint %q, want it to mention %q", err, got, tt.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	if got := (Limits{MaxRatio: -1, MaxEntries: -5}).withDefaults(); got != DefaultLimits() {
		t.Errorf("zero and negative limits give %+v, want the defaults %+v", got, DefaultLimits())
	}
}

func TestCancel(t *testing.T) {
	data := tgz(pjson("package"), file("package/a", "x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Tarball(ctx, bytes.NewReader(data), -1, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: %v", err)
	}

	// Cancelled while reading: the reader cancels after handing over
	// the first bytes.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	big := tgz(pjson("package"), hdr{name: "package/r", data: bytes.Repeat([]byte("0123456789abcdef"), 1<<16)}.bytes())
	r := &cancelAfter{r: bytes.NewReader(big), n: 100, cancel: cancel}
	if _, err := Tarball(ctx, r, -1, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during: %v", err)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 64)])
	c.n -= n
	return n, err
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReadErrorIsNotBlamedOnTheTarball(t *testing.T) {
	boom := errors.New("disk on fire")
	data := tgz(pjson("package"))
	r := io.MultiReader(bytes.NewReader(data[:20]), failingReader{boom})
	_, err := Tarball(t.Context(), r, -1, Limits{})
	if !errors.Is(err, boom) || errors.Is(err, ErrNotGzip) {
		t.Errorf("got %v; want the reader's error, not a gzip refusal", err)
	}
}

// The file modes reported are permission bits only.
func TestModes(t *testing.T) {
	c, err := inspect(t, tgz(pjson("package"), hdr{name: "package/x", mode: 0o100755}.bytes()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Files[1].Mode; m != fs.FileMode(0o755) {
		t.Errorf("mode %v, want 0755", m)
	}
}
