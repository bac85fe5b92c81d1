package registry

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
)

// PublishDoc is the JSON body of a publish, without the attachments'
// data. The caller decides every field; the client only writes them, in
// the order npm does (_id, name, description, dist-tags, versions, access,
// _attachments), with strings escaped as JavaScript's JSON.stringify
// escapes them, so the same document gives the same bytes as npm.
type PublishDoc struct {
	ID   string // "_id": the package name
	Name string
	// Description is the "description" value as JSON (a string, or null
	// when package.json says null); nil leaves it out, as npm leaves out
	// a missing one.
	Description json.RawMessage
	DistTags    []DistTag
	Versions    []DocVersion
	// Access is "public", "restricted", or nil for null (npm sends null
	// unless --access is given).
	Access      *string
	Attachments []Attachment
}

// DistTag is one entry of "dist-tags".
type DistTag struct{ Tag, Version string }

// DocVersion is one entry of "versions".
type DocVersion struct {
	Version string
	// Manifest is the version's manifest with its dist (integrity, shasum,
	// tarball), written exactly as given.
	Manifest json.RawMessage
}

// Attachment is one entry of "_attachments".
type Attachment struct {
	Name        string // the key, npm's "<name>-<version>.tgz"
	ContentType string
	// Length is the "length" field: the size of the data before any
	// encoding.
	Length int64
	// Data, when not nil, is written as the "data" string as it is (npm
	// sends a provenance bundle's JSON this way). When nil, the data is
	// streamed from an Opener and base64-encoded on the way (the tarball).
	Data []byte
}

// Encode writes the document with the attachments' data: for a streamed
// attachment, base64 of what attachments[name] opens; an attachment with
// no Opener is summarised as "<N bytes, base64-encoded when published>",
// which is what a dry run shows.
func (d *PublishDoc) Encode(w io.Writer, attachments map[string]Opener) error {
	p, err := d.plan(attachments, true)
	if err != nil {
		return err
	}
	var state bodyState
	r := p.reader(&state)
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// plan is a document laid out for sending: literal JSON, with the
// streamed attachments' data between.
type plan struct {
	segs []segment
	size int64 // bytes in all, for Content-Length
}

type segment struct {
	lit    []byte
	open   Opener // for a streamed attachment
	length int64  // its declared size
	name   string
	verify *digests // what the streamed data must hash to, if set
}

// plan lays out the document. Streamed attachments take their data from
// openers; one without an Opener is an error unless summarise is set.
func (d *PublishDoc) plan(openers map[string]Opener, summarise bool) (*plan, error) {
	var e docEncoder
	e.raw(`{"_id":`)
	e.str("_id", d.ID)
	e.raw(`,"name":`)
	e.str("name", d.Name)
	if d.Description != nil {
		if !json.Valid(d.Description) {
			e.fail(fmt.Errorf("the description is not valid JSON"))
		}
		e.raw(`,"description":`)
		e.buf.Write(d.Description)
	}
	e.raw(`,"dist-tags":{`)
	for i, t := range d.DistTags {
		if i > 0 {
			e.raw(",")
		}
		e.str("dist-tag", t.Tag)
		e.raw(":")
		e.str("dist-tag version", t.Version)
	}
	e.raw(`},"versions":{`)
	for i, v := range d.Versions {
		if i > 0 {
			e.raw(",")
		}
		e.str("version", v.Version)
		e.raw(":")
		if !json.Valid(v.Manifest) {
			e.fail(fmt.Errorf("the manifest of version %q is not valid JSON", v.Version))
		}
		e.buf.Write(v.Manifest)
	}
	e.raw(`},"access":`)
	if d.Access != nil {
		e.str("access", *d.Access)
	} else {
		e.raw("null")
	}
	e.raw(`,"_attachments":{`)
	seen := map[string]bool{}
	for i, a := range d.Attachments {
		if seen[a.Name] {
			e.fail(fmt.Errorf("attachment %q appears twice", a.Name))
		}
		seen[a.Name] = true
		if a.Length < 0 {
			e.fail(fmt.Errorf("attachment %q has a negative length", a.Name))
		}
		if i > 0 {
			e.raw(",")
		}
		e.str("attachment name", a.Name)
		e.raw(`:{"content_type":`)
		e.str("content type", a.ContentType)
		e.raw(`,"data":`)
		switch open := openers[a.Name]; {
		case a.Data != nil:
			e.str("attachment data", string(a.Data))
		case open != nil:
			e.raw(`"`)
			e.stream(segment{open: open, length: a.Length, name: a.Name})
			e.raw(`"`)
		case summarise:
			e.str("", fmt.Sprintf("<%d bytes, base64-encoded when published>", a.Length))
		default:
			e.fail(fmt.Errorf("no data for attachment %q", a.Name))
		}
		e.raw(`,"length":`)
		e.raw(strconv.FormatInt(a.Length, 10))
		e.raw("}")
	}
	e.raw("}}")
	return e.finish()
}

// docEncoder builds a plan, keeping the first error.
type docEncoder struct {
	buf  bytes.Buffer
	segs []segment
	size int64
	err  error
}

func (e *docEncoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *docEncoder) raw(s string) { e.buf.WriteString(s) }

// str writes s as a JSON string, as JSON.stringify would: only the quote,
// the backslash and control characters are escaped.
func (e *docEncoder) str(what, s string) {
	if !utf8.ValidString(s) {
		e.fail(fmt.Errorf("the %s %q is not valid UTF-8", what, s))
	}
	e.buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			e.buf.WriteString(`\"`)
		case c == '\\':
			e.buf.WriteString(`\\`)
		case c == '\b':
			e.buf.WriteString(`\b`)
		case c == '\f':
			e.buf.WriteString(`\f`)
		case c == '\n':
			e.buf.WriteString(`\n`)
		case c == '\r':
			e.buf.WriteString(`\r`)
		case c == '\t':
			e.buf.WriteString(`\t`)
		case c < 0x20:
			const hexdigits = "0123456789abcdef"
			e.buf.WriteString(`\u00`)
			e.buf.WriteByte(hexdigits[c>>4])
			e.buf.WriteByte(hexdigits[c&0xf])
		default:
			e.buf.WriteByte(c)
		}
	}
	e.buf.WriteByte('"')
}

