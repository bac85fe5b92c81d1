package publishdoc

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// npm builds the document by mutating JavaScript objects and sends
// JSON.stringify of the result, so values here follow JavaScript: objects
// keep property order (array-index keys first, ascending), numbers are
// doubles, strings may hold lone surrogates (stored WTF-8), and a
// property can exist yet be undefined, which JSON.stringify leaves out.

// undefinedType is JavaScript's undefined.
type undefinedType struct{}

var undefined any = undefinedType{}

// object is a plain JavaScript object.
type object struct {
	order   []string       // insertion order of own keys, "" where deleted
	pos     map[string]int // key → index in order
	vals    map[string]any
	deleted int
}

func newObject() *object { return &object{pos: map[string]int{}, vals: map[string]any{}} }

// get is o[k]: undefined when o has no such property.
func (o *object) get(k string) any {
	if v, ok := o.vals[k]; ok {
		return v
	}
	return undefined
}

func (o *object) has(k string) bool {
	_, ok := o.vals[k]
	return ok
}

// define is CreateDataProperty, as JSON.parse and object spread add
// properties: "__proto__" is an ordinary key here.
func (o *object) define(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.pos[k] = len(o.order)
		o.order = append(o.order, k)
	}
	o.vals[k] = v
}

// set is assignment (o[k] = v). Assigning "__proto__" to an object that
// lacks it as an own property calls the prototype setter instead, which
// ignores primitives and creates no property either way.
func (o *object) set(k string, v any) {
	if k == "__proto__" && !o.has(k) {
		return
	}
	o.define(k, v)
}

func (o *object) del(k string) {
	i, ok := o.pos[k]
	if !ok {
		return
	}
	delete(o.vals, k)
	delete(o.pos, k)
	o.order[i] = ""
	o.deleted++
	if o.deleted > 16 && o.deleted > len(o.order)/2 {
		o.compact()
	}
}

// compact drops deleted slots from order.
func (o *object) compact() {
	live := make([]string, 0, len(o.vals))
	for _, k := range o.liveOrder() {
		o.pos[k] = len(live)
		live = append(live, k)
	}
	o.order, o.deleted = live, 0
}

// liveOrder is the insertion order of the keys o still has.
func (o *object) liveOrder() []string {
	out := make([]string, 0, len(o.vals))
	for i, k := range o.order {
		if p, ok := o.pos[k]; ok && p == i {
			out = append(out, k)
		}
	}
	return out
}

// keys is Object.keys order: array indices ascending, then the rest in
// insertion order.
func (o *object) keys() []string {
	var idx, rest []string
	for _, k := range o.liveOrder() {
		if isArrayIndex(k) {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	slices.SortFunc(idx, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	return append(idx, rest...)
}

// isArrayIndex reports whether k is the canonical form of an integer
// below 2^32-1, which JavaScript engines order before other keys.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 1<<32-1
}

// clone copies o one level deep, as object spread does.
func (o *object) clone() *object {
	c := newObject()
	for _, k := range o.liveOrder() {
		c.define(k, o.vals[k])
	}
	return c
}

// spread is {...v} for any value: own enumerable properties of objects,
// indices of arrays and strings (per UTF-16 code unit), nothing for
// primitives.
func spread(v any) *object {
	switch v := v.(type) {
	case *object:
		return v.clone()
	case []any:
		o := newObject()
		for i, item := range v {
			if item != undefined {
				o.define(strconv.Itoa(i), item)
			}
		}
		return o
	case string:
		o := newObject()
		for i, u := range codeUnits(v) {
			o.define(strconv.Itoa(i), u)
		}
		return o
	}
	return newObject()
}

// objectKeys is Object.keys(v) for any value.
func objectKeys(v any) []string {
	switch v := v.(type) {
	case *object:
		return v.keys()
	case []any:
		var keys []string
		for i, item := range v {
			if item != undefined {
				keys = append(keys, strconv.Itoa(i))
			}
		}
		return keys
	case string:
		n := len(codeUnits(v))
		keys := make([]string, n)
		for i := range keys {
			keys[i] = strconv.Itoa(i)
		}
		return keys
	}
	return nil
}

// codeUnits splits a WTF-8 string into its UTF-16 code units, each
// returned as a WTF-8 string (halves of a pair become lone surrogates).
func codeUnits(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if r, n := decodeSurrogate(s[i:]); n > 0 {
			out = append(out, encodeSurrogate(r))
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, encodeSurrogate(0xd800+(r>>10)), encodeSurrogate(0xdc00+(r&0x3ff)))
		} else {
			out = append(out, s[i:i+n])
		}
		i += n
	}
	return out
}

// decodeSurrogate reads a lone surrogate stored WTF-8 (ED A0..BF xx) at
// the start of s, returning n == 0 if there is none.
func decodeSurrogate(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2] >= 0x80 && s[2] <= 0xbf {
		return 0xd000 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	}
	return 0, 0
}

func encodeSurrogate(r rune) string {
	return string([]byte{0xed, 0x80 | byte(r>>6)&0x3f, 0x80 | byte(r)&0x3f})
}

// usvString is what Web APIs such as URL receive: lone surrogates become
// U+FFFD.
func usvString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if _, n := decodeSurrogate(s[i:]); n > 0 {
			b = utf8.AppendRune(b, utf8.RuneError)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += n
	}
	return string(b)
}

// truthy is JavaScript truthiness, undefined included.
func truthy(v any) bool {
	if v == undefined {
		return false
	}
	return jsvalue.Truthy(v)
}

// jsString is String(v), with String(undefined) and nested values as
// JavaScript prints them.
func jsString(v any) string {
	switch v := v.(type) {
	case undefinedType:
		return "undefined"
	case *object:
		return "[object Object]"
	case []any:
		parts := make([]byte, 0, 16)
		for i, item := range v {
			if i > 0 {
				parts = append(parts, ',')
			}
			if item != nil && item != undefined {
				parts = append(parts, jsString(item)...)
			}
		}
		return string(parts)
	}
	return jsvalue.String(v)
}

// get reads property k of any value, as v[k] does (undefined for
// primitives and missing keys; strings and arrays answer indices and
// "length" is not needed here).
func get(v any, k string) any {
	switch v := v.(type) {
	case *object:
		return v.get(k)
	case []any:
		if isArrayIndex(k) {
			i, _ := strconv.Atoi(k)
			if i < len(v) {
				return v[i]
			}
		}
	case string:
		if isArrayIndex(k) {
			i, _ := strconv.Atoi(k)
			if u := codeUnits(v); i < len(u) {
				return u[i]
			}
		}
	}
	return undefined
}

// toNative converts a value to plain Go values for callers: objects
// become map[string]any, undefined properties are left out.
// Like JSON.stringify, non-finite numbers become nil; lone surrogates,
// which Go strings cannot hold, become U+FFFD.
func toNative(v any) any {
	switch v := v.(type) {
	case *object:
		m := make(map[string]any, len(v.vals))
		for k, val := range v.vals {
			if _, isData := val.(attachmentData); val != undefined && !isData {
				m[usvString(k)] = toNative(val)
			}
		}
		return m
	case string:
		return usvString(v)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		if v == 0 {
			return 0.0 // -0 prints as 0
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			if item != undefined {
				out[i] = toNative(item)
			}
		}
		return out
	case undefinedType:
		return nil
	}
	return v
}
