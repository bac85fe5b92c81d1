package glob

import (
	"github.com/airlockdev/airlock/internal/jsvalue"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JS strings are UTF-16 and Node decodes file names and file contents with
// the WHATWG UTF-8 decoder. These helpers give Go strings the same meaning.

// utf16Len is the JS length of a valid UTF-8 string.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			n++
		case c >= 0xF0:
			n += 2
		case c >= 0xC0:
			n++
		}
	}
	return n
}

// appendUTF16 appends the UTF-16 code units of s, a string that may also
// hold surrogates encoded on their own (WTF-8).
func appendUTF16(dst []uint16, s string) []uint16 {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, uint16(c))
			i++
			continue
		}
		if c == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF {
			dst = append(dst, uint16(c&0x0F)<<12|uint16(s[i+1]&0x3F)<<6|uint16(s[i+2]&0x3F))
			i += 3
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			dst = append(dst, uint16(0xD800+r>>10), uint16(0xDC00+r&0x3FF))
		} else {
			dst = append(dst, uint16(r))
		}
		i += w
	}
	return dst
}

// appendWTF8 appends code unit u, which may be a lone surrogate.
func appendWTF8(dst []byte, u uint16) []byte {
	if u >= 0xD800 && u <= 0xDFFF {
		return append(dst, 0xED, byte(0x80|(u>>6)&0x3F), byte(0x80|u&0x3F))
	}
	return utf8.AppendRune(dst, rune(u))
}

func isSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDFFF }

// isJSSpace and trimJS are JavaScript's \s and String.prototype.trim.
var (
	isJSSpace = jsvalue.IsSpace
	trimJS    = jsvalue.Trim
)

// upperMulti lists the BMP characters whose full upper case (SpecialCasing)
// is more than one character, so toUpperCase changes them while a regular
// expression's case folding leaves them alone.
func upperMulti(r rune) bool {
	switch {
	case r == 0xDF, r == 0x149, r == 0x1F0, r == 0x390, r == 0x3B0, r == 0x587:
		return true
	case r >= 0x1E96 && r <= 0x1E9A, r >= 0xFB00 && r <= 0xFB06, r >= 0xFB13 && r <= 0xFB17:
		return true
	case r >= 0x1F80 && r <= 0x1FAF:
		return true
	}
	switch r {
	case 0x1F50, 0x1F52, 0x1F54, 0x1F56,
		0x1FB2, 0x1FB3, 0x1FB4, 0x1FB6, 0x1FB7, 0x1FBC,
		0x1FC2, 0x1FC3, 0x1FC4, 0x1FC6, 0x1FC7, 0x1FCC,
		0x1FD2, 0x1FD3, 0x1FD6, 0x1FD7,
		0x1FE2, 0x1FE3, 0x1FE4, 0x1FE6, 0x1FE7,
		0x1FF2, 0x1FF3, 0x1FF4, 0x1FF6, 0x1FF7, 0x1FFC:
		return true
	}
	return false
}

// hasCase reports whether toUpperCase and toLowerCase disagree on r.
func hasCase(r rune) bool {
	return unicode.ToUpper(r) != unicode.ToLower(r) || upperMulti(r) || r == 0x130
}

// hasCaseString is s.toUpperCase() !== s.toLowerCase().
func hasCaseString(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r|0x20 >= 'a' && r|0x20 <= 'z' {
				return true
			}
			continue
		}
		if hasCase(r) {
			return true
		}
	}
	return false
}

// canonUnit is the case folding of a regular expression without the u flag:
// the code unit's upper case if that is a single unit that does not move a
// non-ASCII character into ASCII.
func canonUnit(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' {
			return r - 0x20
		}
		return r
	}
	if isSurrogate(r) || upperMulti(r) {
		return r
	}
	u := unicode.ToUpper(r)
	if u < utf8.RuneSelf || u > 0xFFFF {
		return r
	}
	return u
}

// foldEquivalents calls f with every character that a case-insensitive
// regular expression treats as equal to r (r itself first) until f returns
// true. Without the u flag that is the units with the same canonUnit; with
// it, the simple case folding orbit.
func foldEquivalents(r rune, u bool, f func(rune) bool) bool {
	if f(r) {
		return true
	}
	if r < utf8.RuneSelf {
		if r|0x20 < 'a' || r|0x20 > 'z' {
			return false
		}
		if f(r ^ 0x20) {
			return true
		}
		if !u {
			return false
		}
		// k and s also fold with the Kelvin sign and the long s.
		switch r | 0x20 {
		case 'k':
			return f(0x212A)
		case 's':
			return f(0x17F)
		}
		return false
	}
	if isSurrogate(r) {
		return false
	}
	if u {
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			if f(x) {
				return true
			}
		}
		return false
	}
	c := canonUnit(r)
	for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
		if x <= 0xFFFF && canonUnit(x) == c && f(x) {
			return true
		}
	}
	return false
}

// foldEqual reports whether a case-insensitive regular expression treats a
// and b as the same character.
func foldEqual(a, b rune, u bool) bool {
	if a == b {
		return true
	}
	if !u {
		return canonUnit(a) == canonUnit(b)
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return a|0x20 == b|0x20 && a|0x20 >= 'a' && a|0x20 <= 'z'
	}
	for x := unicode.SimpleFold(a); x != a; x = unicode.SimpleFold(x) {
		if x == b {
			return true
		}
	}
	return false
}

// lowerJS is String.prototype.toLowerCase: simple lower case, except that
// İ becomes i + U+0307 and Σ becomes ς at the end of a word.
func lowerJS(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return asciiLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3A3:
			if finalSigma(s, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 0x20
				}
			}
			return string(b)
		}
	}
	return s
}

// finalSigma is Unicode's Final_Sigma condition for the Σ at byte i of s.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, w := utf8.DecodeLastRuneInString(s[:j])
		j -= w
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xA8, 0xAD, 0xAF, 0xB4, 0xB7, 0xB8,
		0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// fromUTF16 is the inverse of appendUTF16: pairs become UTF-8, lone
// surrogates WTF-8.
func fromUTF16(u []uint16) string {
	b := make([]byte, 0, len(u))
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c >= 0xD800 && c <= 0xDBFF && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF {
			b = utf8.AppendRune(b, utf16Pair(rune(c), rune(u[i+1])))
			i++
			continue
		}
		b = appendWTF8(b, c)
	}
	return string(b)
}
