package npmtest

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Entry is one member of a tar stream as archive/tar reads it.
type Entry struct {
	Header *tar.Header
	Data   []byte
}

// ReadTar reads every entry of an uncompressed tar stream.
func ReadTar(data []byte) ([]Entry, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	var es []Entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return es, fmt.Errorf("reading entry %d: %w", len(es), err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return es, fmt.Errorf("reading %q: %w", h.Name, err)
		}
		es = append(es, Entry{Header: h, Data: body})
	}
}

// CompareTar fails t with a description of the first differences if the
// uncompressed tar streams want and got are not byte-for-byte equal.
func CompareTar(t testing.TB, want, got []byte) {
	t.Helper()
	if d := DiffTar(want, got); d != "" {
		t.Error(d)
	}
}

// DiffTar describes how the tar stream got differs from want, or returns ""
// if they are byte-for-byte equal. It names the first differing byte (which
// entry, and which header field or data offset) and then compares the
// entries as archive/tar decodes them: names missing or extra, order, and
// the first entry whose header or content differs.
func DiffTar(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	var b strings.Builder
	off := 0
	for off < len(want) && off < len(got) && want[off] == got[off] {
		off++
	}
	fmt.Fprintf(&b, "tar streams differ (want %d bytes, got %d bytes); first differing byte at offset %d\n", len(want), len(got), off)
	fmt.Fprintf(&b, "  want: %s\n", locate(want, off))
	fmt.Fprintf(&b, "  got:  %s\n", locate(got, off))
	lo := off &^ 15
	fmt.Fprintf(&b, "  want bytes %d..: %s\n", lo, hexRow(want, lo))
	fmt.Fprintf(&b, "  got  bytes %d..: %s\n", lo, hexRow(got, lo))

	we, werr := ReadTar(want)
	ge, gerr := ReadTar(got)
	if werr != nil {
		fmt.Fprintf(&b, "want is not a valid tar stream: %v\n", werr)
	}
	if gerr != nil {
		fmt.Fprintf(&b, "got is not a valid tar stream: %v\n", gerr)
	}
	b.WriteString(diffEntries(we, ge))
	return strings.TrimRight(b.String(), "\n")
}

func diffEntries(want, got []Entry) string {
	names := func(es []Entry) []string {
		s := make([]string, len(es))
		for i, e := range es {
			s[i] = e.Header.Name
		}
		return s
	}
	var b strings.Builder
	nameDiff := diffList("entry names", names(want), names(got), strconv.Quote)
	b.WriteString(nameDiff)
	gotByName := make(map[string]Entry, len(got))
	for _, e := range got {
		gotByName[e.Header.Name] = e
	}
	differing := 0
	for _, w := range want {
		g, ok := gotByName[w.Header.Name]
		if !ok {
			continue
		}
		fields := headerDiff(w.Header, g.Header)
		content := ""
		if !bytes.Equal(w.Data, g.Data) {
			content = dataDiff(w.Data, g.Data)
		}
		if len(fields) == 0 && content == "" {
			continue
		}
		differing++
		if differing > 5 {
			continue
		}
		fmt.Fprintf(&b, "entry %q differs:\n", w.Header.Name)
		for _, f := range fields {
			fmt.Fprintf(&b, "  %s\n", f)
		}
		if content != "" {
			fmt.Fprintf(&b, "  %s\n", content)
		}
	}
	if differing > 5 {
		fmt.Fprintf(&b, "… and %d more entries with differing headers or content\n", differing-5)
	}
	if differing == 0 && nameDiff == "" {
		b.WriteString("the entries decode the same: the difference is in the encoding (see the header field above)\n")
	}
	return b.String()
}

