package glob

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Brace expansion follows brace-expansion 5.0.x as minimatch 10.2.5 calls it
// (bash rules, at most expansionMax results and expansionMaxLength UTF-16
// units held at once).

const (
	expansionMax       = 100_000
	expansionMaxLength = 4_000_000
)

// While expanding, escaped characters are swapped for bytes that never occur
// in valid UTF-8, so they cannot be mistaken for braces or commas.
const (
	markSlash  = 0xF8 // \\ (comes back as a single backslash)
	markOpen   = 0xF9 // \{
	markClose  = 0xFA // \}
	markComma  = 0xFB // \,
	markPeriod = 0xFC // \.
)

// brace-expansion's placeholders are "\0NAME" + Math.random() + "\0", and
// their length counts against the length cap. Math.random() usually prints
// as 18 characters, so JS itself is only nearly deterministic here.
var markLen = [5]int{1 + 5 + 18 + 1, 1 + 4 + 18 + 1, 1 + 5 + 18 + 1, 1 + 5 + 18 + 1, 1 + 6 + 18 + 1}

// jsLen is the length JS would report for s, a valid UTF-8 string that may
// hold expansion marks.
func jsLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			n++
			i++
		case c >= markSlash && c <= markPeriod:
			n += markLen[c-markSlash]
			i++
		default:
			r, w := utf8.DecodeRuneInString(s[i:])
			if r >= 0x10000 {
				n += 2
			} else {
				n++
			}
			i += w
		}
	}
	return n
}

func isLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029
}

// hasBraceSet reports whether s matches /\{(?:(?!\{).)*\}/, minimatch's test
// for whether expansion is needed at all. JS "." does not match line
// terminators, so "{a,\rb}" is left alone.
func hasBraceSet(s string) bool {
	open := false
	for _, r := range s {
		switch {
		case r == '{':
			open = true
		case r == '}' && open:
			return true
		case isLineTerminator(r):
			open = false
		}
	}
	return false
}

// braceExpand returns the expansions of pattern, before minimatch removes
// duplicates.
func braceExpand(pattern string) []string {
	if !hasBraceSet(pattern) {
		return []string{pattern}
	}
	// Bash keeps a leading "{}" as is; brace-expansion does so by escaping it.
	if strings.HasPrefix(pattern, "{}") {
		pattern = `\{\}` + pattern[2:]
	}
	out := expandBraces(escapeBraces(pattern), true)
	for i, s := range out {
		out[i] = unescapeBraces(s)
	}
	return out
}

func escapeBraces(s string) string {
	s = strings.ReplaceAll(s, `\\`, "\xF8")
	s = strings.ReplaceAll(s, `\{`, "\xF9")
	s = strings.ReplaceAll(s, `\}`, "\xFA")
	s = strings.ReplaceAll(s, `\,`, "\xFB")
	return strings.ReplaceAll(s, `\.`, "\xFC")
}

