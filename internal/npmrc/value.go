package npmrc

import (
	"math"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// Kind is the JavaScript type of a Value. npm's ini parser and config
// loader produce JSON-like values, not just strings: `a=true` is a boolean,
// `a='5'` a number, `a[]=x` a list, and a [section] an object.
type Kind uint8

const (
	KindString Kind = iota
	KindBool
	KindNull
	KindNumber
	KindList
	KindObject
	KindUndefined // only from npm's type coercion of the string "undefined"
)

// Value is one configuration value as npm holds it.
type Value struct {
	Kind Kind
	Str  string    // KindString
	Num  float64   // KindNumber
	Bool bool      // KindBool
	List []Value   // KindList
	Obj  []Setting // KindObject, in JavaScript enumeration order
}

// Setting is a key and its value, with the line it was last assigned on.
type Setting struct {
	Key   string
	Value Value
	Line  int
}

func str(s string) Value     { return Value{Kind: KindString, Str: s} }
func boolean(b bool) Value   { return Value{Kind: KindBool, Bool: b} }
func number(f float64) Value { return Value{Kind: KindNumber, Num: f} }

var null = Value{Kind: KindNull}

// jsString is JavaScript's String(v).
func jsString(v Value) string {
	switch v.Kind {
	case KindString:
		return v.Str
	case KindBool:
		if v.Bool {
			return "true"
		}
		return "false"
	case KindNull:
		return "null"
	case KindUndefined:
		return "undefined"
	case KindNumber:
		return jsNumber(v.Num)
	case KindList:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			if e.Kind != KindNull && e.Kind != KindUndefined {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	default:
		return "[object Object]"
	}
}

// render is how Get shows a value: strings as they are, null and undefined
// as "", and lists the way npm exports them to npm_config_* variables,
// joined by blank lines.
func render(v Value) string {
	switch v.Kind {
	case KindNull, KindUndefined:
		return ""
	case KindList:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = render(e)
		}
		return strings.Join(parts, "\n\n")
	}
	return jsString(v)
}

// truthy is JavaScript's Boolean(v).
func truthy(v Value) bool {
	switch v.Kind {
	case KindString:
		return v.Str != ""
	case KindBool:
		return v.Bool
	case KindNull, KindUndefined:
		return false
	case KindNumber:
		return v.Num != 0 && !math.IsNaN(v.Num)
	}
	return true
}

// jsToNumber is JavaScript's Number(s) for a string.
func jsToNumber(s string) float64 {
	s = jsTrim(s)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, err := strconv.ParseUint(s[2:], base, 64)
			if err != nil || strings.ContainsAny(s[2:], "_+-") {
				return math.NaN()
			}
			return float64(n)
		}
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789+-.eE", c) {
			return math.NaN()
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// jsIsNaN is JavaScript's global isNaN(v).
func jsIsNaN(v Value) bool {
	switch v.Kind {
	case KindNumber:
		return math.IsNaN(v.Num)
	case KindBool, KindNull:
		return false
	case KindString:
		return math.IsNaN(jsToNumber(v.Str))
	case KindList:
		if len(v.List) == 0 {
			return false
		}
		return math.IsNaN(jsToNumber(jsString(v)))
	}
	return true
}

var (
	jsTrim    = jsvalue.Trim
	isJSSpace = jsvalue.IsSpace
	jsNumber  = jsvalue.Number
	// decodeUTF8 is how Node reads a file as text.
	decodeUTF8 = jsvalue.DecodeUTF8
)

// decodeBase64 decodes s the way Node's Buffer.from(s, 'base64') does:
// both alphabets, anything else skipped, stopping at the first '='.
func decodeBase64(s string) []byte {
	var out []byte
	var acc uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= 'A' && c <= 'Z':
			v = c - 'A'
		case c >= 'a' && c <= 'z':
			v = c - 'a' + 26
		case c >= '0' && c <= '9':
			v = c - '0' + 52
		case c == '+' || c == '-':
			v = 62
		case c == '/' || c == '_':
			v = 63
		case c == '=':
			i = len(s)
			continue
		default:
			continue
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}
