package attest

import (
	"unicode/utf16"
	"unicode/utf8"
)

// npm serialises the statement with JSON.stringify, whose bytes differ
// from encoding/json's: keys stay in insertion order, undefined
// properties vanish, and strings escape only quotes, backslashes,
// control characters and lone surrogates (never <, >, & or U+2028).
// These types model just the JavaScript values the statement holds.

type jsValue interface {
	appendJSON(b []byte) []byte
}

// member is one property; a nil value is undefined and JSON.stringify
// leaves the property out.
type member struct {
	key   string
	value jsValue
}

type jsObject []member

type jsArray []jsValue

type jsBool bool

// jsString is a JavaScript string: UTF-16 code units, which may hold a
// lone surrogate (String.prototype.slice can split a pair).
type jsString []uint16

func str(s string) jsString { return utf16.Encode([]rune(s)) }

func (o jsObject) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for _, m := range o {
		if m.value == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = str(m.key).appendJSON(b)
		b = append(b, ':')
		b = m.value.appendJSON(b)
	}
	return append(b, '}')
}

func (a jsArray) appendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if v == nil {
			b = append(b, "null"...) // as JSON.stringify writes undefined in arrays
			continue
		}
		b = v.appendJSON(b)
	}
	return append(b, ']')
}

func (v jsBool) appendJSON(b []byte) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

const hexDigits = "0123456789abcdef"

// appendJSON follows ECMA-262 QuoteJSONString (well-formed JSON.stringify),
// then encodes the result as UTF-8 as Buffer.from does.
func (s jsString) appendJSON(b []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = appendUnicodeEscape(b, c)
		case utf16.IsSurrogate(rune(c)):
			if c < 0xdc00 && i+1 < len(s) && s[i+1] >= 0xdc00 && s[i+1] < 0xe000 {
				b = utf8.AppendRune(b, utf16.DecodeRune(rune(c), rune(s[i+1])))
				i++
				continue
			}
			b = appendUnicodeEscape(b, c)
		default:
			b = utf8.AppendRune(b, rune(c))
		}
	}
	return append(b, '"')
}

func appendUnicodeEscape(b []byte, c uint16) []byte {
	return append(b, '\\', 'u', hexDigits[c>>12], hexDigits[c>>8&0xf], hexDigits[c>>4&0xf], hexDigits[c&0xf])
}
