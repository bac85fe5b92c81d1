package pack

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// pnpm and yarn write the package.json they pack with
// JSON.stringify(manifest, null, 2) after JSON.parse and edits, so the
// packed bytes follow JavaScript's rules: property order (array-index keys
// first, ascending, then the others in insertion order), number
// formatting, and string escaping. jsObject and the functions below keep
// those rules.

// jsObject is a parsed JSON object. Values are *jsObject, []any, string,
// float64, bool or nil.
type jsObject struct {
	keys []string
	vals map[string]any
}

func newJSObject() *jsObject { return &jsObject{vals: map[string]any{}} }

func (o *jsObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set adds or replaces k; a new key goes last, as assignment does.
func (o *jsObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jsObject) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// order is the keys as JavaScript enumerates them.
func (o *jsObject) order() []string {
	var index, named []string
	for _, k := range o.keys {
		if isArrayIndex(k) {
			index = append(index, k)
		} else {
			named = append(named, k)
		}
	}
	if len(index) == 0 {
		return named
	}
	sort.Slice(index, func(i, j int) bool {
		a, _ := strconv.ParseUint(index[i], 10, 64)
		b, _ := strconv.ParseUint(index[j], 10, 64)
		return a < b
	})
	return append(index, named...)
}

// isArrayIndex is ECMAScript's array index: the canonical decimal form of
// an integer below 2^32-1.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 1<<32-1
}

// clone copies o and every object and array in it.
func (o *jsObject) clone() *jsObject {
	c := &jsObject{keys: append([]string(nil), o.keys...), vals: make(map[string]any, len(o.vals))}
	for k, v := range o.vals {
		c.vals[k] = cloneJS(v)
	}
	return c
}

func cloneJS(v any) any {
	switch v := v.(type) {
	case *jsObject:
		return v.clone()
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneJS(x)
		}
		return out
	}
	return v
}

// object returns the object under k, or nil.
func (o *jsObject) object(k string) *jsObject {
	v, _ := o.vals[k].(*jsObject)
	return v
}

func (o *jsObject) str(k string) (string, bool) {
	s, ok := o.vals[k].(string)
	return s, ok
}

// parseJSObject is JSON.parse of package.json contents read as UTF-8 (a
// BOM dropped), which must be an object.
func parseJSObject(data []byte) (*jsObject, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	p := &jsonParser{s: jsvalue.DecodeUTF8(data)}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("unexpected text after the JSON value")
	}
	o, ok := v.(*jsObject)
	if !ok {
		return nil, errors.New("package.json is not a JSON object")
	}
	return o, nil
}

type jsonParser struct {
	s string
	i int
}

const maxJSONDepth = 512

func (p *jsonParser) fail(msg string) error {
	line := 1 + strings.Count(p.s[:p.i], "\n")
	return fmt.Errorf("invalid JSON at line %d: %s", line, msg)
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("nested too deep")
	}
	if p.i >= len(p.s) {
		return nil, p.fail("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		o := newJSObject()
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return o, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.fail("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.fail("expected ':'")
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.set(k, v) // a repeated key keeps its first place, with the last value
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return o, nil
			}
			return nil, p.fail("expected ',' or '}'")
		}
	case c == '[':
		p.i++
		arr := []any{}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			return nil, p.fail("expected ',' or ']'")
		}
	case c == '"':
		return p.str()
	case c == 't' && strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case c == 'f' && strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	case c == 'n' && strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.fail(fmt.Sprintf("unexpected character %q", p.s[p.i]))
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.fail("bad number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.fail("bad number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.fail("bad number")
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.fail("bad number")
	}
	return f, nil // out of range: ±Infinity, as JavaScript reads it
}

// str reads a string. A lone surrogate escape is kept as its WTF-8 bytes,
// so that stringify writes it back as the escape JavaScript writes.
func (p *jsonParser) str() (string, error) {
	p.i++ // the quote
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.fail("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.fail("control character in string")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", p.fail("unterminated string")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			u, err := p.hex4()
			if err != nil {
				return "", err
			}
			if u >= 0xD800 && u < 0xDC00 && strings.HasPrefix(p.s[p.i:], `\u`) {
				save := p.i
				p.i += 2
				lo, err := p.hex4()
				if err == nil && lo >= 0xDC00 && lo < 0xE000 {
					b.WriteRune(rune((u-0xD800)<<10 + (lo - 0xDC00) + 0x10000))
					continue
				}
				p.i = save
			}
			if u >= 0xD800 && u < 0xE000 {
				b.Write([]byte{0xED, byte(0x80 | (u>>6)&0x3F), byte(0x80 | u&0x3F)})
			} else {
				b.WriteRune(rune(u))
			}
		default:
			return "", p.fail("bad escape")
		}
	}
}

func (p *jsonParser) hex4() (uint32, error) {
	if p.i+4 > len(p.s) {
		return 0, p.fail("bad \\u escape")
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, p.fail("bad \\u escape")
	}
	p.i += 4
	return uint32(n), nil
}

// stringifyJS is JSON.stringify(v, null, 2).
func stringifyJS(v any) []byte {
	var b bytes.Buffer
	writeJS(&b, v, 0)
	return b.Bytes()
}

func writeJS(b *bytes.Buffer, v any, level int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			b.WriteString("null")
		} else {
			b.WriteString(jsvalue.Number(v))
		}
	case string:
		quoteJS(b, v)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[")
		for i, x := range v {
			if i > 0 {
				b.WriteString(",")
			}
			newline(b, level+1)
			writeJS(b, x, level+1)
		}
		newline(b, level)
		b.WriteString("]")
	case *jsObject:
		keys := v.order()
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			newline(b, level+1)
			quoteJS(b, k)
			b.WriteString(": ")
			writeJS(b, v.vals[k], level+1)
		}
		newline(b, level)
		b.WriteString("}")
	default:
		panic(fmt.Sprintf("writeJS: %T", v))
	}
}

func newline(b *bytes.Buffer, level int) {
	b.WriteByte('\n')
	for range level {
		b.WriteString("  ")
	}
}

// quoteJS writes a string as JSON.stringify does: only quotes,
// backslashes, control characters and lone surrogates are escaped.
func quoteJS(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				if c < 0x20 {
					fmt.Fprintf(b, `\u%04x`, c)
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 && c == 0xED && i+2 < len(s) {
			u := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			fmt.Fprintf(b, `\u%04x`, u)
			i += 3
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	b.WriteByte('"')
}

// toPlain converts a parsed value to what encoding/json decodes into
// (map[string]any, []any, json-compatible scalars), for code that reads
// manifests that way.
func toPlain(v any) any {
	switch v := v.(type) {
	case *jsObject:
		m := make(map[string]any, len(v.vals))
		for k, x := range v.vals {
			m[k] = toPlain(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toPlain(x)
		}
		return out
	}
	return v
}
