package inspect

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The tar layer. This is its own strict reader rather than archive/tar
// because the check must see the raw header bytes: archive/tar accepts
// headers that npm's node-tar reads differently, and a difference in
// where one reader thinks an entry's data ends lets a tarball show one set
// of files to this check and another to npm. Examples, each refused here:
//
//   - a checksum valid only as a signed sum: Go accepts it, node-tar skips
//     the 512-byte header and reads the entry's data as headers;
//   - a linkname on a regular file, an empty name, a malformed number, a
//     numeric field with trailing junk: node-tar skips the header block;
//   - bytes after the NUL that ends a name: node-tar's /\0.*/ stops at a
//     line break and keeps what follows it as part of the name;
//   - a '0' entry whose name ends in '/': node-tar makes it a folder with
//     no data, Go a file with data;
//   - pax records node-tar applies and Go ignores (mode, type, size in a
//     global header), two pax headers for one entry (node-tar merges them,
//     Go keeps the last), a GNU long name and a pax path together (the
//     winner depends on the reader and the order);
//   - a pax size that disagrees with the header's size field, for readers
//     that ignore pax;
//   - a non-ASCII pax path or GNU long name in a body over one block:
//     node-tar decodes it piecewise and, when the stream splits a
//     character, garbles the name or falls back to the header's own name;
//   - data after the end-of-archive marker (GNU tar --ignore-zeros), a
//     single zero block then more entries (node-tar carries on, others
//     stop), vendor types ('X', 'N', 'S', 'D', …) some readers understand.
//
// What is accepted: ustar ("ustar\x0000", as node-tar writes) or GNU
// ("ustar  \x00") headers with valid unsigned checksums; regular files
// ('0' or NUL) and folders ('5'); pax extended headers ('x') with path,
// size and harmless metadata; pax global headers ('g', git archive writes
// one) with harmless metadata only; GNU long names ('L'); the two-block
// end marker, then only zeros (GNU tar pads to 10 KiB records).

const (
	blockSize = 512
	// maxMeta bounds a pax header or GNU long name. node-tar ignores meta
	// entries over 1 MiB (and so would read a different name than Go),
	// and no real one comes close to this.
	maxMeta = 64 << 10
	// maxSafe is the largest integer a JavaScript number holds exactly;
	// node-tar refuses larger ones.
	maxSafe = 1<<53 - 1

	typeFile   = '0'
	typeDir    = '5'
	typeGlobal = 'g'
)

var zeroBlock [blockSize]byte

// header is an entry as every reader sees it, once accepted.
type header struct {
	name string // effective: the pax path or GNU long name if any, else the header's own
	typ  byte   // typeFile, typeDir or typeGlobal
	size int64
	mode int64
}

// reader reads tar headers from the decompressed stream.
type reader struct {
	r      io.Reader
	lim    Limits
	blk    [blockSize]byte
	cur    string // the current entry's name, for errors
	remain int64  // data of the current entry not yet read
	pad    int64  // padding after it
	meta   []byte // reused buffer for pax and long-name bodies
	buf    [16 << 10]byte
}

// Read reads the current entry's data.
func (t *reader) Read(p []byte) (int, error) {
	if t.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > t.remain {
		p = p[:t.remain]
	}
	n, err := t.r.Read(p)
	t.remain -= int64(n)
	if err == io.EOF && t.remain > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		return n, t.fail(err)
	}
	return n, nil
}

// fail names the current entry in errors from below, and turns an early
// end of the stream into a truncation error.
func (t *reader) fail(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return refuse(ErrNotTar, t.cur, "the archive is truncated")
	}
	var ee *EntryError
	if errors.As(err, &ee) && ee.Entry == "" && t.cur != "" {
		ee.Entry = t.cur
	}
	return err
}

// skip discards the rest of the current entry and its padding.
func (t *reader) skip() error {
	n := t.remain + t.pad
	t.remain, t.pad = 0, 0
	if n == 0 {
		return nil
	}
	for n > 0 {
		m, err := t.r.Read(t.buf[:min(n, int64(len(t.buf)))])
		n -= int64(m)
		if err == io.EOF && n > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return t.fail(err)
		}
	}
	return nil
}