func (e *docEncoder) flush() {
	if e.buf.Len() > 0 {
		lit := bytes.Clone(e.buf.Bytes())
		e.segs = append(e.segs, segment{lit: lit})
		e.size += int64(len(lit))
		e.buf.Reset()
	}
}

func (e *docEncoder) stream(s segment) {
	e.flush()
	e.segs = append(e.segs, s)
	e.size += base64Len(s.length)
}

func (e *docEncoder) finish() (*plan, error) {
	e.flush()
	if e.err != nil {
		return nil, e.err
	}
	return &plan{segs: e.segs, size: e.size}, nil
}

func base64Len(n int64) int64 { return (n + 2) / 3 * 4 }

// reader returns the document's bytes, opening streamed attachments as it
// reaches them. Failures of our own data are recorded in state.
func (p *plan) reader(state *bodyState) io.ReadCloser {
	return &bodyReader{segs: p.segs, state: state}
}

// The transport may close a request body while another goroutine reads
// it, hence the mutex.
type bodyReader struct {
	mu    sync.Mutex
	segs  []segment
	state *bodyState
	cur   io.Reader
	att   *attachmentReader
	err   error
}

func (r *bodyReader) Read(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.err == nil {
		if r.cur == nil {
			if len(r.segs) == 0 {
				return 0, io.EOF
			}
			s := r.segs[0]
			r.segs = r.segs[1:]
			if s.open == nil {
				r.cur = bytes.NewReader(s.lit)
				continue
			}
			att, err := openAttachment(s)
			if err != nil {
				r.fail(err)
				break
			}
			r.att, r.cur = att, att
		}
		n, err := r.cur.Read(b)
		if err == io.EOF {
			r.cur = nil
			if r.att != nil {
				r.att.Close()
				r.att = nil
			}
			err = nil
		}
		if err != nil {
			r.fail(err)
		}
		if n > 0 || err != nil {
			return n, r.err
		}
	}
	return 0, r.err
}

