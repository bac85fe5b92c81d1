package inspect

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/klauspost/compress/gzip"
)

// Tarballs are built block by block so that tests can make exactly the
// malformed headers they are about; archive/tar would refuse to write most.

// hdr is one header block and its data. Zero fields take the values npm
// writes.
type hdr struct {
	name     string
	prefix   string
	typ      byte // 0 means '0'; use edit to write a NUL type flag
	size     int64
	data     []byte
	mode     int64  // 0 means 0o644, or 0o755 for folders
	linkname string // written as is
	magic    string // "" means "ustar\x0000"
	uname    string
	edit     func(b *[blockSize]byte) // before the checksum is computed
	broken   func(b *[blockSize]byte) // after it
}

func octalField(b []byte, v int64) {
	s := strconv.FormatInt(v, 8)
	for len(s) < len(b)-2 {
		s = "0" + s
	}
	copy(b, s+" \x00")
}

func (h hdr) block() [blockSize]byte {
	var b [blockSize]byte
	if h.typ == 0 {
		h.typ = '0'
	}
	if h.mode == 0 {
		h.mode = 0o644
		if h.typ == '5' {
			h.mode = 0o755
		}
	}
	if h.size == 0 {
		h.size = int64(len(h.data))
	}
	if h.magic == "" {
		h.magic = "ustar\x0000"
	}
	copy(b[0:100], h.name)
	octalField(b[100:108], h.mode)
	octalField(b[108:116], 0)
	octalField(b[116:124], 0)
	octalField(b[124:136], h.size)
	octalField(b[136:148], 499162500)
	b[156] = h.typ
	copy(b[157:257], h.linkname)
	copy(b[257:265], h.magic)
	copy(b[265:297], h.uname)
	copy(b[345:500], h.prefix)
	if h.edit != nil {
		h.edit(&b)
	}
	setChecksum(&b)
	if h.broken != nil {
		h.broken(&b)
	}
	return b
}

func setChecksum(b *[blockSize]byte) {
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// bytes is the header block, the data and its padding.
func (h hdr) bytes() []byte {
	b := h.block()
	out := append(b[:], h.data...)
	return append(out, make([]byte, padding(int64(len(h.data))))...)
}

func file(name, data string) []byte { return hdr{name: name, data: []byte(data)}.bytes() }
func dir(name string) []byte        { return hdr{name: name, typ: '5'}.bytes() }

// pjson is a package.json entry under root.
func pjson(root string) []byte {
	return file(root+"/package.json", `{"name":"x","version":"1.0.0"}`)
}

// paxRec formats one pax record, length included.
func paxRec(key, value string) string {
	s := " " + key + "=" + value + "\n"
	n := len(s) + 1
	for len(strconv.Itoa(n))+len(s) != n {
		n++
	}
	return strconv.Itoa(n) + s
}

// paxHdr is a pax header of type typ ('x' or 'g') with records given as
// key, value pairs.
func paxHdr(typ byte, kv ...string) []byte {
	var body string
	for i := 0; i < len(kv); i += 2 {
		body += paxRec(kv[i], kv[i+1])
	}
	return hdr{name: "PaxHeader/entry", typ: typ, data: []byte(body)}.bytes()
}

// longName is a GNU long-name header for name.
func longName(name string) []byte {
	return hdr{name: "././@LongLink", typ: 'L', data: []byte(name + "\x00"), magic: "ustar  \x00"}.bytes()
}

var endMarker = make([]byte, 2*blockSize)

// archive joins entries and adds the end-of-archive marker.
func archive(parts ...[]byte) []byte {
	return append(bytes.Join(parts, nil), endMarker...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// tgz is gz(archive(parts...)).
func tgz(parts ...[]byte) []byte { return gz(archive(parts...)) }