// readBlock reads one block; at a clean end of stream it returns io.EOF.
func (t *reader) readBlock() error {
	_, err := io.ReadFull(t.r, t.blk[:])
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return t.fail(err)
	}
	return nil
}

// next returns the next file, folder or global header, or io.EOF after
// the end-of-archive marker.
func (t *reader) next() (*header, error) {
	if err := t.skip(); err != nil {
		return nil, err
	}
	var (
		pax      map[string]string // pending extended header
		longName string            // pending GNU long name
		metaName string            // the pending meta header's own name, for errors
		metaLen  int64             // and its body's length
		hasPax   bool
		hasLong  bool
	)
	pending := func() bool { return hasPax || hasLong }
	for {
		prev := t.cur
		if err := t.readBlock(); err != nil {
			if err == io.EOF {
				return nil, refuse(ErrNotTar, "", "the archive ends without the end-of-archive marker (two zero blocks): truncated?")
			}
			return nil, err
		}
		if t.blk == zeroBlock {
			if err := t.readBlock(); err != nil {
				if err == io.EOF {
					return nil, refuse(ErrNotTar, "", "the archive ends after a single zero block: truncated?")
				}
				return nil, err
			}
			if t.blk != zeroBlock {
				return nil, refuse(ErrNotTar, "", "a zero block is followed by more data; node-tar would read on, other readers stop")
			}
			if pending() {
				return nil, refuse(ErrNotTar, metaName, "an extended header is the last thing in the archive, with no entry after it")
			}
			t.cur = ""
			return nil, io.EOF
		}
		raw, err := parseBlock(&t.blk)
		if err != nil {
			if err.Entry == "" && prev != "" {
				err.Reason += " (after entry " + quote(prev) + ")"
			}
			return nil, err
		}
		t.cur = raw.name
		if reason := escapes(raw.name); reason != "" {
			switch {
			case raw.typ == 'x' || raw.typ == 'g' || raw.typ == 'L' || raw.typ == 'K':
				reason += " (an extended header's own name, which readers that do not know the type extract as a file)"
			case pending():
				reason += " (the header block's own name, which readers that ignore extended headers use)"
			}
			return nil, refuse(ErrUnsafePath, raw.name, "the name has %s", reason)
		}
		switch raw.typ {
		case 'x', 'g':
			if pending() {
				return nil, refuse(ErrNotTar, raw.name, "a second extended header before one entry; readers disagree on which applies")
			}
			body, err := t.readMeta(raw)
			if err != nil {
				return nil, err
			}
			recs, perr := parsePAX(body, raw.typ == 'g')
			if perr != nil {
				perr.Entry = raw.name
				return nil, perr
			}
			if raw.typ == 'g' {
				return &header{name: raw.name, typ: typeGlobal}, nil
			}
			pax, hasPax, metaName, metaLen = recs, true, raw.name, raw.size
			continue
		case 'L':
			if pending() {
				return nil, refuse(ErrNotTar, raw.name, "a second extended header before one entry; readers disagree on which applies")
			}
			body, err := t.readMeta(raw)
			if err != nil {
				return nil, err
			}
			name, _, _ := bytes.Cut(body, []byte{0})
			if len(name) == 0 || len(bytes.Trim(body[len(name):], "\x00")) != 0 {
				return nil, refuse(ErrNotTar, raw.name, "malformed GNU long name: it must be a name followed only by NUL bytes")
			}
			longName, hasLong, metaName, metaLen = string(name), true, raw.name, raw.size
			continue
		}

		h := &header{name: raw.name, typ: raw.typ, size: raw.size, mode: raw.mode}
		p, hasPath := pax["path"]
		if hasPath {
			h.name = p
		}
		if hasLong {
			h.name = longName
		}
		t.cur = h.name
		if (hasPath || hasLong) && metaLen > blockSize && !isASCII(h.name) {
			// node-tar decodes an extended header's body as UTF-8 piece by
			// piece as the stream delivers it; a piece that ends inside a
			// character garbles the name, and a garbled pax path fails its
			// length check and is silently replaced by the header block's
			// own name. A body of one block always arrives in one piece.
			return nil, refuse(ErrNotTar, h.name, "a non-ASCII name in an extended header of %d bytes, more than one block: npm's node-tar can garble it, or drop it for the header block's own name, depending on how the stream is split", metaLen)
		}
		if s, ok := pax["size"]; ok {
			n, _ := strconv.ParseInt(s, 10, 64) // validated by parsePAX
			if n != raw.size && n <= 0o77777777777 {
				return nil, refuse(ErrNotTar, h.name, "the pax size %d disagrees with the header's size %d; readers that ignore pax would lose their place", n, raw.size)
			}
			h.size = n
		}
		if err := t.checkType(h, raw); err != nil {
			return nil, err
		}
		if h.typ == typeFile {
			if h.size > t.lim.MaxEntrySize {
				return nil, refuse(ErrLimit, h.name, "%d bytes, more than the %d allowed for one file", h.size, t.lim.MaxEntrySize)
			}
			t.remain, t.pad = h.size, padding(h.size)
		}
		return h, nil
	}
}

