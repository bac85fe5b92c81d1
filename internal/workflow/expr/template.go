package expr

import (
	"strings"
)

// Part is a piece of a string that may hold ${{ }} interpolations: plain
// text, or an expression.
type Part struct {
	// Offset is where the piece starts in the string: for an
	// expression, where its "${{" is.
	Offset int
	// Text is the plain text, or the source between ${{ and }}.
	Text string
	// Expr tells an expression from text.
	Expr bool
	// End is the offset just past the piece (past "}}" for an expression).
	End int
}

// Split cuts s into text and ${{ }} expressions. An expression ends at
// the first "}}" outside a string literal; an unterminated one is
// returned as text, since Actions would refuse the workflow.
func Split(s string) []Part {
	var parts []Part
	text := 0
	i := 0
	for {
		j := strings.Index(s[i:], "${{")
		if j < 0 {
			break
		}
		start := i + j
		end, ok := closing(s, start+3)
		if !ok {
			break
		}
		if start > text {
			parts = append(parts, Part{Offset: text, Text: s[text:start], End: start})
		}
		parts = append(parts, Part{Offset: start, Text: s[start+3 : end], Expr: true, End: end + 2})
		text = end + 2
		i = text
	}
	if text < len(s) {
		parts = append(parts, Part{Offset: text, Text: s[text:], End: len(s)})
	}
	return parts
}

// closing finds the "}}" that ends an expression whose source starts at i.
func closing(s string, i int) (int, bool) {
	inString := false
	for ; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			if inString && i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			inString = !inString
		case !inString && s[i] == '}' && i+1 < len(s) && s[i+1] == '}':
			return i, true
		}
	}
	return 0, false
}

// Path is a context access written as its segments, lower case (contexts
// are case-insensitive): github.event.commits[0].message is
// [github event commits * message]. A star stands for a filter, a
// numeric index or an index computed at run time.
type Path []string

func (p Path) String() string { return strings.Join(p, ".") }

// PathOf returns the access path of n when n is a context access: a name
// followed by properties, indexes and filters.
func PathOf(n Node) (Path, bool) {
	switch n := n.(type) {
	case *Ident:
		return Path{strings.ToLower(n.Name)}, true
	case *Property:
		p, ok := PathOf(n.X)
		return append(p, strings.ToLower(n.Name)), ok
	case *Star:
		p, ok := PathOf(n.X)
		return append(p, "*"), ok
	case *Index:
		p, ok := PathOf(n.X)
		if l, isLit := n.Index.(*Literal); isLit && l.Kind == String {
			return append(p, strings.ToLower(l.Value)), ok
		}
		return append(p, "*"), ok
	}
	return nil, false
}

// Match reports whether p names pattern's value or an object holding it
// (github.event.pull_request holds github.event.pull_request.title). A
// "*" in either matches any one segment.
func (p Path) Match(pattern Path) bool {
	if len(p) > len(pattern) {
		return false
	}
	for i := range p {
		if p[i] != pattern[i] && p[i] != "*" && pattern[i] != "*" {
			return false
		}
	}
	return true
}

// Values returns the parts of n whose value can become n's value: context
// accesses and literals. What only decides between values is left out:
// conditions, comparisons, '!', and the left side of '&&' (whose value is
// the result only when it is falsy: empty, false, 0 or null). Functions
// returning booleans or hashes yield nothing; format, join, toJSON and
// fromJSON (and any function not known) pass their arguments through.
func Values(n Node) []Node {
	var out []Node
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Literal:
			out = append(out, n)
		case *Ident, *Property, *Index, *Star:
			if _, ok := PathOf(n); ok {
				out = append(out, n)
				return
			}
			// An access on a computed value: fromJSON(x).y passes x.
			switch n := n.(type) {
			case *Property:
				walk(n.X)
			case *Index:
				walk(n.X)
			case *Star:
				walk(n.X)
			}
		case *Call:
			switch strings.ToLower(n.Name) {
			case "contains", "startswith", "endswith", "success", "always", "failure", "cancelled", "hashfiles":
			default:
				for _, a := range n.Args {
					walk(a)
				}
			}
		case *Binary:
			switch n.Op {
			case "||":
				walk(n.L)
				walk(n.R)
			case "&&":
				walk(n.R)
			}
		}
	}
	walk(n)
	return out
}

// Accesses returns every context access in n, in order, wherever it
// stands.
func Accesses(n Node) []Node {
	var out []Node
	var walk func(Node)
	walk = func(n Node) {
		if _, ok := PathOf(n); ok {
			out = append(out, n)
			if ix, isIndex := n.(*Index); isIndex {
				walk(ix.Index)
			}
			return
		}
		switch n := n.(type) {
		case *Property:
			walk(n.X)
		case *Index:
			walk(n.X)
			walk(n.Index)
		case *Star:
			walk(n.X)
		case *Call:
			for _, a := range n.Args {
				walk(a)
			}
		case *Unary:
			walk(n.X)
		case *Binary:
			walk(n.L)
			walk(n.R)
		}
	}
	walk(n)
	return out
}
