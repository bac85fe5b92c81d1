package jsvalue

import (
	"strings"
	"unicode/utf8"
)

// WellFormed is s as Node decodes bytes to a string (the WHATWG UTF-8
// decoder): each maximal ill-formed subsequence becomes one U+FFFD, where
// Go's own decoding would give one per byte. A byte order mark is kept.
func WellFormed(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += invalidPrefix(s[i:])
	}
	return b.String()
}

// DecodeUTF8 is WellFormed for bytes: Buffer#toString("utf8").
func DecodeUTF8(b []byte) string { return WellFormed(string(b)) }

// invalidPrefix is the length of the maximal subpart of an ill-formed
// sequence at the start of s, at least 1.
func invalidPrefix(s string) int {
	c := s[0]
	lo, hi := byte(0x80), byte(0xbf)
	need := 0
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}

// Length is the length JavaScript gives the string Node decodes from the
// UTF-8 bytes s: UTF-16 code units, so a character outside the Basic
// Multilingual Plane counts 2 and "—" (3 bytes in UTF-8) counts 1.
func Length(s string) int {
	n := 0
	for _, r := range WellFormed(s) {
		n++
		if r > 0xffff {
			n++
		}
	}
	return n
}