// checkType refuses everything but regular files and folders, and
// normalizes h.typ to typeFile or typeDir.
func (t *reader) checkType(h *header, raw rawHeader) error {
	switch raw.typ {
	case '0', 0:
		h.typ = typeFile
		if h.name != "" && h.name[len(h.name)-1] == '/' {
			return refuse(ErrNotTar, h.name, "a regular file whose name ends in '/': node-tar reads it as a folder with no data and loses its place")
		}
	case '5':
		h.typ = typeDir
		if h.size != 0 {
			return refuse(ErrNotTar, h.name, "a folder entry with %d bytes of data; readers disagree on whether to skip them", h.size)
		}
	case '1':
		return refuse(ErrLink, h.name, "hard link to %s", quote(raw.linkname))
	case '2':
		return refuse(ErrLink, h.name, "symbolic link to %s", quote(raw.linkname))
	case 'K':
		return refuse(ErrLink, h.name, "GNU long link name: a link follows")
	case '3':
		return refuse(ErrSpecialFile, h.name, "character device")
	case '4':
		return refuse(ErrSpecialFile, h.name, "block device")
	case '6':
		return refuse(ErrSpecialFile, h.name, "named pipe (FIFO)")
	default:
		return refuse(ErrSpecialFile, h.name, "entry type %s, which not every reader understands the same way", quote(string(rune(raw.typ))))
	}
	if h.mode&0o7000 != 0 {
		return refuse(ErrSpecialFile, h.name, "mode %#o has the setuid, setgid or sticky bit", h.mode&0o7777)
	}
	return nil
}

// readMeta reads the body of a pax header or GNU long name.
func (t *reader) readMeta(raw rawHeader) ([]byte, error) {
	if raw.size > maxMeta {
		return nil, refuse(ErrLimit, raw.name, "extended header of %d bytes, more than the %d allowed", raw.size, maxMeta)
	}
	if cap(t.meta) < int(raw.size) {
		t.meta = make([]byte, raw.size)
	}
	body := t.meta[:raw.size]
	if _, err := io.ReadFull(t.r, body); err != nil {
		return nil, t.fail(err)
	}
	t.pad = padding(raw.size)
	if err := t.skip(); err != nil {
		return nil, err
	}
	return body, nil
}

func padding(size int64) int64 { return -size & (blockSize - 1) }

// rawHeader is a header block as decoded, before extended headers apply.
type rawHeader struct {
	name     string // prefix and name joined
	linkname string
	typ      byte
	size     int64
	mode     int64
}

var (
	magicUSTAR = []byte("ustar\x0000")
	magicGNU   = []byte("ustar  \x00")
)

