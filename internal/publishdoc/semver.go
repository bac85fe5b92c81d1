package publishdoc

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// node-semver's FULL and LOOSE patterns. "\s" in LOOSE is JavaScript's
// white space.
var (
	semverFull = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:\d*[a-zA-Z-][a-zA-Z0-9-]*|0|[1-9]\d*)(?:\.(?:\d*[a-zA-Z-][a-zA-Z0-9-]*|0|[1-9]\d*))*))?` +
		`(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))?$`)
	semverLoose = regexp.MustCompile(`^[v=` + jsSpace + `]*(\d+)\.(\d+)\.(\d+)` +
		`(?:-?((?:\d*[a-zA-Z-][a-zA-Z0-9-]*|\d+)(?:\.(?:\d*[a-zA-Z-][a-zA-Z0-9-]*|\d+))*))?` +
		`(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))?$`)
)

// jsSpace is the body of a character class matching JavaScript's \s.
const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

const maxSafeInteger = 1<<53 - 1

// semverParse is new SemVer(v, {loose}).version, or ok == false where
// node-semver throws.
func semverParse(v string, loose bool) (string, bool) {
	if len(codeUnits(v)) > 256 {
		return "", false
	}
	re := semverFull
	if loose {
		re = semverLoose
	}
	m := re.FindStringSubmatch(jsvalue.Trim(v))
	if m == nil {
		return "", false
	}
	var b strings.Builder
	for i, part := range m[1:4] {
		n, ok := safeInt(part)
		if !ok || n > maxSafeInteger {
			return "", false
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(n, 10))
	}
	if m[4] != "" {
		b.WriteByte('-')
		for i, id := range strings.Split(m[4], ".") {
			if i > 0 {
				b.WriteByte('.')
			}
			if n, ok := safeInt(id); ok && n < maxSafeInteger {
				b.WriteString(strconv.FormatUint(n, 10))
			} else {
				b.WriteString(id)
			}
		}
	}
	return b.String(), true
}

// safeInt parses a run of ASCII digits; ok is false for other input or
// values beyond 2^53 (which JavaScript could not tell apart anyway).
func safeInt(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	t := strings.TrimLeft(s, "0")
	if len(t) > 16 {
		return 1 << 54, true
	}
	if t == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(t, 10, 64)
	return n, err == nil
}

// semverClean is semver.clean(v, {loose}).
func semverClean(v string, loose bool) (string, bool) {
	return semverParse(strings.TrimLeft(jsvalue.Trim(v), "=v"), loose)
}
