package tarball

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file ports node-tar 7's header.js, pax.js and large-numbers.js for
// the fields npm's portable mode sets. Where node-tar's behaviour is odd
// (UTF-16 slicing, the prefix split search, " \0"-terminated octal), the
// oddity is kept on purpose: the point is identical bytes.

const (
	blockSize = 512
	nameSize  = 100
	// Portable mode never writes atime/ctime, so node-tar always uses the
	// full 155-byte ustar prefix (it drops to 130 when they are present).
	prefixSize = 155

	typeFile     = '0'
	typeLink     = '1'
	typeSymlink  = '2'
	typeExtended = 'x'
)

// npmMtime is the mtime npm stamps on every entry (pacote's
// tar-create-options.js: 1985-10-26T08:15:00.000Z), in Unix seconds.
const npmMtime = 499162500

// header is what node-tar's Header carries in portable mode: no uid, gid,
// uname, gname, atime or ctime.
type header struct {
	path     string
	linkpath string
	hasLink  bool // linkpath is set (node-tar: linkpath !== undefined)
	mode     int64
	size     int64
	typ      byte
}

// encode fills b the way Header.encode does and reports whether node-tar
// would precede the entry with a PAX extended header.
func (h *header) encode(b *[blockSize]byte) (needPax bool) {
	*b = [blockSize]byte{}
	name, prefix, needPax := splitPrefix(h.path)
	needPax = encString(b[0:100], name) || needPax
	needPax = encNumber(b[100:108], h.mode) || needPax
	needPax = encNumber(b[124:136], h.size) || needPax
	needPax = encNumber(b[136:148], npmMtime) || needPax
	b[156] = h.typ
	if h.hasLink {
		needPax = encString(b[157:257], h.linkpath) || needPax
	}
	copy(b[257:265], "ustar\x0000")
	// devmaj and devmin default to 0 in node-tar, so they are written as
	// octal zeros even though uid and gid are left empty.
	encNumber(b[329:337], 0)
	encNumber(b[337:345], 0)
	needPax = encString(b[345:345+prefixSize], prefix) || needPax

	sum := int64(8 * ' ')
	for _, c := range b[:148] {
		sum += int64(c)
	}
	for _, c := range b[156:] {
		sum += int64(c)
	}
	encNumber(b[148:156], sum)
	return needPax
}

// splitPrefix is node-tar's splitPrefix with the 155-byte prefix. It
// returns the name and prefix fields and whether the path did not fit.
//
// node-tar starts with the base name and moves one directory at a time
// from the prefix into the name until the prefix fits. Its dirname,
// basename and join only cut at a '/' on the paths entryPath lets
// through (plain names, with a '/' after "package" or "PaxHeader"), so
// this walks the slashes from the right instead, which also stays linear
// on paths with thousands of parts.
func splitPrefix(p string) (name, prefix string, truncated bool) {
	if len(p) < nameSize {
		return p, "", false
	}
	for i := strings.LastIndexByte(p, '/'); i >= 0; i = strings.LastIndexByte(p[:i], '/') {
		prefix, name = p[:i], p[i+1:]
		if len(prefix) <= prefixSize {
			if len(name) <= nameSize {
				return name, prefix, false
			}
			return jsSlice(name, nameSize-1), prefix, true
		}
	}
	// Even the first directory alone is too long for the prefix.
	return jsSlice(p, nameSize-1), "", true
}

// encString writes s into field as Buffer.write(s+NULLS, 'utf8') does:
// only whole characters, the rest left zero. Like node-tar it reports a
// string that is not ASCII or longer than the field (in UTF-16 units,
// which for ASCII equals bytes).
func encString(field []byte, s string) bool {
	n := 0
	for _, r := range s {
		l := utf8.RuneLen(r)
		if l < 0 { // invalid byte: Node would have written U+FFFD
			l = 3
			r = utf8.RuneError
		}
		if n+l > len(field) {
			break
		}
		utf8.EncodeRune(field[n:], r)
		n += l
	}
	return !isASCII(s) || len(s) > len(field)
}