// parseBlock decodes a non-zero header block, refusing anything readers
// could decode differently. Numeric fields node-tar parses are all
// checked: it skips a block whose numbers it cannot parse.
func parseBlock(b *[blockSize]byte) (rawHeader, *EntryError) {
	var h rawHeader
	magic := b[257:265]
	ustar := bytes.Equal(magic, magicUSTAR)
	if !ustar && !bytes.Equal(magic, magicGNU) {
		return h, refuse(ErrNotTar, "", "a header block without ustar or GNU tar magic")
	}
	name := cstring(b[0:100])
	// node-tar cuts strings with /\0.*/, which stops at a line break: bytes
	// after the NUL would be part of the name for node-tar and not for Go.
	if !allZero(b[len(name):100]) {
		return h, refuse(ErrNotTar, name, "bytes after the end of the name field's text; node-tar would read some of them as part of the name")
	}
	if ustar {
		// node-tar reads the prefix as 155 bytes when byte 475 is set, or
		// else as 130 bytes followed by access and change times (which
		// node-tar itself writes outside portable mode: @types packages
		// have them). Go reads 155 bytes up to a NUL, or 131 when it finds
		// a star trailer at 508. Both agree when what follows the prefix
		// is zero, or valid times, and the trailer is zero.
		prefix := cstring(b[345:500])
		junk := !allZero(b[500:512])
		if len(prefix) > 130 {
			junk = junk || !allZero(b[345+len(prefix):500])
		} else {
			_, atimeOK := octal(b[476:488], true, true)
			_, ctimeOK := octal(b[488:500], true, true)
			junk = junk || !allZero(b[345+len(prefix):476]) || !atimeOK || !ctimeOK
		}
		if junk {
			return h, refuse(ErrNotTar, name, "junk after the name prefix in the header block")
		}
		if prefix != "" {
			name = prefix + "/" + name
		}
	} else if !allZero(b[345:512]) {
		// GNU keeps times, sparse maps and a continuation flag here; Go
		// guesses they are a prefix when they do not parse.
		return h, refuse(ErrNotTar, name, "GNU header with sparse, incremental or multi-volume fields")
	}
	h.name = name
	h.typ = b[156]
	if name == "" {
		return h, refuse(ErrNotTar, "", "a header block with an empty name, which node-tar skips")
	}
	h.linkname = cstring(b[157:257])
	if !allZero(b[157:257]) && h.typ != '1' && h.typ != '2' {
		return h, refuse(ErrNotTar, name, "a link target on an entry that is not a link; node-tar skips such a header")
	}

	stored, ok := octal(b[148:156], false, false)
	if !ok || !terminated(b[148:156]) {
		return h, refuse(ErrNotTar, name, "malformed header checksum field")
	}
	sum := int64(8 * ' ')
	for i, c := range b {
		if i < 148 || i >= 156 {
			sum += int64(c)
		}
	}
	if sum != stored {
		return h, refuse(ErrNotTar, name, "bad header checksum (the archive is corrupt)")
	}
	if h.mode, ok = octal(b[100:108], false, false); !ok {
		return h, refuse(ErrNotTar, name, "malformed mode field")
	}
	if h.size, ok = octal(b[124:136], false, true); !ok {
		return h, refuse(ErrNotTar, name, "malformed size field")
	}
	for _, f := range [][2]int{{108, 116}, {116, 124}, {136, 148}, {329, 337}, {337, 345}} { // uid gid mtime devmajor devminor
		if _, ok := octal(b[f[0]:f[1]], true, true); !ok {
			return h, refuse(ErrNotTar, name, "malformed numeric field at offset %d", f[0])
		}
	}
	return h, nil
}

// octal parses a numeric field the way node-tar and Go agree on: spaces,
// octal digits, then only spaces and NULs; or, if base256, 0x80 and a
// big-endian number up to 2^53-1. An empty field is 0 if allowed.
func octal(f []byte, allowEmpty, base256 bool) (int64, bool) {
	if len(f) > 0 && f[0]&0x80 != 0 {
		if !base256 || f[0] != 0x80 {
			return 0, false
		}
		var v int64
		for _, c := range f[1:] {
			if v > maxSafe>>8 {
				return 0, false
			}
			v = v<<8 | int64(c)
		}
		return v, v <= maxSafe
	}
	i := 0
	for i < len(f) && f[i] == ' ' {
		i++
	}
	start := i
	var v int64
	for ; i < len(f) && f[i] >= '0' && f[i] <= '7'; i++ {
		v = v<<3 | int64(f[i]-'0') // at most 12 digits: no overflow
	}
	if i == start {
		return 0, allowEmpty && allZeroOrSpace(f)
	}
	return v, allZeroOrSpace(f[i:])
}