func headerDiff(w, g *tar.Header) []string {
	var out []string
	add := func(name string, wv, gv any) {
		if fmt.Sprint(wv) != fmt.Sprint(gv) {
			out = append(out, fmt.Sprintf("%s: want %v, got %v", name, wv, gv))
		}
	}
	add("typeflag", strconv.QuoteRune(rune(w.Typeflag)), strconv.QuoteRune(rune(g.Typeflag)))
	add("linkname", strconv.Quote(w.Linkname), strconv.Quote(g.Linkname))
	add("size", w.Size, g.Size)
	add("mode", fmt.Sprintf("%#o", w.Mode), fmt.Sprintf("%#o", g.Mode))
	add("uid", w.Uid, g.Uid)
	add("gid", w.Gid, g.Gid)
	add("uname", strconv.Quote(w.Uname), strconv.Quote(g.Uname))
	add("gname", strconv.Quote(w.Gname), strconv.Quote(g.Gname))
	add("mtime", fmtTime(w.ModTime), fmtTime(g.ModTime))
	add("atime", fmtTime(w.AccessTime), fmtTime(g.AccessTime))
	add("ctime", fmtTime(w.ChangeTime), fmtTime(g.ChangeTime))
	add("devmajor", w.Devmajor, g.Devmajor)
	add("devminor", w.Devminor, g.Devminor)
	add("pax records", fmt.Sprintf("%q", w.PAXRecords), fmt.Sprintf("%q", g.PAXRecords))
	add("format", w.Format, g.Format)
	return out
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func dataDiff(w, g []byte) string {
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	snip := func(d []byte) string {
		end := min(len(d), i+24)
		if i >= len(d) {
			return "(end)"
		}
		return strconv.Quote(string(d[i:end]))
	}
	return fmt.Sprintf("content differs at byte %d of %d/%d: want %s, got %s", i, len(w), len(g), snip(w), snip(g))
}

func hexRow(d []byte, lo int) string {
	if lo >= len(d) {
		return "(end of stream)"
	}
	row := d[lo:min(len(d), lo+16)]
	return fmt.Sprintf("% x  %q", row, row)
}

// ustar header layout, for naming the field a differing byte falls in.
var headerFields = []struct {
	name       string
	start, end int
}{
	{"name", 0, 100}, {"mode", 100, 108}, {"uid", 108, 116}, {"gid", 116, 124},
	{"size", 124, 136}, {"mtime", 136, 148}, {"checksum", 148, 156}, {"typeflag", 156, 157},
	{"linkname", 157, 257}, {"magic", 257, 263}, {"version", 263, 265}, {"uname", 265, 297},
	{"gname", 297, 329}, {"devmajor", 329, 337}, {"devminor", 337, 345}, {"prefix", 345, 500},
	{"padding", 500, 512},
}

// record is one header of a tar stream as laid out in the bytes, with
// the data blocks that follow it.
type record struct {
	start, end int // header offset; offset after the data's padding
	size       int64
	name, kind string
	zero       bool // an all-zero block
	err        error
}

// records walks the 512-byte blocks of a tar stream itself, so that pax
// and GNU long-name records, which archive/tar folds into the next entry,
// show up as they are.
func records(d []byte) []record {
	var rs []record
	pos := 0
	for pos+512 <= len(d) {
		hdr := d[pos : pos+512]
		if isZero(hdr) {
			rs = append(rs, record{start: pos, end: pos + 512, zero: true})
			pos += 512
			continue
		}
		r := record{start: pos, name: cString(hdr[0:100]), kind: typeName(hdr[156])}
		if string(hdr[257:262]) == "ustar" {
			if p := cString(hdr[345:500]); p != "" {
				r.name = p + "/" + r.name
			}
		}
		r.size, r.err = parseNumber(hdr[124:136])
		if r.err != nil || r.size < 0 || int64(len(d)) < int64(pos)+512+r.size {
			if r.err == nil {
				r.err = fmt.Errorf("size %d runs past the end of the stream", r.size)
			}
			r.end = len(d)
			return append(rs, r)
		}
		r.end = pos + 512 + int((r.size+511)&^511)
		rs = append(rs, r)
		pos = r.end
	}
	return rs
}

// locate says what the byte at off is part of.
func locate(d []byte, off int) string {
	if off >= len(d) {
		return fmt.Sprintf("past the end of the stream (%d bytes)", len(d))
	}
	for _, r := range records(d) {
		if off >= r.end {
			continue
		}
		if r.zero {
			return fmt.Sprintf("zero block at %d (end-of-archive marker or trailing padding)", r.start)
		}
		if rel := off - r.start; rel < 512 {
			for _, f := range headerFields {
				if rel >= f.start && rel < f.end {
					return fmt.Sprintf("header of %s %q (header at %d), field %s, byte %d of the field: %q",
						r.kind, r.name, r.start, f.name, rel-f.start, cString(d[r.start+f.start:r.start+f.end]))
				}
			}
		}
		if r.err != nil {
			return fmt.Sprintf("inside %s %q whose header at %d is unreadable: %v", r.kind, r.name, r.start, r.err)
		}
		if rel := int64(off - r.start - 512); rel < r.size {
			return fmt.Sprintf("data of %s %q (header at %d), byte %d of %d", r.kind, r.name, r.start, rel, r.size)
		}
		return fmt.Sprintf("padding after the data of %s %q (header at %d)", r.kind, r.name, r.start)
	}
	return fmt.Sprintf("in a trailing partial block of a %d-byte stream", len(d))
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeReg, tar.TypeRegA:
		return "file"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeDir:
		return "directory"
	case tar.TypeXHeader:
		return "pax header"
	case tar.TypeXGlobalHeader:
		return "pax global header"
	case tar.TypeGNULongName:
		return "GNU long name"
	case tar.TypeGNULongLink:
		return "GNU long link name"
	}
	return fmt.Sprintf("entry of type %q", flag)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseNumber reads a tar numeric field: octal text, or base-256 when the
// high bit of the first byte is set.
func parseNumber(b []byte) (int64, error) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var n int64
		for i, c := range b {
			if i == 0 {
				c &= 0x7f
			}
			n = n<<8 | int64(c)
		}
		return n, nil
	}
	s := strings.TrimRight(strings.TrimLeft(cString(b), " "), " ")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil {
		return 0, errors.New("not an octal number: " + strconv.Quote(s))
	}
	return n, nil
}
