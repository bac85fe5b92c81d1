package glob

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// minimatch hands each magic segment to JS's RegExp with the i flag, and the
// u flag when a POSIX class is used. Go's regexp cannot stand in: the
// sources use negative lookahead, JS case folding differs from Go's, and
// without u the pattern and the input are UTF-16 code units. So this file
// parses the generated JS source and matches it with a small backtracking
// machine that remembers failed states, which keeps it polynomial where JS
// could take exponential time, without changing any answer (there are no
// backreferences, so greedy, lazy and memoized searches all agree).

// reSyntaxError is what JS throws for a source it cannot compile; minimatch
// lets it escape from the constructor.
type reSyntaxError struct {
	src, flags, msg string
}

func (e *reSyntaxError) Error() string {
	return fmt.Sprintf("invalid regular expression /%s/%s: %s", e.src, e.flags, e.msg)
}

type reOp uint8

const (
	opMatch    reOp = iota
	opChar          // a: the character
	opNotSlash      // [^/]
	opAnyNoLT       // .
	opClass         // a: index into classes
	opSplit         // a, b: targets
	opJmp           // a: target
	opBol
	opEol
	opNegLook // a: index into looks
)

type reInst struct {
	op   reOp
	a, b int32
}

type reProg struct {
	insts   []reInst
	classes []*reClass
	looks   []*reProg
	unicode bool // the u flag: match code points, fold with simple case folding
	anchor  bool // begins with ^ on every path, so only position 0 can match

	id int // index in the top program's all

	// Set on the top program only.
	all    []*reProg // this program and every lookahead, depth first
	simple simpleShape
}

// simpleShape describes a regexp of the form ^(guard)?prefix([^/]*)?suffix$
// with ASCII literals, the shape of most real ignore rules, which is
// matched without the machine when the input is ASCII too.
type simpleShape struct {
	ok     bool
	guard  bool // the startNoTraversal lookahead: not "." or ".."
	prefix string
	star   bool
	suffix string
}

type reClass struct {
	negate bool
	ranges []rune // pairs lo, hi
	tables []*unicode.RangeTable
}

// has reports whether c is in the class, folding case as JS does.
func (c *reClass) has(ch rune, u bool) bool {
	in := foldEquivalents(ch, u, c.hasExact)
	return in != c.negate
}

func (c *reClass) hasExact(ch rune) bool {
	for i := 0; i < len(c.ranges); i += 2 {
		if ch >= c.ranges[i] && ch <= c.ranges[i+1] {
			return true
		}
	}
	for _, t := range c.tables {
		if unicode.Is(t, ch) {
			return true
		}
	}
	return false
}

// reNode is a parsed regexp.
type reNode struct {
	kind     reKind
	subs     []*reNode
	r        rune
	class    *reClass
	min, max int // for reRepeat; max < 0 is unbounded
}

type reKind uint8

const (
	reEmpty reKind = iota
	reAlt
	reConcat
	reChar
	reAnyNoLT
	reClassNode
	reRepeat
	reBol
	reEol
	reNegLook
)

type reParser struct {
	src     []rune
	pos     int
	unicode bool
	err     string
}

var propertyTables = map[string]*unicode.RangeTable{
	"L": unicode.L, "Nl": unicode.Nl, "Nd": unicode.Nd, "Zs": unicode.Zs,
	"Cc": unicode.Cc, "Z": unicode.Z, "C": unicode.C, "Ll": unicode.Ll,
	"P": unicode.P, "Lu": unicode.Lu, "Pc": unicode.Pc,
}

// compileRegexp compiles the JS source src, which is matched with the i
// flag and, if u is set, the u flag.
func compileRegexp(src string, u bool) (*reProg, error) {
	units := appendUTF16(nil, src)
	var chars []rune
	if u {
		// With u the source is read as code points.
		for i := 0; i < len(units); i++ {
			c := rune(units[i])
			if c >= 0xD800 && c <= 0xDBFF && i+1 < len(units) && units[i+1] >= 0xDC00 && units[i+1] <= 0xDFFF {
				c = utf16Pair(c, rune(units[i+1]))
				i++
			}
			chars = append(chars, c)
		}
	} else {
		chars = make([]rune, len(units))
		for i, c := range units {
			chars[i] = rune(c)
		}
	}
	p := &reParser{src: chars, unicode: u}
	n := p.disjunction()
	if p.err == "" && p.pos < len(p.src) {
		p.fail("unmatched ')'")
	}
	if p.err != "" {
		flags := "i"
		if u {
			flags = "iu"
		}
		return nil, &reSyntaxError{src: src, flags: flags, msg: p.err}
	}
	top := &reProg{unicode: u}
	top.build(n, top)
	top.simple = shapeOf(n, strings.HasPrefix(src, "^"+startNoTraversal))
	return top, nil
}

