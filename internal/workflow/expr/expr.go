// Package expr parses the expressions GitHub Actions evaluates inside
// ${{ }}: literals, context access paths (github.event.pull_request.title,
// steps.build.outputs.dir, matrix['node']), function calls and operators,
// each with its offset in the source. The audit asks it which context
// values can end up as an expression's text, which is what a script
// interpolating it receives.
package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// Node is a parsed expression.
type Node interface {
	// Offset is where the node starts in the parsed source, in bytes.
	Offset() int
	// String writes the node back as an expression that parses to the
	// same tree: binary operations are parenthesized.
	String() string
}

// LiteralKind tells literals apart.
type LiteralKind int

const (
	String LiteralKind = iota
	Number
	Bool
	Null
)

// Literal is a string, number, boolean or null. Value is a string's text
// (quotes removed, doubled quotes made single) or the literal as written.
type Literal struct {
	At    int
	Kind  LiteralKind
	Value string
}

// Ident is a name standing alone: a context (github, env, steps…).
type Ident struct {
	At   int
	Name string
}

// Property is X.Name.
type Property struct {
	At   int
	X    Node
	Name string
}

// Index is X[Index].
type Index struct {
	At    int
	X     Node
	Index Node
}

// Star is X.* (or X[*]): every element or property of X.
type Star struct {
	At int
	X  Node
}

// Call is a function call.
type Call struct {
	At   int
	Name string
	Args []Node
}

// Unary is !X.
type Unary struct {
	At int
	Op string
	X  Node
}

// Binary is L Op R, Op one of || && == != < <= > >=.
type Binary struct {
	At   int
	Op   string
	L, R Node
}

func (n *Literal) Offset() int  { return n.At }
func (n *Ident) Offset() int    { return n.At }
func (n *Property) Offset() int { return n.At }
func (n *Index) Offset() int    { return n.At }
func (n *Star) Offset() int     { return n.At }
func (n *Call) Offset() int     { return n.At }
func (n *Unary) Offset() int    { return n.At }
func (n *Binary) Offset() int   { return n.At }

func (n *Literal) String() string {
	if n.Kind == String {
		return "'" + strings.ReplaceAll(n.Value, "'", "''") + "'"
	}
	return n.Value
}
func (n *Ident) String() string    { return n.Name }
func (n *Property) String() string { return operand(n.X) + "." + n.Name }
func (n *Index) String() string    { return operand(n.X) + "[" + n.Index.String() + "]" }
func (n *Star) String() string     { return operand(n.X) + ".*" }

// operand writes the left side of a property access or index, in
// parentheses where it would otherwise read differently (0.a is a number,
// !a.b negates a.b).
func operand(n Node) string {
	switch n := n.(type) {
	case *Unary:
		return "(" + n.String() + ")"
	case *Literal:
		if n.Kind == Number {
			return "(" + n.String() + ")"
		}
	}
	return n.String()
}
func (n *Call) String() string {
	args := make([]string, len(n.Args))
	for i, a := range n.Args {
		args[i] = a.String()
	}
	return n.Name + "(" + strings.Join(args, ", ") + ")"
}
func (n *Unary) String() string  { return n.Op + n.X.String() }
func (n *Binary) String() string { return "(" + n.L.String() + " " + n.Op + " " + n.R.String() + ")" }

// SyntaxError is an expression that does not parse.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// maxDepth bounds nesting, so a hostile expression cannot exhaust the stack.
const maxDepth = 200

type token struct {
	kind  byte // 'i' ident, 's' string, 'n' number, 'o' operator, 0 end
	text  string
	value string // a string literal's text
	at    int
}

