package npmrc

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Parse reads an .npmrc the way npm's ini module (v5/v6) does and returns
// its top-level settings in the order JavaScript would enumerate them.
//
// Its quirks are kept on purpose: blank lines and lines starting with ; or
// # are skipped; a line is "key" or "key = value", split at the first =;
// keys and values are trimmed; an unquoted value ends at the first
// unescaped ; or # (\; \# and \\ are the only escapes); a value in double
// quotes, or in single quotes, is read as JSON when it is valid JSON; the
// bare words true, false and null become booleans and null; "key[] = v"
// lines collect a list; a line without = sets the key to true; a [section]
// puts every following key inside an object instead of at the top level,
// and dots in section names nest. Later lines win.
//
// The only error is a section nested under a key whose value is null,
// which makes ini throw (and so npm refuse to start).
func Parse(data []byte, file string) ([]Setting, error) {
	text := decodeUTF8(data)
	out := newObject()
	p := out // nil p: writes to a section that is not an object are lost, as in JavaScript
	for _, ln := range splitLines(text) {
		line := ln.text
		if isSkipped(line) {
			continue
		}
		if line[0] == '[' {
			if end := strings.IndexByte(line, ']'); end > 0 && strings.TrimFunc(line[end+1:], isJSSpace) == "" {
				sec := unsafe(line[1:end])
				secKey := jsString(sec)
				if sec.Kind == KindString && sec.Str == "__proto__" {
					p = newObject() // ini parses it but attaches it nowhere
					continue
				}
				cur, ok := out.get(secKey)
				switch {
				case ok && cur.kind == KindObject:
					p = cur.obj
					out.lines[secKey] = ln.no
				case ok && truthy(cur.value()):
					p = nil
				default:
					p = newObject()
					out.set(secKey, &node{kind: KindObject, obj: p}, ln.no)
				}
				continue
			}
		}
		keyPart, valPart, hasEq := strings.Cut(line, "=")
		if keyPart == "" {
			continue // the key regexp needs at least one character before =
		}
		if hasEq && strings.ContainsAny(valPart, "\u2028\u2029") {
			continue // JavaScript's . does not match line separators
		}
		rawKey := unsafe(keyPart)
		key := jsString(rawKey)
		isArray := rawKey.Kind == KindString && utf16Len(key) > 2 && strings.HasSuffix(key, "[]")
		if isArray {
			key = key[:len(key)-2]
		}
		if rawKey.Kind == KindString && key == "__proto__" {
			continue
		}
		var val Value
		if hasEq {
			val = unsafe(valPart)
			if val.Kind == KindString {
				switch val.Str {
				case "true":
					val = boolean(true)
				case "false":
					val = boolean(false)
				case "null":
					val = null
				}
			}
		} else {
			val = boolean(true)
		}
		if p == nil {
			continue
		}
		v := fromValue(val)
		cur, ok := p.get(key)
		if isArray {
			if !ok {
				cur = &node{kind: KindList}
				p.set(key, cur, ln.no)
			} else if cur.kind != KindList {
				cur = &node{kind: KindList, list: []*node{cur}}
				p.set(key, cur, ln.no)
			}
		}
		if ok || isArray {
			if cur.kind == KindList {
				cur.list = append(cur.list, v)
				p.lines[key] = ln.no
				continue
			}
		}
		p.set(key, v, ln.no)
	}
	if err := nestSections(out); err != nil {
		return nil, fmt.Errorf("%s:%w", file, err)
	}
	return out.settings(), nil
}

// utf16Len is s's length in UTF-16 code units, as JavaScript counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xffff {
			n++
		}
	}
	return n
}

type line struct {
	text string
	no   int
}

// splitLines splits like JavaScript's str.split(/[\r\n]+/), remembering
// each piece's line number.
func splitLines(s string) []line {
	var out []line
	no := 1
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '\r' && s[i] != '\n' {
			continue
		}
		if i > start {
			out = append(out, line{s[start:i], no})
		}
		for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
			if s[i] == '\n' || i+1 >= len(s) || s[i+1] != '\n' {
				no++
			}
			i++
		}
		start = i
		i--
		if start >= len(s) {
			break
		}
	}
	return out
}

func isSkipped(line string) bool {
	t := strings.TrimLeftFunc(line, isJSSpace)
	return t == "" || t[0] == ';' || t[0] == '#'
}

// unsafe is ini's unsafe(): trim, then either unquote (JSON when it
// parses) or cut at the first unescaped ; or # and trim again.
func unsafe(val string) Value {
	val = jsTrim(val)
	quoted := len(val) > 0 && (val[0] == '"' && val[len(val)-1] == '"' || val[0] == '\'' && val[len(val)-1] == '\'')
	if quoted {
		if val[0] == '\'' {
			if len(val) < 2 {
				val = ""
			} else {
				val = val[1 : len(val)-1]
			}
		}
		if v, ok := parseJSON(val); ok {
			return v
		}
		return str(val)
	}
	var b strings.Builder
	esc := false
	for i := 0; i < len(val); i++ {
		c := val[i]
		switch {
		case esc:
			if c != '\\' && c != ';' && c != '#' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
			esc = false
		case c == ';' || c == '#':
			i = len(val)
		case c == '\\':
			esc = true
		default:
			b.WriteByte(c)
		}
	}
	if esc {
		b.WriteByte('\\')
	}
	return str(jsTrim(b.String()))
}

