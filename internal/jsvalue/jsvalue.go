// Package jsvalue gives JSON values the meaning JavaScript gives them:
// truthiness, String(v), number formatting and String.prototype.trim.
// npm builds file rules and script environments by interpolating
// package.json fields, so matching npm means matching these exactly.
package jsvalue

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Truthy is JavaScript truthiness for a decoded JSON value (numbers as
// float64 or json.Number).
func Truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0 && !math.IsNaN(v)
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	}
	return true
}

// String is String(v): arrays joined with commas (null items empty),
// objects "[object Object]".
func String(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return Number(v)
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return string(v)
		}
		return Number(f)
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			if item != nil {
				parts[i] = String(item)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// Number is Number.prototype.toString for a double.
func Number(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// Trim is String.prototype.trim: JavaScript's white space and line
// terminators, which include U+FEFF but not U+0085.
func Trim(s string) string {
	return strings.TrimFunc(s, IsSpace)
}

// IsSpace reports whether r is white space to JavaScript (\s).
func IsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