// terminated reports whether a checksum field's digits end inside it:
// node-tar reads 12 bytes from the checksum's offset, into the type flag.
func terminated(f []byte) bool {
	i := bytes.IndexAny(f, "01234567")
	if i < 0 {
		return false
	}
	for ; i < len(f); i++ {
		if f[i] == ' ' || f[i] == 0 {
			return true
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func allZeroOrSpace(b []byte) bool {
	for _, c := range b {
		if c != 0 && c != ' ' {
			return false
		}
	}
	return true
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// paxKeys are the pax records accepted, and whether a global header may
// carry them. Others are refused: readers disagree on them (mode, type,
// linkpath, GNU.sparse.*) or they ask extractors to do more than write a
// file (SCHILY.xattr.*, SCHILY.fflags, ACLs).
var paxKeys = map[string]bool{
	"path": false, "size": false,
	"mtime": true, "atime": true, "ctime": true,
	"uid": true, "gid": true, "uname": true, "gname": true,
	"comment": true,
}

// parsePAX parses a pax extended header body strictly: every record
// "LEN key=value\n" with LEN exact and without leading zeros, no NUL or
// newline in values (node-tar splits records at newlines), valid UTF-8,
// each key once.
func parsePAX(body []byte, global bool) (map[string]string, *EntryError) {
	if !utf8.Valid(body) {
		return nil, refuse(ErrNotTar, "", "pax header is not valid UTF-8")
	}
	recs := map[string]string{}
	for len(body) > 0 {
		sp := bytes.IndexByte(body, ' ')
		if sp <= 0 || sp > 6 || body[0] == '0' {
			return nil, refuse(ErrNotTar, "", "malformed pax record length")
		}
		n, err := strconv.Atoi(string(body[:sp]))
		if err != nil || n <= sp+1 || n > len(body) || body[n-1] != '\n' {
			return nil, refuse(ErrNotTar, "", "malformed pax record")
		}
		rec := body[sp+1 : n-1]
		body = body[n:]
		k, v, ok := bytes.Cut(rec, []byte("="))
		key, val := string(k), string(v)
		switch {
		case !ok || key == "":
			return nil, refuse(ErrNotTar, "", "malformed pax record %s", quote(string(rec)))
		case bytes.ContainsAny(v, "\x00\n"):
			return nil, refuse(ErrNotTar, "", "pax record %s has a NUL or newline in its value", quote(key))
		case key == "linkpath":
			return nil, refuse(ErrLink, "", "pax header gives a link target (linkpath)")
		}
		g, known := paxKeys[key]
		if !known || (global && !g) {
			where := "pax"
			if global {
				where = "pax global"
			}
			return nil, refuse(ErrNotTar, "", "%s record %s is not accepted: readers disagree on it or it asks extractors for more than a file", where, quote(key))
		}
		if _, dup := recs[key]; dup {
			return nil, refuse(ErrNotTar, "", "pax record %s appears twice", quote(key))
		}
		if !paxValueOK(key, val) {
			return nil, refuse(ErrNotTar, "", "malformed pax %s %s", key, quote(val))
		}
		recs[key] = val
	}
	return recs, nil
}

// paxValueOK checks numeric values in the form both Go (which refuses the
// archive otherwise) and node-tar (which uses JavaScript's Number) read
// the same.
func paxValueOK(key, v string) bool {
	switch key {
	case "size", "uid", "gid":
		return digits(v) && len(v) <= 15 // below 2^53
	case "mtime", "atime", "ctime":
		if len(v) > 0 && v[0] == '-' {
			v = v[1:]
		}
		sec, frac, hasFrac := strings.Cut(v, ".")
		return digits(sec) && len(sec) <= 15 && (!hasFrac || digits(frac) && len(frac) <= 9)
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
