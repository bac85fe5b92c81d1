package publishdoc

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// decodeUTF8 is how Node reads a file as "utf8".
var decodeUTF8 = jsvalue.DecodeUTF8

// maxDepth bounds nesting; V8's JSON.parse fails on deep input too.
const maxDepth = 10000

// parseJSON is JSON.parse of text (valid UTF-8).
func parseJSON(text string) (any, error) {
	p := &jsonParser{s: text}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	line, col := 1, 1
	for _, r := range p.s[:min(p.i, len(p.s))] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("invalid JSON at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
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
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		o := newObject()
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return o, nil
		}
		for {
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != '"' {
				return nil, p.errorf("expected a property name")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errorf("expected ':' after a property name")
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.define(k, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return o, nil
			}
			return nil, p.errorf("expected ',' or '}' in an object")
		}
	case c == '[':
		p.i++
		a := []any{}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return a, nil
			}
			return nil, p.errorf("expected ',' or ']' in an array")
		}
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return nil, nil
	}
	return nil, p.errorf("unexpected character %q", p.s[p.i])
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
		return nil, p.errorf("invalid number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.errorf("invalid number")
	}
	return f, nil // out of range: ±Inf or 0, as JavaScript rounds
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// str reads a JSON string. \u escapes of lone surrogates are kept as
// such (WTF-8), as JavaScript strings keep them.
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	var sb strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return sb.String(), nil
		case c < 0x20:
			return "", p.errorf("bad control character in string")
		case c != '\\':
			sb.WriteByte(c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			u, ok := p.hex4()
			if !ok {
				return "", p.errorf("bad unicode escape")
			}
			if u >= 0xd800 && u <= 0xdbff && strings.HasPrefix(p.s[p.i:], `\u`) {
				save := p.i
				p.i += 2
				if lo, ok := p.hex4(); ok && lo >= 0xdc00 && lo <= 0xdfff {
					sb.WriteRune(0x10000 + (u-0xd800)<<10 + (lo - 0xdc00))
					continue
				}
				p.i = save
			}
			if u >= 0xd800 && u <= 0xdfff {
				sb.WriteString(encodeSurrogate(u))
			} else {
				sb.WriteRune(u)
			}
		default:
			return "", p.errorf("bad escape")
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		h := hexVal(p.s[p.i+k])
		if h < 0 {
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	p.i += 4
	return r, true
}

// stringify writes JSON.stringify(v). An attachmentData value is written
// by w.data, which writes the inside of a JSON string.
func stringify(w *errWriter, v any) {
	switch v := v.(type) {
	case nil:
		w.str("null")
	case bool:
		w.str(strconv.FormatBool(v))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			w.str("null")
		} else {
			w.str(jsvalue.Number(v))
		}
	case string:
		quote(w, v)
	case []any:
		w.str("[")
		for i, item := range v {
			if i > 0 {
				w.str(",")
			}
			if item == undefined {
				item = nil
			}
			stringify(w, item)
		}
		w.str("]")
	case *object:
		w.str("{")
		first := true
		for _, k := range v.keys() {
			val := v.vals[k]
			if _, isData := val.(attachmentData); val == undefined || isData && w.data == nil {
				continue
			}
			if !first {
				w.str(",")
			}
			first = false
			quote(w, k)
			w.str(":")
			stringify(w, val)
		}
		w.str("}")
	case attachmentData:
		w.str(`"`)
		if w.err == nil && w.data != nil {
			w.err = w.data(w.w)
		}
		w.str(`"`)
	default:
		w.str("null")
	}
}

// attachmentData stands for the base64 tarball in _attachments.
type attachmentData struct{}

// errWriter carries the first write error, and the function that writes
// the attachment's data (nil: leave the data field out).
type errWriter struct {
	w    io.Writer
	err  error
	data func(io.Writer) error
}

func (w *errWriter) str(s string) {
	if w.err == nil {
		_, w.err = io.WriteString(w.w, s)
	}
}

const hexDigits = "0123456789abcdef"

// quote is JSON.stringify of a string: only '"', '\\' and control
// characters are escaped, and lone surrogates as \udxxx.
func quote(w *errWriter, s string) {
	buf := make([]byte, 0, len(s)+2)
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				buf = append(buf, '\\', '"')
			case '\\':
				buf = append(buf, '\\', '\\')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				if c < 0x20 {
					buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				} else {
					buf = append(buf, c)
				}
			}
			i++
			continue
		}
		if r, n := decodeSurrogate(s[i:]); n > 0 {
			buf = append(buf, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			buf = utf8.AppendRune(buf, utf8.RuneError)
		} else {
			buf = append(buf, s[i:i+n]...)
		}
		i += n
	}
	buf = append(buf, '"')
	if w.err == nil {
		_, w.err = w.w.Write(buf)
	}
}
