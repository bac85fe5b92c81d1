package glob

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// This file turns one path segment of a glob into the source of a JS
// regular expression, the way minimatch's AST class does: parse extglobs
// into a tree, flatten nested extglobs, copy what follows a !(…) into it, and
// print. The tree is mutated in the same odd ways as upstream (stale parent
// indexes, parts shared after a usurp), because the output depends on it.

const (
	qmark       = `[^/]`
	star        = qmark + `*?`
	starNoEmpty = qmark + `+?`
	// Prepended where a segment could otherwise match "." or "..".
	startNoTraversal = `(?!(?:^|/)\.\.?(?:$|/))`
	// Appended to the alternatives of a !(…), which are matched as a lookahead.
	negEnd = `(?:$|\/)`
	// An extglob may nest in an extglob of another kind this deep.
	maxExtglobRecursion = 2
)

var errExtglobString = errors.New("string part in extglob")

// partList is shared by reference, as a JS array is: after a usurp two nodes
// hold the same list.
type partList struct {
	items []part
}

// part is a string or a node.
type part struct {
	s string
	n *node
}

// tri is a JS value that may also be undefined.
type tri int8

const (
	undefined tri = iota
	no
	yes
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

type node struct {
	typ         byte // 0 for a plain sequence, or one of ! ? + * @
	parts       *partList
	parent      *node
	root        *node
	parentIndex int // len(parent.parts) when created, never updated
	hasMagic    tri
	uflag       bool
	emptyExt    bool
	str         *string // cached toString

	// Only on the root.
	negs       []*node
	filledNegs bool
}

func isExtType(c byte) bool {
	return c == '!' || c == '?' || c == '+' || c == '*' || c == '@'
}

func newNode(typ byte, parent *node) *node {
	n := &node{typ: typ, parent: parent, parts: &partList{}}
	if typ != 0 {
		n.hasMagic = yes
	}
	if parent == nil {
		n.root = n
	} else {
		n.root = parent.root
		n.parentIndex = len(parent.parts.items)
	}
	if typ == '!' && !n.root.filledNegs {
		n.root.negs = append(n.root.negs, n)
	}
	return n
}

func (n *node) pushString(s string) {
	if s != "" {
		n.parts.items = append(n.parts.items, part{s: s})
	}
}

func (n *node) pushNode(c *node) {
	n.parts.items = append(n.parts.items, part{n: c})
}

func (n *node) String() string {
	if n.str != nil {
		return *n.str
	}
	var b strings.Builder
	if n.typ != 0 {
		b.WriteByte(n.typ)
		b.WriteByte('(')
	}
	for i, p := range n.parts.items {
		if i > 0 && n.typ != 0 {
			b.WriteByte('|')
		}
		if p.n != nil {
			b.WriteString(p.n.String())
		} else {
			b.WriteString(p.s)
		}
	}
	if n.typ != 0 {
		b.WriteByte(')')
	}
	s := b.String()
	n.str = &s
	return s
}

func (n *node) isStart() bool {
	if n.root == n {
		return true
	}
	if !n.parent.isStart() {
		return false
	}
	if n.parentIndex == 0 {
		return true
	}
	// Still the start if everything before it is a !(…).
	items := n.parent.parts.items
	for i := 0; i < n.parentIndex; i++ {
		if i >= len(items) || items[i].n == nil || items[i].n.typ != '!' {
			return false
		}
	}
	return true
}

func (n *node) isEnd() bool {
	if n.root == n {
		return true
	}
	if n.parent.typ == '!' {
		return true
	}
	if !n.parent.isEnd() {
		return false
	}
	if n.typ == 0 {
		return true
	}
	return n.parentIndex == len(n.parent.parts.items)-1
}

func (n *node) copyIn(p part) {
	if p.n == nil {
		n.pushString(p.s)
	} else {
		n.pushNode(p.n.clone(n))
	}
}

// clone copies the type and parts only, as upstream does: emptyExt is lost.
func (n *node) clone(parent *node) *node {
	c := newNode(n.typ, parent)
	for _, p := range n.parts.items {
		c.copyIn(p)
	}
	return c
}

// parseAST reads str from pos into n and returns where it stopped. Escapes
// and [...] are skipped over so that their characters do not start or end
// an extglob.
func parseAST(str string, n *node, pos, extDepth int) int {
	escaping, inBrace, braceNeg := false, false, false
	braceStart := -1
	var acc strings.Builder
	// skipped reports whether c (at byte i-1) belongs to an escape or a
	// bracket expression, and appends it if so.
	skipped := func(c byte, i int) bool {
		if escaping || c == '\\' {
			escaping = !escaping
			acc.WriteByte(c)
			return true
		}
		if inBrace {
			if i == braceStart+1 {
				if c == '^' || c == '!' {
					braceNeg = true
				}
			} else if c == ']' && !(i == braceStart+2 && braceNeg) {
				inBrace = false
			}
			acc.WriteByte(c)
			return true
		}
		if c == '[' {
			inBrace, braceStart, braceNeg = true, i, false
			acc.WriteByte(c)
			return true
		}
		return false
	}

	if n.typ == 0 {
		i := pos
		for i < len(str) {
			c := str[i]
			i++
			if skipped(c, i) {
				continue
			}
			if isExtType(c) && i < len(str) && str[i] == '(' && extDepth <= maxExtglobRecursion {
				n.pushString(acc.String())
				acc.Reset()
				ext := newNode(c, n)
				i = parseAST(str, ext, i, extDepth+1)
				n.pushNode(ext)
				continue
			}
			acc.WriteByte(c)
		}
		n.pushString(acc.String())
		return i
	}

	// An extglob: pos is at its "(".
	i := pos + 1
	alt := newNode(0, n)
	var alts []*node
	for i < len(str) {
		c := str[i]
		i++
		if skipped(c, i) {
			continue
		}
		if isExtType(c) && i < len(str) && str[i] == '(' {
			adopt := n.canAdoptType(c, adoptionAny)
			if extDepth <= maxExtglobRecursion || adopt {
				depth := extDepth + 1
				if adopt {
					depth = extDepth
				}
				alt.pushString(acc.String())
				acc.Reset()
				ext := newNode(c, alt)
				alt.pushNode(ext)
				i = parseAST(str, ext, i, depth)
				continue
			}
		}
		switch c {
		case '|':
			alt.pushString(acc.String())
			acc.Reset()
			alts = append(alts, alt)
			alt = newNode(0, n)
			continue
		case ')':
			// n has no parts yet, so this is true whenever the last
			// alternative is empty: !(a|) counts as !().
			if acc.Len() == 0 && len(n.parts.items) == 0 {
				n.emptyExt = true
			}
			alt.pushString(acc.String())
			for _, a := range alts {
				n.pushNode(a)
			}
			n.pushNode(alt)
			return i
		}
		acc.WriteByte(c)
	}
	// Never closed: not an extglob after all, just text.
	n.typ = 0
	n.hasMagic = undefined
	n.parts = &partList{items: []part{{s: str[pos-1:]}}}
	return i
}

// Which extglob types may take in the alternatives of a lone child
// extglob; see minimatch's ast.ts for the reasoning behind each.
type typeMap map[byte]string

var (
	adoption          = typeMap{'!': "@", '?': "?@", '@': "@", '*': "*+?@", '+': "+@"}
	adoptionWithSpace = typeMap{'!': "?", '@': "?", '+': "?*"}
	adoptionAny       = typeMap{'!': "?@", '?': "?@", '@': "?@", '*': "*+?@", '+': "+@?*"}
	usurpation        = map[byte]typeMap{
		'!': {'!': "@"},
		'?': {'*': "*", '+': "*"},
		'@': {'!': "!", '?': "?", '@': "@", '*': "*", '+': "+"},
		'+': {'?': "*", '*': "*"},
	}
)

func (n *node) canAdoptType(c byte, m typeMap) bool {
	return strings.IndexByte(m[n.typ], c) >= 0
}

// loneExtChild returns the extglob that is the only part of child.
func (n *node) loneExtChild(child *node) *node {
	if child.typ != 0 || len(child.parts.items) != 1 || n.typ == 0 {
		return nil
	}
	gc := child.parts.items[0].n
	if gc == nil || gc.typ == 0 {
		return nil
	}
	return gc
}

func (n *node) canAdopt(child *node, m typeMap) bool {
	gc := n.loneExtChild(child)
	return gc != nil && n.canAdoptType(gc.typ, m)
}

func (n *node) canUsurp(child *node) bool {
	if len(n.parts.items) != 1 {
		return false
	}
	gc := n.loneExtChild(child)
	if gc == nil {
		return false
	}
	_, ok := usurpation[n.typ][gc.typ]
	return ok
}

func (n *node) adopt(child *node, index int) {
	gc := child.parts.items[0].n
	items := n.parts.items
	merged := make([]part, 0, len(items)-1+len(gc.parts.items))
	merged = append(merged, items[:index]...)
	merged = append(merged, gc.parts.items...)
	merged = append(merged, items[index+1:]...)
	n.parts.items = merged
	for _, p := range gc.parts.items {
		if p.n != nil {
			p.n.parent = n
		}
	}
	n.str = nil
}

func (n *node) adoptWithSpace(child *node, index int) {
	gc := child.parts.items[0].n
	blank := newNode(0, gc)
	blank.parts.items = append(blank.parts.items, part{s: ""})
	gc.pushNode(blank)
	n.adopt(child, index)
}

func (n *node) usurp(child *node) {
	gc := child.parts.items[0].n
	n.parts = gc.parts
	for _, p := range n.parts.items {
		if p.n != nil {
			p.n.parent = n
		}
	}
	n.typ = usurpation[n.typ][gc.typ][0]
	n.str = nil
	n.emptyExt = false
}

func (n *node) flatten() {
	if n.typ == 0 {
		for _, p := range n.parts.items {
			if p.n != nil {
				p.n.flatten()
			}
		}
		n.str = nil
		return
	}
	for iter := 0; iter < 10; iter++ {
		done := true
		for i := 0; i < len(n.parts.items); i++ {
			c := n.parts.items[i].n
			if c == nil {
				continue
			}
			c.flatten()
			switch {
			case n.canAdopt(c, adoption):
				done = false
				n.adopt(c, i)
			case n.canAdopt(c, adoptionWithSpace):
				done = false
				n.adoptWithSpace(c, i)
			case n.canUsurp(c):
				done = false
				n.usurp(c)
			}
		}
		if done {
			break
		}
	}
	n.str = nil
}

// fillNegs appends to each alternative of every !(…) a copy of whatever
// follows it in the plain sequences above it, so the lookahead sees the rest
// of the segment.
func (n *node) fillNegs() error {
	// Upstream caches every node's text here; an empty extglob that is
	// later taken literally prints this cached text, not its current parts.
	_ = n.String()
	n.filledNegs = true
	for len(n.negs) > 0 {
		neg := n.negs[len(n.negs)-1]
		n.negs = n.negs[:len(n.negs)-1]
		if neg.typ != '!' {
			continue
		}
		for p, pp := neg, neg.parent; pp != nil; p, pp = pp, pp.parent {
			for i := p.parentIndex + 1; pp.typ == 0 && i < len(pp.parts.items); i++ {
				for _, alt := range neg.parts.items {
					if alt.n == nil {
						return errExtglobString
					}
					alt.n.copyIn(pp.parts.items[i])
				}
			}
		}
	}
	return nil
}

// rootSource returns the regular expression source for the segment n was
// parsed from, the same source without guards (which minimatch unescapes to
// get the literal for a segment without magic), whether there is magic, and
// whether the u flag is needed.
func (n *node) rootSource() (src, bare string, magic, uflag bool, err error) {
	n.flatten()
	if err := n.fillNegs(); err != nil {
		return "", "", false, false, err
	}
	return n.plainSource()
}

// regexpSource returns the regular expression source for n, whether it has
// magic, and whether it needs the u flag. Options are fixed: dot is on, so
// nothing guards against leading dots beyond "." and "..".
func (n *node) regexpSource() (src string, magic, uflag bool, err error) {
	if n.typ == 0 {
		src, _, magic, uflag, err = n.plainSource()
		return src, magic, uflag, err
	}
	var body strings.Builder
	both := n.isStart() && n.isEnd()
	first := true
	for _, p := range n.parts.items {
		if p.n == nil {
			return "", false, false, errExtglobString
		}
		re, _, uf, err := p.n.regexpSource()
		if err != nil {
			return "", false, false, err
		}
		n.uflag = n.uflag || uf
		// An alternative that matches nothing is dropped when the extglob
		// is the whole segment.
		if re == "" && both {
			continue
		}
		if !first {
			body.WriteByte('|')
		}
		first = false
		body.WriteString(re)
	}
	if both && body.Len() == 0 && n.typ != '!' {
		// An empty extglob as the whole segment is taken literally, and
		// its text is used as regexp source as is.
		s := n.String()
		n.parts = &partList{items: []part{{s: s}}}
		n.typ = 0
		n.hasMagic = undefined
		return s, false, false, nil
	}
	var final string
	switch n.typ {
	case '!':
		if n.emptyExt {
			final = starNoEmpty
		} else {
			final = `(?:(?!(?:` + body.String() + `))` + star + `)`
		}
	case '@':
		final = `(?:` + body.String() + `)`
	default: // ? + *
		final = `(?:` + body.String() + `)` + string(n.typ)
	}
	n.hasMagic = triOf(n.hasMagic == yes)
	return final, n.hasMagic == yes, n.uflag, nil
}

func (n *node) plainSource() (src, bare string, magic, uflag bool, err error) {
	noEmpty := n.isStart() && n.isEnd()
	for _, p := range n.parts.items {
		noEmpty = noEmpty && p.n == nil
	}
	var b strings.Builder
	for _, p := range n.parts.items {
		var re string
		var m, uf bool
		if p.n == nil {
			re, m, uf = parseGlob(p.s, n.hasMagic == yes, noEmpty)
		} else {
			re, m, uf, err = p.n.regexpSource()
			if err != nil {
				return "", "", false, false, err
			}
		}
		n.hasMagic = triOf(n.hasMagic == yes || m)
		n.uflag = n.uflag || uf
		b.WriteString(re)
	}
	s := b.String()
	start := ""
	if items := n.parts.items; n.isStart() && len(items) > 0 && items[0].n == nil {
		// "." and ".." only match themselves; anything else that could
		// match them gets a guard.
		justDots := len(items) == 1 && (items[0].s == "." || items[0].s == "..")
		if !justDots && (startsClassOrDot(s, 0) ||
			strings.HasPrefix(s, `\.`) && startsClassOrDot(s, 2) ||
			strings.HasPrefix(s, `\.\.`) && startsClassOrDot(s, 4)) {
			start = startNoTraversal
		}
	}
	end := ""
	if n.isEnd() && n.root.filledNegs && n.parent != nil && n.parent.typ == '!' {
		end = negEnd
	}
	return start + s + end, s, n.hasMagic == yes, n.uflag, nil
}

func startsClassOrDot(s string, i int) bool {
	return i < len(s) && (s[i] == '[' || s[i] == '.')
}

const reSpecials = `().*{}+?[]^$\!`

func appendRegexpEscaped(b *strings.Builder, r rune) {
	if r < 0x80 && strings.IndexByte(`-[]{}()*+?.,\^$|#`, byte(r)) >= 0 || isJSSpace(r) {
		b.WriteByte('\\')
	}
	b.WriteRune(r)
}

// parseGlob translates a run of glob text with no extglobs in it.
func parseGlob(glob string, magic, noEmpty bool) (string, bool, bool) {
	var re strings.Builder
	escaping, inStar, uflag := false, false, false
	allStars := strings.Trim(glob, "*") == "" && glob != ""
	for i := 0; i < len(glob); {
		r, w := utf8.DecodeRuneInString(glob[i:])
		if escaping {
			escaping = false
			if r < 0x80 && strings.IndexByte(reSpecials, byte(r)) >= 0 {
				re.WriteByte('\\')
			}
			re.WriteString(glob[i : i+w])
			i += w
			continue
		}
		if r == '*' {
			if !inStar {
				inStar = true
				if noEmpty && allStars {
					re.WriteString(starNoEmpty)
				} else {
					re.WriteString(star)
				}
				magic = true
			}
			i++
			continue
		}
		inStar = false
		switch r {
		case '\\':
			if i == len(glob)-1 {
				re.WriteString(`\\`)
			} else {
				escaping = true
			}
			i++
			continue
		case '[':
			if src, u, consumed, m := parseClass(glob, i); consumed > 0 {
				re.WriteString(src)
				uflag = uflag || u
				magic = magic || m
				i += consumed
				continue
			}
		case '?':
			re.WriteString(qmark)
			magic = true
			i++
			continue
		}
		appendRegexpEscaped(&re, r)
		i += w
	}
	return re.String(), magic, uflag
}

// unescape is minimatch's unescape: [x] becomes x unless a backslash comes
// first, then \x becomes x. It works on UTF-16 code units, as JS does.
func unescape(s string) string {
	if strings.IndexByte(s, '[') < 0 && strings.IndexByte(s, '\\') < 0 {
		return s
	}
	u := appendUTF16(nil, s)
	isLT := func(c uint16) bool { return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 }
	var out []uint16
	for p := 0; p < len(u); {
		// ((?!\\).|^)\[([^/\\])\]
		if p+3 < len(u) && u[p] != '\\' && !isLT(u[p]) && u[p+1] == '[' && u[p+2] != '/' && u[p+2] != '\\' && u[p+3] == ']' {
			out = append(out, u[p], u[p+2])
			p += 4
			continue
		}
		if p == 0 && len(u) >= 3 && u[0] == '[' && u[1] != '/' && u[1] != '\\' && u[2] == ']' {
			out = append(out, u[1])
			p += 3
			continue
		}
		out = append(out, u[p])
		p++
	}
	u, out = out, u[:0]
	for p := 0; p < len(u); p++ {
		if u[p] == '\\' && p+1 < len(u) && u[p+1] != '/' {
			p++
		}
		out = append(out, u[p])
	}
	return fromUTF16(out)
}