func utf16Pair(hi, lo rune) rune {
	return (hi-0xD800)<<10 + (lo - 0xDC00) + 0x10000
}

func (p *reParser) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
	p.pos = len(p.src)
}

func (p *reParser) peek(off int) rune {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off]
	}
	return -1
}

func (p *reParser) disjunction() *reNode {
	alts := []*reNode{p.alternative()}
	for p.err == "" && p.peek(0) == '|' {
		p.pos++
		alts = append(alts, p.alternative())
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return &reNode{kind: reAlt, subs: alts}
}

func (p *reParser) alternative() *reNode {
	var terms []*reNode
	for p.err == "" && p.pos < len(p.src) {
		c := p.peek(0)
		if c == '|' || c == ')' {
			break
		}
		if t := p.term(); t != nil {
			terms = append(terms, t)
		}
	}
	switch len(terms) {
	case 0:
		return &reNode{kind: reEmpty}
	case 1:
		return terms[0]
	}
	return &reNode{kind: reConcat, subs: terms}
}

func (p *reParser) term() *reNode {
	c := p.src[p.pos]
	p.pos++
	var atom *reNode
	switch c {
	case '^':
		return p.assertion(reBol)
	case '$':
		return p.assertion(reEol)
	case '(':
		kind := reConcat
		switch {
		case p.peek(0) == '?' && p.peek(1) == ':':
			p.pos += 2
		case p.peek(0) == '?' && p.peek(1) == '!':
			p.pos += 2
			kind = reNegLook
		case p.peek(0) == '?':
			p.fail("unsupported group")
			return nil
		}
		sub := p.disjunction()
		if p.peek(0) != ')' {
			p.fail("unterminated group")
			return nil
		}
		p.pos++
		if kind == reNegLook {
			return p.assertion(reNegLook, sub)
		}
		atom = sub
	case '.':
		atom = &reNode{kind: reAnyNoLT}
	case '[':
		atom = p.class()
	case '\\':
		atom = p.atomEscape()
	case '*', '+', '?':
		p.fail("nothing to repeat")
		return nil
	case '{', '}', ']':
		// Only ever emitted escaped; a bare one would mean the translation
		// went wrong somewhere.
		p.fail("lone quantifier brackets")
		return nil
	default:
		atom = &reNode{kind: reChar, r: c}
	}
	if p.err != "" {
		return nil
	}
	return p.quantifier(atom)
}

func (p *reParser) assertion(kind reKind, subs ...*reNode) *reNode {
	if c := p.peek(0); c == '*' || c == '+' || c == '?' || c == '{' {
		p.fail("nothing to repeat")
		return nil
	}
	return &reNode{kind: kind, subs: subs}
}

func (p *reParser) quantifier(atom *reNode) *reNode {
	n := atom
	switch p.peek(0) {
	case '*':
		n = &reNode{kind: reRepeat, subs: []*reNode{atom}, min: 0, max: -1}
	case '+':
		n = &reNode{kind: reRepeat, subs: []*reNode{atom}, min: 1, max: -1}
	case '?':
		n = &reNode{kind: reRepeat, subs: []*reNode{atom}, min: 0, max: 1}
	case '{':
		p.fail("lone quantifier brackets")
		return nil
	default:
		return atom
	}
	p.pos++
	if p.peek(0) == '?' { // lazy; the same language
		p.pos++
	}
	return n
}

// escapeChar reads the character escapes minimatch can emit. ok is false
// if the escape is not a plain character.
func (p *reParser) escapeChar(inClass bool) (rune, bool) {
	if p.pos >= len(p.src) {
		p.fail("\\ at end of pattern")
		return 0, false
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case 't':
		return '\t', true
	case 'n':
		return '\n', true
	case 'v':
		return '\v', true
	case 'f':
		return '\f', true
	case 'r':
		return '\r', true
	case 'x':
		if p.pos+2 <= len(p.src) && isHex(p.src[p.pos]) && isHex(p.src[p.pos+1]) {
			v := hexVal(p.src[p.pos])<<4 | hexVal(p.src[p.pos+1])
			p.pos += 2
			return v, true
		}
	case 'b', 'B', 'c', 'd', 'D', 'k', 'p', 'P', 's', 'S', 'u', 'w', 'W',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// Escapes with a meaning of their own. minimatch never emits them
		// bare outside the cases handled by the callers.
		p.fail(fmt.Sprintf("unsupported escape \\%c", c))
		return 0, false
	}
	if !p.unicode {
		return c, true // identity escape
	}
	if isSyntaxChar(c) || c == '/' || inClass && c == '-' {
		return c, true
	}
	p.fail("invalid escape")
	return 0, false
}

func isSyntaxChar(c rune) bool {
	switch c {
	case '^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|':
		return true
	}
	return false
}

func isHex(c rune) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c rune) rune {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func (p *reParser) atomEscape() *reNode {
	if p.unicode && p.peek(0) == 'p' {
		cls := &reClass{}
		if !p.property(cls) {
			return nil
		}
		return &reNode{kind: reClassNode, class: cls}
	}
	c, ok := p.escapeChar(false)
	if !ok {
		return nil
	}
	return &reNode{kind: reChar, r: c}
}

// property reads p{Name} into cls.
func (p *reParser) property(cls *reClass) bool {
	p.pos++ // p
	if p.peek(0) != '{' {
		p.fail("invalid property name")
		return false
	}
	start := p.pos + 1
	end := start
	for end < len(p.src) && p.src[end] != '}' {
		end++
	}
	if end >= len(p.src) {
		p.fail("invalid property name")
		return false
	}
	t, ok := propertyTables[string(p.src[start:end])]
	if !ok {
		p.fail("invalid property name")
		return false
	}
	cls.tables = append(cls.tables, t)
	p.pos = end + 1
	return true
}

func (p *reParser) class() *reNode {
	cls := &reClass{}
	if p.peek(0) == '^' {
		cls.negate = true
		p.pos++
	}
	// atom reads one class atom: a character, or a set (ok and !single).
	atom := func() (c rune, single bool) {
		c = p.src[p.pos]
		p.pos++
		if c != '\\' {
			return c, true
		}
		if p.unicode && p.peek(0) == 'p' {
			p.property(cls)
			return 0, false
		}
		c, ok := p.escapeChar(true)
		return c, ok
	}
	for p.err == "" {
		if p.pos >= len(p.src) {
			p.fail("unterminated character class")
			return nil
		}
		if p.src[p.pos] == ']' {
			p.pos++
			break
		}
		lo, single := atom()
		if p.err != "" {
			return nil
		}
		if p.peek(0) == '-' && p.peek(1) != ']' && p.peek(1) >= 0 {
			p.pos++
			hi, hiSingle := atom()
			if p.err != "" {
				return nil
			}
			if !single || !hiSingle {
				p.fail("unsupported class range")
				return nil
			}
			if lo > hi {
				p.fail("range out of order in character class")
				return nil
			}
			cls.ranges = append(cls.ranges, lo, hi)
			continue
		}
		if single {
			cls.ranges = append(cls.ranges, lo, lo)
		}
	}
	if p.err != "" {
		return nil
	}
	if cls.negate && len(cls.tables) == 0 && len(cls.ranges) == 2 && cls.ranges[0] == '/' && cls.ranges[1] == '/' {
		return &reNode{kind: reClassNode, class: notSlash}
	}
	return &reNode{kind: reClassNode, class: cls}
}

// notSlash stands for [^/], which is compiled to its own instruction.
var notSlash = &reClass{negate: true, ranges: []rune{'/', '/'}}

// shapeOf recognizes a simpleShape. guarded says whether the source starts
// with the startNoTraversal lookahead.
func shapeOf(n *reNode, guarded bool) simpleShape {
	if n.kind != reConcat || n.subs[0].kind != reBol || n.subs[len(n.subs)-1].kind != reEol {
		return simpleShape{}
	}
	subs := n.subs[1 : len(n.subs)-1]
	var sh simpleShape
	if guarded && len(subs) > 0 && subs[0].kind == reNegLook {
		sh.guard = true
		subs = subs[1:]
	}
	literal := func() string {
		var b []byte
		for len(subs) > 0 && subs[0].kind == reChar && subs[0].r < utf8.RuneSelf {
			b = append(b, byte(subs[0].r))
			subs = subs[1:]
		}
		return string(b)
	}
	sh.prefix = literal()
	if len(subs) > 0 && subs[0].kind == reRepeat && subs[0].min == 0 && subs[0].max < 0 &&
		subs[0].subs[0].kind == reClassNode && subs[0].subs[0].class == notSlash {
		sh.star = true
		subs = subs[1:]
		sh.suffix = literal()
	}
	sh.ok = len(subs) == 0
	return sh
}

// build compiles n into p, registering p with top.
func (p *reProg) build(n *reNode, top *reProg) {
	p.id = len(top.all)
	top.all = append(top.all, p)
	p.anchor = startsAnchored(n)
	p.emit(n, top)
	p.insts = append(p.insts, reInst{op: opMatch})
}

func startsAnchored(n *reNode) bool {
	switch n.kind {
	case reBol:
		return true
	case reConcat:
		return startsAnchored(n.subs[0])
	case reAlt:
		for _, s := range n.subs {
			if !startsAnchored(s) {
				return false
			}
		}
		return true
	}
	return false
}

func (p *reProg) emit(n *reNode, top *reProg) {
	add := func(op reOp, a, b int32) int {
		p.insts = append(p.insts, reInst{op: op, a: a, b: b})
		return len(p.insts) - 1
	}
	switch n.kind {
	case reEmpty:
	case reChar:
		// b caches the folded character for matching without u.
		add(opChar, n.r, canonUnit(n.r))
	case reAnyNoLT:
		add(opAnyNoLT, 0, 0)
	case reClassNode:
		if n.class == notSlash {
			add(opNotSlash, 0, 0)
			return
		}
		p.classes = append(p.classes, n.class)
		add(opClass, int32(len(p.classes)-1), 0)
	case reBol:
		add(opBol, 0, 0)
	case reEol:
		add(opEol, 0, 0)
	case reConcat:
		for _, s := range n.subs {
			p.emit(s, top)
		}
	case reAlt:
		var jumps []int
		for i, s := range n.subs {
			if i == len(n.subs)-1 {
				p.emit(s, top)
				break
			}
			split := add(opSplit, 0, 0)
			p.insts[split].a = int32(len(p.insts))
			p.emit(s, top)
			jumps = append(jumps, add(opJmp, 0, 0))
			p.insts[split].b = int32(len(p.insts))
		}
		for _, j := range jumps {
			p.insts[j].a = int32(len(p.insts))
		}
	case reRepeat:
		sub := n.subs[0]
		if n.min == 1 {
			p.emit(sub, top)
		}
		if n.max == 1 {
			split := add(opSplit, 0, 0)
			p.insts[split].a = int32(len(p.insts))
			p.emit(sub, top)
			p.insts[split].b = int32(len(p.insts))
			return
		}
		loop := add(opSplit, 0, 0)
		p.insts[loop].a = int32(len(p.insts))
		p.emit(sub, top)
		add(opJmp, int32(loop), 0)
		p.insts[loop].b = int32(len(p.insts))
	case reNegLook:
		look := &reProg{unicode: p.unicode}
		look.build(n.subs[0], top)
		p.looks = append(p.looks, look)
		add(opNegLook, int32(len(p.looks)-1), 0)
	}
}

// machine holds the per-match state. It is pooled so that matching does not
// allocate once warmed up.
type machine struct {
	in      []uint16
	visited []uint64
	offsets []int // per program: first bit in visited
	memo    []int8
	memoOff []int // per program: first entry in memo (lookaheads only)
	stack   []reJob
}

type reJob struct {
	pc, pos int32
}

var machines = sync.Pool{New: func() any { return new(machine) }}

// match reports whether the regexp matches anywhere in s, as RegExp.test.
func (top *reProg) match(s string) bool {
	if top.simple.ok && isASCII(s) {
		return top.simple.match(s)
	}
	m := machines.Get().(*machine)
	m.in = appendUTF16(m.in[:0], s)
	n := len(m.in) + 1
	m.offsets = m.offsets[:0]
	m.memoOff = m.memoOff[:0]
	bits, memo := 0, 0
	for _, p := range top.all {
		m.offsets = append(m.offsets, bits)
		bits += len(p.insts) * n
		m.memoOff = append(m.memoOff, memo)
		if p != top {
			memo += n
		}
	}
	words := (bits + 63) / 64
	if cap(m.visited) < words {
		m.visited = make([]uint64, words)
	} else {
		m.visited = m.visited[:words]
		clear(m.visited)
	}
	if cap(m.memo) < memo {
		m.memo = make([]int8, memo)
	} else {
		m.memo = m.memo[:memo]
		clear(m.memo)
	}
	ok := false
	for pos := 0; pos < n; pos++ {
		if m.run(top, pos) {
			ok = true
			break
		}
		if top.anchor {
			break
		}
		if top.unicode && isHighSurrogateAt(m.in, pos) {
			pos++
		}
	}
	machines.Put(m)
	return ok
}

func isHighSurrogateAt(in []uint16, pos int) bool {
	return pos+1 < len(in) && in[pos] >= 0xD800 && in[pos] <= 0xDBFF && in[pos+1] >= 0xDC00 && in[pos+1] <= 0xDFFF
}

// match matches an ASCII string; ASCII only folds with ASCII, even with
// the u flag (the Kelvin sign and long s are not ASCII).
func (sh *simpleShape) match(s string) bool {
	if sh.guard && (s == "." || s == "..") {
		return false
	}
	if !sh.star {
		return asciiEqualFold(s, sh.prefix)
	}
	return len(s) >= len(sh.prefix)+len(sh.suffix) &&
		asciiEqualFold(s[:len(sh.prefix)], sh.prefix) &&
		asciiEqualFold(s[len(s)-len(sh.suffix):], sh.suffix)
}

func isASCII(s string) bool {
	for len(s) >= 8 {
		// The compiler turns this into one 64-bit load.
		_ = s[7]
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// char returns the character at pos and its width in code units.
func (m *machine) char(pos int, u bool) (rune, int) {
	c := rune(m.in[pos])
	if u && isHighSurrogateAt(m.in, pos) {
		return utf16Pair(c, rune(m.in[pos+1])), 2
	}
	return c, 1
}

// run reports whether p matches starting at pos. A state (pc, pos) seen
// before has failed or is on the current path, so it is not explored again.
func (m *machine) run(p *reProg, pos int) bool {
	n := len(m.in) + 1
	base := m.offsets[p.id]
	bottom := len(m.stack)
	m.stack = append(m.stack, reJob{0, int32(pos)})
	for len(m.stack) > bottom {
		j := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		pc, pos := int(j.pc), int(j.pos)
	thread:
		for {
			bit := base + pc*n + pos
			if m.visited[bit>>6]&(1<<(bit&63)) != 0 {
				break
			}
			m.visited[bit>>6] |= 1 << (bit & 63)
			in := p.insts[pc]
			switch in.op {
			case opMatch:
				m.stack = m.stack[:bottom]
				return true
			case opChar, opNotSlash, opAnyNoLT, opClass:
				if pos >= len(m.in) {
					break thread
				}
				c, w := m.char(pos, p.unicode)
				var ok bool
				switch in.op {
				case opChar:
					if p.unicode {
						ok = foldEqual(c, in.a, true)
					} else {
						ok = c == in.a || canonUnit(c) == in.b
					}
				case opNotSlash:
					ok = c != '/'
				case opAnyNoLT:
					ok = !isLineTerminator(c)
				default:
					ok = p.classes[in.a].has(c, p.unicode)
				}
				if !ok {
					break thread
				}
				pc++
				pos += w
			case opSplit:
				m.stack = append(m.stack, reJob{in.b, int32(pos)})
				pc = int(in.a)
			case opJmp:
				pc = int(in.a)
			case opBol:
				if pos != 0 {
					break thread
				}
				pc++
			case opEol:
				if pos != len(m.in) {
					break thread
				}
				pc++
			case opNegLook:
				if m.look(p.looks[in.a], pos) {
					break thread
				}
				pc++
			}
		}
	}
	return false
}

// look reports whether lookahead program p matches at pos.
func (m *machine) look(p *reProg, pos int) bool {
	i := m.memoOff[p.id] + pos
	if r := m.memo[i]; r != 0 {
		return r > 0
	}
	ok := m.run(p, pos)
	if ok {
		// The states on the successful path were marked too; forget them
		// all, since this program may run again from another position.
		n := len(m.in) + 1
		from, to := m.offsets[p.id], m.offsets[p.id]+len(p.insts)*n
		for b := from; b < to; b++ {
			m.visited[b>>6] &^= 1 << (b & 63)
		}
		m.memo[i] = 1
	} else {
		m.memo[i] = -1
	}
	return ok
}