func (r *bodyReader) fail(err error) {
	r.err = err
	r.state.set(err)
}

func (r *bodyReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.att != nil {
		r.att.Close()
		r.att = nil
	}
	if r.err == nil {
		r.err = errors.New("publish body closed")
	}
	return nil
}

// attachmentReader base64-encodes an attachment's data as it is read,
// checking its length and, if asked, its digests. A mismatch is reported
// before the last bytes are handed out, so a registry never receives a
// complete body with data other than what the document declares.
type attachmentReader struct {
	name   string
	src    io.ReadCloser
	left   int64
	verify *digests
	sha512 hash.Hash
	sha1   hash.Hash
	in     []byte
	out    []byte
	pos    int
	done   bool
}

const attachmentChunk = 48 << 10 // a multiple of 3: no padding mid-stream

func openAttachment(s segment) (*attachmentReader, error) {
	src, size, err := s.open()
	if err != nil {
		return nil, fmt.Errorf("opening attachment %q: %w", s.name, err)
	}
	if size != s.length {
		src.Close()
		return nil, fmt.Errorf("attachment %q is %d bytes, the publish document says %d", s.name, size, s.length)
	}
	r := &attachmentReader{name: s.name, src: src, left: size, verify: s.verify,
		in: make([]byte, attachmentChunk), out: make([]byte, 0, base64.StdEncoding.EncodedLen(attachmentChunk))}
	if s.verify != nil {
		r.sha512, r.sha1 = sha512.New(), sha1.New()
	}
	return r, nil
}

func (r *attachmentReader) Read(b []byte) (int, error) {
	if r.pos == len(r.out) {
		if r.done {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, r.out[r.pos:])
	r.pos += n
	return n, nil
}

func (r *attachmentReader) fill() error {
	n := int(min(int64(len(r.in)), r.left))
	if _, err := io.ReadFull(r.src, r.in[:n]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("reading attachment %q: it ended %d bytes short of its length", r.name, r.left)
		}
		return fmt.Errorf("reading attachment %q: %w", r.name, err)
	}
	r.left -= int64(n)
	if r.sha512 != nil {
		r.sha512.Write(r.in[:n])
		r.sha1.Write(r.in[:n])
	}
	if r.left == 0 {
		var one [1]byte
		if m, _ := io.ReadFull(r.src, one[:]); m > 0 {
			return fmt.Errorf("reading attachment %q: it is longer than its length", r.name)
		}
		if err := r.verify.check(r.name, r.sha512, r.sha1); err != nil {
			return err
		}
		r.done = true
	}
	r.out = r.out[:base64.StdEncoding.EncodedLen(n)]
	base64.StdEncoding.Encode(r.out, r.in[:n])
	r.pos = 0
	return nil
}

func (r *attachmentReader) Close() error { return r.src.Close() }

// digests are what a tarball must hash to: the sha512 of dist.integrity
// and the sha1 of dist.shasum, either of which may be missing.
type digests struct {
	sha512 []byte
	sha1   []byte
}

func (d *digests) check(name string, h512, h1 hash.Hash) error {
	if d == nil {
		return nil
	}
	if d.sha512 != nil && !bytes.Equal(h512.Sum(nil), d.sha512) {
		return fmt.Errorf("attachment %q does not match dist.integrity: its sha512 is %s", name,
			"sha512-"+base64.StdEncoding.EncodeToString(h512.Sum(nil)))
	}
	if d.sha1 != nil && !bytes.Equal(h1.Sum(nil), d.sha1) {
		return fmt.Errorf("attachment %q does not match dist.shasum: its sha1 is %s", name, hex.EncodeToString(h1.Sum(nil)))
	}
	return nil
}