func unescapeBraces(s string) string {
	marked := false
	for i := 0; i < len(s) && !marked; i++ {
		marked = s[i] >= markSlash && s[i] <= markPeriod
	}
	if !marked {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case markSlash:
			b.WriteByte('\\')
		case markOpen:
			b.WriteByte('{')
		case markClose:
			b.WriteByte('}')
		case markComma:
			b.WriteByte(',')
		case markPeriod:
			b.WriteByte('.')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

type balancedMatch struct {
	pre, body, post string
}

// balanced finds the first balanced {…} pair the way balanced-match 4 does,
// including its preference for the innermost-leftmost pair when braces do
// not balance.
func balanced(s string) (balancedMatch, bool) {
	indexFrom := func(c byte, from int) int {
		if from > len(s) {
			return -1
		}
		if i := strings.IndexByte(s[from:], c); i >= 0 {
			return i + from
		}
		return -1
	}
	ai := strings.IndexByte(s, '{')
	bi := indexFrom('}', ai+1)
	if ai < 0 || bi <= 0 {
		return balancedMatch{}, false
	}
	var begs []int
	left, right := len(s), -1
	start, end := -1, -1
	found := false
	for i := ai; i >= 0 && !found; {
		switch {
		case i == ai:
			begs = append(begs, i)
			ai = indexFrom('{', i+1)
		case len(begs) == 1:
			start, end = begs[0], bi
			begs = begs[:0]
			found = true
		default:
			if n := len(begs); n > 0 {
				beg := begs[n-1]
				begs = begs[:n-1]
				if beg < left {
					left, right = beg, bi
				}
			}
			bi = indexFrom('}', i+1)
		}
		if ai < bi && ai >= 0 {
			i = ai
		} else {
			i = bi
		}
	}
	if !found && len(begs) > 0 && right >= 0 {
		start, end, found = left, right, true
	}
	if !found {
		return balancedMatch{}, false
	}
	return balancedMatch{pre: s[:start], body: s[start+1 : end], post: s[end+1:]}, true
}

// parseCommaParts splits a brace body on commas that are not inside nested
// braces.
func parseCommaParts(s string) []string {
	if s == "" {
		return []string{""}
	}
	m, ok := balanced(s)
	if !ok {
		return strings.Split(s, ",")
	}
	p := strings.Split(m.pre, ",")
	p[len(p)-1] += "{" + m.body + "}"
	postParts := parseCommaParts(m.post)
	if m.post != "" {
		p[len(p)-1] += postParts[0]
		p = append(p, postParts[1:]...)
	}
	return p
}

// expansion is a result being built. JS concatenates strings in constant
// time; to keep long chains of brace sets from going quadratic, results are
// kept as chains of pieces until the end.
type expansion struct {
	prev *expansion
	tail string
	n    int // JS length of the whole
}

func (e *expansion) String() string {
	var pieces []string
	size := 0
	for ; e != nil; e = e.prev {
		pieces = append(pieces, e.tail)
		size += len(e.tail)
	}
	var b strings.Builder
	b.Grow(size)
	for i := len(pieces) - 1; i >= 0; i-- {
		b.WriteString(pieces[i])
	}
	return b.String()
}

var emptyExpansion = []*expansion{{}}

func materialize(acc []*expansion) []string {
	out := make([]string, len(acc))
	for i, e := range acc {
		out[i] = e.String()
	}
	return out
}

// combine appends pre and each value to each accumulated prefix, within the
// count and length caps.
func combine(acc []*expansion, pre string, values []string, dropEmpties bool) []*expansion {
	out := []*expansion{}
	length := 0
	preLen := jsLen(pre)
	valueLens := make([]int, len(values))
	for i, v := range values {
		valueLens[i] = jsLen(v)
	}
	for _, a := range acc {
		for i, v := range values {
			if len(out) >= expansionMax {
				return out
			}
			n := a.n + preLen + valueLens[i]
			if dropEmpties && n == 0 {
				continue
			}
			if length+n > expansionMaxLength {
				return out
			}
			e := a
			if tail := pre + v; tail != "" {
				e = &expansion{prev: a, tail: tail, n: n}
			}
			out = append(out, e)
			length += n
		}
	}
	return out
}

var oneEmpty = []string{""}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isInt matches /-?\d+/ in full.
func isInt(s string) bool {
	return isDigits(strings.TrimPrefix(s, "-"))
}

func isAlpha(s string) bool {
	return len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// sequenceKind reports whether body is a numeric ({1..9..2}) or alphabetic
// ({a..z..2}) sequence.
func sequenceKind(body string) (numeric, alpha bool) {
	n := strings.Split(body, "..")
	if len(n) != 2 && len(n) != 3 {
		return false, false
	}
	if len(n) == 3 && !isInt(n[2]) {
		return false, false
	}
	return isInt(n[0]) && isInt(n[1]), isAlpha(n[0]) && isAlpha(n[1])
}

// parseIntJS is parseInt(s, 10) for an optional minus sign and digits:
// the nearest double, or an infinity when out of range, as in JS.
func parseIntJS(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// numberToString formats an integral double as JS String(n) does.
func numberToString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	// Go and JS agree here: 1e+21, 1.5e+300.
	return strconv.FormatFloat(f, 'e', -1, 64)
}

func isPadded(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return len(s) >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

func expandSequence(body string, alpha bool) []string {
	n := strings.Split(body, "..")
	num := func(s string) float64 {
		if alpha && isAlpha(s) {
			return float64(s[0])
		}
		return parseIntJS(s)
	}
	x, y := num(n[0]), num(n[1])
	width := max(len(n[0]), len(n[1]))
	incr := 1.0
	if len(n) == 3 {
		incr = math.Max(math.Abs(num(n[2])), 1)
	}
	reverse := y < x
	if reverse {
		incr = -incr
	}
	pad := false
	for _, s := range n {
		pad = pad || isPadded(s)
	}
	var out []string
	length := 0
	for i := x; (reverse && i >= y || !reverse && i <= y) && len(out) < expansionMax; i += incr {
		var c string
		if alpha {
			// String.fromCharCode; the range lies within A..z.
			c = string(rune(uint16(int64(i))))
			if c == `\` {
				c = ""
			}
		} else {
			c = numberToString(i)
			if pad {
				if need := width - len(c); need > 0 {
					z := strings.Repeat("0", need)
					if i < 0 {
						c = "-" + z + c[1:]
					} else {
						c = z + c
					}
				}
			}
		}
		if length+len(c) > expansionMaxLength {
			break
		}
		out = append(out, c)
		length += len(c)
	}
	return out
}

// postReopens matches /,(?!,).*\}/: a comma not followed by a comma, then a
// "}" later on the same line.
func postReopens(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ',' || i+1 < len(s) && s[i+1] == ',' {
			continue
		}
		for j := i + 1; j < len(s); {
			r, w := rune(s[j]), 1
			if r >= utf8.RuneSelf && !(r >= markSlash && r <= markPeriod) {
				r, w = utf8.DecodeRuneInString(s[j:])
			}
			if r == '}' {
				return true
			}
			if isLineTerminator(r) {
				break
			}
			j += w
		}
	}
	return false
}

func expandBraces(str string, isTop bool) []string {
	return materialize(expandChains(str, isTop))
}

func expandChains(str string, isTop bool) []*expansion {
	acc := emptyExpansion
	dropEmpties := false
	firstGroup := true
	for {
		m, ok := balanced(str)
		if !ok {
			return combine(acc, str, oneEmpty, dropEmpties)
		}
		pre := m.pre
		if strings.HasSuffix(pre, "$") {
			acc = combine(acc, pre+"{"+m.body+"}", oneEmpty, dropEmpties && m.post == "")
			firstGroup = false
			if m.post == "" {
				return acc
			}
			str = m.post
			continue
		}
		numeric, alpha := sequenceKind(m.body)
		isSequence := numeric || alpha
		isOptions := strings.Contains(m.body, ",")
		if !isSequence && !isOptions {
			if postReopens(m.post) {
				str = m.pre + "{" + m.body + "\xFA" + m.post
				isTop = true
				continue
			}
			return combine(acc, pre+"{"+m.body+"}"+m.post, oneEmpty, dropEmpties)
		}
		if firstGroup {
			dropEmpties = isTop && !isSequence
			firstGroup = false
		}
		var values []string
		if isSequence {
			values = expandSequence(m.body, alpha)
		} else {
			n := parseCommaParts(m.body)
			if len(n) == 1 {
				inner := expandBraces(n[0], false)
				n = make([]string, len(inner))
				for i, s := range inner {
					n[i] = "{" + s + "}"
				}
				if len(n) == 1 {
					acc = combine(acc, pre+n[0], oneEmpty, dropEmpties && m.post == "")
					if m.post == "" {
						return acc
					}
					str = m.post
					continue
				}
			}
			dropsEmpties := dropEmpties && m.post == "" && pre == ""
			for _, a := range acc {
				if a.n > 0 {
					dropsEmpties = false
				}
			}
			valuesLength := 0
		outer:
			for _, part := range n {
				for _, v := range expandBraces(part, false) {
					if dropsEmpties && v == "" {
						continue
					}
					vl := jsLen(v)
					if len(values) >= expansionMax || valuesLength+vl > expansionMaxLength {
						break outer
					}
					values = append(values, v)
					valuesLength += vl
				}
			}
		}
		acc = combine(acc, pre, values, dropEmpties && m.post == "")
		if m.post == "" {
			return acc
		}
		str = m.post
	}
}