// parseJSON is JSON.parse, keeping object keys in JavaScript's order.
func parseJSON(s string) (Value, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n, err := decodeJSON(dec)
	if err != nil {
		return Value{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return Value{}, false
	}
	return n.value(), true
}

func decodeJSON(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: KindList}
			for dec.More() {
				e, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				n.list = append(n.list, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '{':
			n := &node{kind: KindObject, obj: newObject()}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				e, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				n.obj.set(k, e, 0)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &node{kind: KindString, str: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return &node{kind: KindNumber, num: f}, nil
	case bool:
		return &node{kind: KindBool, b: t}, nil
	case nil:
		return &node{kind: KindNull}, nil
	}
	return nil, fmt.Errorf("unexpected token")
}

// node is a mutable JavaScript value, so that sections can be filled in
// and moved by reference as ini does.
type node struct {
	kind Kind
	str  string
	num  float64
	b    bool
	list []*node
	obj  *object
}

func fromValue(v Value) *node {
	n := &node{kind: v.Kind, str: v.Str, num: v.Num, b: v.Bool}
	for _, e := range v.List {
		n.list = append(n.list, fromValue(e))
	}
	if v.Kind == KindObject {
		n.obj = newObject()
		for _, s := range v.Obj {
			n.obj.set(s.Key, fromValue(s.Value), s.Line)
		}
	}
	return n
}

func (n *node) value() Value {
	v := Value{Kind: n.kind, Str: n.str, Num: n.num, Bool: n.b}
	for _, e := range n.list {
		v.List = append(v.List, e.value())
	}
	if n.kind == KindObject {
		v.Obj = n.obj.settings()
	}
	return v
}

// object is a JavaScript object: integer-like keys enumerate first in
// numeric order, the rest in insertion order.
type object struct {
	keys  []string
	vals  map[string]*node
	lines map[string]int
}

func newObject() *object {
	return &object{vals: map[string]*node{}, lines: map[string]int{}}
}

func (o *object) get(k string) (*node, bool) {
	n, ok := o.vals[k]
	return n, ok
}

func (o *object) set(k string, n *node, line int) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = n
	if line > 0 {
		o.lines[k] = line
	}
}

// del deletes keys, in one pass so that many deletions stay linear.
func (o *object) del(keys []string) {
	for _, k := range keys {
		delete(o.vals, k)
		delete(o.lines, k)
	}
	kept := o.keys[:0]
	for _, k := range o.keys {
		if _, ok := o.vals[k]; ok {
			kept = append(kept, k)
		}
	}
	o.keys = kept
}

func (o *object) ordered() []string {
	var ints, rest []string
	for _, k := range o.keys {
		if isArrayIndex(k) {
			ints = append(ints, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Slice(ints, func(i, j int) bool {
		a, _ := strconv.ParseUint(ints[i], 10, 64)
		b, _ := strconv.ParseUint(ints[j], 10, 64)
		return a < b
	})
	return append(ints, rest...)
}

func (o *object) settings() []Setting {
	keys := o.ordered()
	out := make([]Setting, 0, len(keys))
	for _, k := range keys {
		out = append(out, Setting{Key: k, Value: o.vals[k].value(), Line: o.lines[k]})
	}
	return out
}

func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 1<<32-1
}

// nestSections is the end of ini's decode: an object-valued top-level key
// whose name has dots (not escaped with \) moves under its parents.
func nestSections(out *object) error {
	var remove []string
	for _, k := range out.ordered() {
		v, ok := out.get(k)
		if !ok || (v.kind != KindObject && v.kind != KindNull) { // typeof null is 'object'
			continue
		}
		parts := splitSections(k)
		l := parts[len(parts)-1]
		parts = parts[:len(parts)-1]
		nl := strings.ReplaceAll(l, `\.`, ".")
		p := &node{kind: KindObject, obj: out}
		for _, part := range parts {
			if part == "__proto__" {
				continue
			}
			if p.kind != KindObject {
				// Setting properties on a list or primitive is lost in
				// JavaScript; reading them through null throws.
				if p.kind == KindNull {
					return fmt.Errorf("%d: %s", out.lines[k], errNullParent)
				}
				p = nil
				break
			}
			child, ok := p.obj.get(part)
			if !ok || !(child.kind == KindObject || child.kind == KindNull || child.kind == KindList) {
				child = &node{kind: KindObject, obj: newObject()}
				p.obj.set(part, child, out.lines[k])
			}
			p = child
		}
		if p != nil && p.obj == out && nl == l {
			continue
		}
		if p != nil {
			switch p.kind {
			case KindObject:
				p.obj.set(nl, v, out.lines[k])
			case KindNull:
				return fmt.Errorf("%d: %s", out.lines[k], errNullParent)
			}
		}
		remove = append(remove, k)
	}
	out.del(remove)
	return nil
}

// The section's name is left out of the message: a mangled file can have
// anything there, a token included.
const errNullParent = "a dotted section cannot nest under a key whose value is null"

// splitSections splits at dots not preceded by a backslash.
func splitSections(s string) []string {
	var out []string
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' && (i == 0 || s[i-1] != '\\') {
			out = append(out, s[last:i])
			last = i + 1
		}
	}
	return append(out, s[last:])
}
