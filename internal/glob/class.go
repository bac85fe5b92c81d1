package glob

import (
	"strings"
	"unicode/utf8"
)

// posixClasses maps bracket-expression class names to the JS regexp
// fragments minimatch uses. [:graph:] is the one negated entry; [:print:]
// really is \p{C} upstream.
var posixClasses = []struct {
	name, src   string
	uflag, negs bool
}{
	{"[:alnum:]", `\p{L}\p{Nl}\p{Nd}`, true, false},
	{"[:alpha:]", `\p{L}\p{Nl}`, true, false},
	{"[:ascii:]", `\x00-\x7f`, false, false},
	{"[:blank:]", `\p{Zs}\t`, true, false},
	{"[:cntrl:]", `\p{Cc}`, true, false},
	{"[:digit:]", `\p{Nd}`, true, false},
	{"[:graph:]", `\p{Z}\p{C}`, true, true},
	{"[:lower:]", `\p{Ll}`, true, false},
	{"[:print:]", `\p{C}`, true, false},
	{"[:punct:]", `\p{P}`, true, false},
	{"[:space:]", `\p{Z}\t\r\n\v\f`, true, false},
	{"[:upper:]", `\p{Lu}`, true, false},
	{"[:word:]", `\p{L}\p{Nl}\p{Nd}\p{Pc}`, true, false},
	{"[:xdigit:]", `A-Fa-f0-9`, false, false},
}

// poison is a regexp that matches nothing; a bad bracket expression makes
// the whole rest of the segment this.
const poison = `$.`

// parseClass translates the bracket expression at byte pos of glob. It
// returns the regexp source, whether that needs the u flag, how many bytes
// were consumed (0 if this is not a bracket expression, so "[" is literal)
// and whether the result is magic (a single plain character is not).
//
// Like minimatch it works on UTF-16 code units, so a character outside the
// BMP is two characters here and ranges compare code units.
func parseClass(glob string, pos int) (string, bool, int, bool) {
	u := appendUTF16(nil, glob[pos:])
	var ranges, negs []string
	i := 1
	sawStart, uflag, escaping, negate := false, false, false, false
	endPos := 0
	rangeStart, inRange := uint16(0), false
	startsWith := func(at int, s string) bool {
		if at+len(s) > len(u) {
			return false
		}
		for k := 0; k < len(s); k++ {
			if u[at+k] != uint16(s[k]) {
				return false
			}
		}
		return true
	}
	bail := func() (string, bool, int, bool) { return poison, false, len(glob) - pos, true }
loop:
	for i < len(u) {
		c := u[i]
		if (c == '!' || c == '^') && i == 1 {
			negate = true
			i++
			continue
		}
		if c == ']' && sawStart && !escaping {
			endPos = i + 1
			break
		}
		sawStart = true
		if c == '\\' && !escaping {
			escaping = true
			i++
			continue
		}
		if c == '[' && !escaping {
			for _, pc := range posixClasses {
				if startsWith(i, pc.name) {
					// [a-[:alpha:]] is not allowed.
					if inRange {
						return bail()
					}
					i += len(pc.name)
					if pc.negs {
						negs = append(negs, pc.src)
					} else {
						ranges = append(ranges, pc.src)
					}
					uflag = uflag || pc.uflag
					continue loop
				}
			}
		}
		escaping = false
		if inRange {
			// Out-of-order ranges are dropped; the rest may still match.
			if c > rangeStart {
				ranges = append(ranges, braceEscape(rangeStart)+"-"+braceEscape(c))
			} else if c == rangeStart {
				ranges = append(ranges, braceEscape(c))
			}
			inRange = false
			i++
			continue
		}
		if startsWith(i+1, "-]") {
			ranges = append(ranges, braceEscape(c)+braceEscape('-'))
			i += 2
			continue
		}
		if startsWith(i+1, "-") {
			rangeStart, inRange = c, true
			i += 2
			continue
		}
		ranges = append(ranges, braceEscape(c))
		i++
	}
	if endPos < i {
		// Never closed: not a bracket expression.
		return "", false, 0, false
	}
	if len(ranges) == 0 && len(negs) == 0 {
		return bail()
	}
	consumed := utf16PrefixBytes(glob[pos:], endPos)
	// One plain character, like [*], is just that character.
	if len(negs) == 0 && len(ranges) == 1 && !negate {
		if c, ok := singleChar(ranges[0]); ok {
			var b strings.Builder
			if c >= 0xD800 && c <= 0xDFFF {
				b.Write(appendWTF8(nil, c))
			} else {
				appendRegexpEscaped(&b, rune(c))
			}
			return b.String(), false, consumed, false
		}
	}
	not := ""
	if negate {
		not = "^"
	}
	sranges := "[" + not + strings.Join(ranges, "") + "]"
	not = "^"
	if negate {
		not = ""
	}
	snegs := "[" + not + strings.Join(negs, "") + "]"
	switch {
	case len(ranges) > 0 && len(negs) > 0:
		return "(" + sranges + "|" + snegs + ")", uflag, consumed, true
	case len(ranges) > 0:
		return sranges, uflag, consumed, true
	}
	return snegs, uflag, consumed, true
}

// braceEscape escapes a code unit for use inside a regexp class.
func braceEscape(c uint16) string {
	switch c {
	case '[', ']', '\\', '-':
		return `\` + string(rune(c))
	}
	return string(appendWTF8(nil, c))
}

// singleChar matches /^\\?.$/ against a class entry and returns the
// character. JS "." is one code unit that is not a line terminator.
func singleChar(s string) (uint16, bool) {
	u := appendUTF16(nil, s)
	if len(u) == 2 && u[0] == '\\' {
		u = u[1:]
	}
	if len(u) != 1 || isLineTerminator(rune(u[0])) {
		return 0, false
	}
	return u[0], true
}

// utf16PrefixBytes returns how many bytes of s make up its first n UTF-16
// code units.
func utf16PrefixBytes(s string, n int) int {
	b := 0
	for n > 0 && b < len(s) {
		r, w := utf8.DecodeRuneInString(s[b:])
		if r >= 0x10000 {
			n -= 2
		} else {
			n--
		}
		b += w
	}
	return b
}