func tokenize(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, &SyntaxError{i, "unterminated string"}
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, token{kind: 's', text: src[i : j+1], value: b.String(), at: i})
			i = j + 1
		case isDigit(c) || (c == '-' && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.')) || (c == '.' && i+1 < len(src) && isDigit(src[i+1]) && !afterOperand(toks)):
			j := i + 1
			for j < len(src) && (isIdentChar(src[j]) || src[j] == '.' ||
				((src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x"))) {
				j++
			}
			text := src[i:j]
			if !validNumber(text) {
				return nil, &SyntaxError{i, fmt.Sprintf("invalid number %q", text)}
			}
			toks = append(toks, token{kind: 'n', text: text, at: i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{kind: 'i', text: src[i:j], at: i})
			i = j
		default:
			op := ""
			for _, o := range []string{"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", ".", ",", "*"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &SyntaxError{i, fmt.Sprintf("unexpected character %q", src[i:i+1])}
			}
			toks = append(toks, token{kind: 'o', text: op, at: i})
			i += len(op)
		}
	}
	return append(toks, token{at: len(src)}), nil
}

// afterOperand reports whether a '.' here would be property access.
func afterOperand(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == 'i' || t.kind == 's' || t.kind == 'n' || t.text == ")" || t.text == "]" || t.text == "*"
}

func validNumber(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if l := strings.ToLower(t); strings.HasPrefix(l, "0x") {
		_, err := strconv.ParseUint(l[2:], 16, 64)
		return err == nil
	}
	_, err := strconv.ParseFloat(t, 64)
	return err == nil && !strings.ContainsAny(t, "_xXpPiInN")
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }

type parser struct {
	toks  []token
	pos   int
	depth int
}

// Parse parses one expression, the text between ${{ and }}.
func Parse(src string) (Node, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, &SyntaxError{t.at, fmt.Sprintf("unexpected %q", t.text)}
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != 0 {
		p.pos++
	}
	return t
}
func (p *parser) isOp(op string) bool { t := p.peek(); return t.kind == 'o' && t.text == op }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{p.peek().at, "expression nested too deeply"}
	}
	return nil
}

func (p *parser) binary(ops []string, operand func() (Node, error)) (Node, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		found := false
		for _, op := range ops {
			if t.kind == 'o' && t.text == op {
				found = true
			}
		}
		if !found {
			return l, nil
		}
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{At: l.Offset(), Op: t.text, L: l, R: r}
	}
}

func (p *parser) or() (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	return p.binary([]string{"||"}, p.and)
}
func (p *parser) and() (Node, error) { return p.binary([]string{"&&"}, p.equality) }
func (p *parser) equality() (Node, error) {
	return p.binary([]string{"==", "!="}, p.comparison)
}
func (p *parser) comparison() (Node, error) {
	return p.binary([]string{"<", "<=", ">", ">="}, p.unary)
}

func (p *parser) unary() (Node, error) {
	if p.isOp("!") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{At: t.at, Op: "!", X: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (Node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.next()
			switch {
			case t.kind == 'i':
				x = &Property{At: x.Offset(), X: x, Name: t.text}
			case t.kind == 'o' && t.text == "*":
				x = &Star{At: x.Offset(), X: x}
			default:
				return nil, &SyntaxError{t.at, "want a property name after '.'"}
			}
		case p.isOp("["):
			p.next()
			if p.isOp("*") {
				p.next()
				if !p.isOp("]") {
					return nil, &SyntaxError{p.peek().at, "want ']' after '[*'"}
				}
				p.next()
				x = &Star{At: x.Offset(), X: x}
				continue
			}
			i, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.isOp("]") {
				return nil, &SyntaxError{p.peek().at, "want ']'"}
			}
			p.next()
			x = &Index{At: x.Offset(), X: x, Index: i}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (Node, error) {
	t := p.next()
	switch t.kind {
	case 's':
		return &Literal{At: t.at, Kind: String, Value: t.value}, nil
	case 'n':
		return &Literal{At: t.at, Kind: Number, Value: t.text}, nil
	case 'i':
		switch t.text {
		case "true", "false":
			return &Literal{At: t.at, Kind: Bool, Value: t.text}, nil
		case "null":
			return &Literal{At: t.at, Kind: Null, Value: t.text}, nil
		}
		if p.isOp("(") {
			p.next()
			call := &Call{At: t.at, Name: t.text}
			if p.isOp(")") {
				p.next()
				return call, nil
			}
			for {
				a, err := p.or()
				if err != nil {
					return nil, err
				}
				call.Args = append(call.Args, a)
				if p.isOp(",") {
					p.next()
					continue
				}
				if p.isOp(")") {
					p.next()
					return call, nil
				}
				return nil, &SyntaxError{p.peek().at, "want ',' or ')' in the arguments"}
			}
		}
		return &Ident{At: t.at, Name: t.text}, nil
	case 'o':
		if t.text == "(" {
			x, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, &SyntaxError{p.peek().at, "want ')'"}
			}
			p.next()
			return x, nil
		}
		return nil, &SyntaxError{t.at, fmt.Sprintf("unexpected %q", t.text)}
	}
	return nil, &SyntaxError{t.at, "unexpected end of expression"}
}