// maxOctal is the largest number node-tar writes as octal in a field of
// the given size; larger ones go base-256 and force a PAX header.
func maxOctal(size int) int64 {
	if size == 12 {
		return 0o77777777777
	}
	return 0o7777777
}

// encNumber writes n as node-tar's encNumber does and reports whether it
// did not fit as octal.
func encNumber(field []byte, n int64) bool {
	if n > maxOctal(len(field)) || n < 0 {
		encodeBase256(field, n)
		return true
	}
	copy(field, padOctal(strconv.FormatInt(n, 8), len(field)))
	return false
}

// padOctal is node-tar's padOctal: zero-padded, then " \0", or only "\0"
// when the digits fill all but one byte.
func padOctal(s string, size int) string {
	if len(s) == size-1 {
		return s + "\x00"
	}
	zeros := size - len(s) - 2
	b := make([]byte, 0, size)
	for range zeros {
		b = append(b, '0')
	}
	b = append(b, s...)
	return string(append(b, ' ', 0))
}

// encodeBase256 is large-numbers.js's encode. Negative numbers cannot
// occur here (sizes and modes), but the port keeps them for fidelity.
func encodeBase256(field []byte, n int64) {
	if n >= 0 {
		field[0] = 0x80
		for i := len(field); i > 1; i-- {
			field[i-1] = byte(n)
			n >>= 8
		}
		return
	}
	field[0] = 0xff
	flipped := false
	n = -n
	for i := len(field); i > 1; i-- {
		c := byte(n)
		n >>= 8
		switch {
		case flipped:
			field[i-1] = ^c
		case c == 0:
			field[i-1] = 0
		default:
			flipped = true
			field[i-1] = ^c + 1
		}
	}
}

// pax is the portable subset of node-tar's Pax: no uid, gid, names,
// times other than mtime, and no SCHILY dev/ino/nlink.
type pax struct {
	path     string
	linkpath string
	hasLink  bool
	size     int64
}

// encode returns the extended header block and its padded body.
func (p *pax) encode() []byte {
	// Field order is node-tar's encodeBody: path, …, linkpath, mtime, size.
	body := paxField(nil, "path", p.path)
	if p.hasLink {
		body = paxField(body, "linkpath", p.linkpath)
	}
	body = paxField(body, "mtime", strconv.FormatInt(npmMtime, 10))
	body = paxField(body, "size", strconv.FormatInt(p.size, 10))

	out := make([]byte, blockSize+roundBlock(int64(len(body))))
	h := header{
		path: jsSlice("PaxHeader/"+p.path[strings.LastIndexByte(p.path, '/')+1:], 99),
		mode: 0o644,
		size: int64(len(body)),
		typ:  typeExtended,
		// node-tar passes linkpath: '', which writes nothing.
	}
	h.encode((*[blockSize]byte)(out[:blockSize]))
	copy(out[blockSize:], body)
	return out
}

// paxField appends one "<len> key=value\n" record, where len counts its
// own digits.
func paxField(dst []byte, key, value string) []byte {
	n := len(key) + len(value) + 3 // ' ', '=', '\n'
	digits := len(strconv.Itoa(n))
	if n+digits >= pow10(digits) {
		digits++
	}
	dst = strconv.AppendInt(dst, int64(n+digits), 10)
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	dst = append(dst, value...)
	return append(dst, '\n')
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

func roundBlock(n int64) int64 {
	return (n + blockSize - 1) &^ (blockSize - 1)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jsSlice is String.prototype.slice(0, n): it counts UTF-16 code units,
// so it can split a surrogate pair, which Node then encodes as U+FFFD.
func jsSlice(s string, n int) string {
	if len(s) <= n { // byte length bounds the UTF-16 length
		return s
	}
	units := utf16.Encode([]rune(s))
	if len(units) <= n {
		return s
	}
	return string(utf16.Decode(units[:n]))
}
