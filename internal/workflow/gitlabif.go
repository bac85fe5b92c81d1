package workflow

import (
	"fmt"
	"strings"
)

// RuleExpr is a parsed GitLab rules:if (or workflow:rules:if) expression.
type RuleExpr struct {
	// Op is "||", "&&", "==", "!=", "=~" or "!~" for an operation, and
	// "var", "string", "regex" or "null" for an operand.
	Op   string
	L, R *RuleExpr
	// Value is a variable's name (without $), a string's text, or a
	// regular expression's source (between the slashes).
	Value string
}

func (e *RuleExpr) String() string {
	switch e.Op {
	case "var":
		return "$" + e.Value
	case "string":
		return `"` + e.Value + `"`
	case "regex":
		return "/" + e.Value + "/"
	case "null":
		return "null"
	}
	return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")"
}

// ParseRuleIf parses a rules:if expression.
func ParseRuleIf(s string) (*RuleExpr, error) {
	p := &ruleParser{s: s}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return e, nil
}

type ruleParser struct {
	s string
	i int
}

func (p *ruleParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *ruleParser) accept(op string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], op) {
		p.i += len(op)
		return true
	}
	return false
}

func (p *ruleParser) or(depth int) (*RuleExpr, error) {
	if depth > 100 {
		return nil, fmt.Errorf("expression nested too deeply")
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.accept("||") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &RuleExpr{Op: "||", L: l, R: r}
	}
	return l, nil
}

func (p *ruleParser) and(depth int) (*RuleExpr, error) {
	l, err := p.compare(depth)
	if err != nil {
		return nil, err
	}
	for p.accept("&&") {
		r, err := p.compare(depth)
		if err != nil {
			return nil, err
		}
		l = &RuleExpr{Op: "&&", L: l, R: r}
	}
	return l, nil
}

func (p *ruleParser) compare(depth int) (*RuleExpr, error) {
	l, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	for _, op := range []string{"==", "!=", "=~", "!~"} {
		if p.accept(op) {
			r, err := p.operand(depth)
			if err != nil {
				return nil, err
			}
			return &RuleExpr{Op: op, L: l, R: r}, nil
		}
	}
	return l, nil
}

func (p *ruleParser) operand(depth int) (*RuleExpr, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	switch c := p.s[p.i]; {
	case c == '(':
		p.i++
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, fmt.Errorf("want ')' at offset %d", p.i)
		}
		return e, nil
	case c == '$':
		p.i++
		brace := p.i < len(p.s) && p.s[p.i] == '{'
		if brace {
			p.i++
		}
		start := p.i
		for p.i < len(p.s) && (isWordChar(p.s[p.i])) {
			p.i++
		}
		name := p.s[start:p.i]
		if brace && !p.accept("}") {
			return nil, fmt.Errorf("want '}' at offset %d", p.i)
		}
		if name == "" {
			return nil, fmt.Errorf("want a variable name at offset %d", start)
		}
		return &RuleExpr{Op: "var", Value: name}, nil
	case c == '"' || c == '\'':
		end := strings.IndexByte(p.s[p.i+1:], c)
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at offset %d", p.i)
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return &RuleExpr{Op: "string", Value: v}, nil
	case c == '/':
		j := p.i + 1
		for j < len(p.s) && p.s[j] != '/' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return nil, fmt.Errorf("unterminated regular expression at offset %d", p.i)
		}
		v := p.s[p.i+1 : j]
		p.i = j + 1
		for p.i < len(p.s) && strings.IndexByte("imsx", p.s[p.i]) >= 0 {
			p.i++
		}
		return &RuleExpr{Op: "regex", Value: v}, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return &RuleExpr{Op: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
}

func isWordChar(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
