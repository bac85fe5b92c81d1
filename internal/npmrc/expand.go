package npmrc

import "strings"

// expand replaces ${NAME} and ${NAME?} in s as @npmcli/config's
// env-replace does, and returns the names it left unexpanded because they
// were not set.
//
// NAME is one or more characters other than $ { } ?. A set variable
// (even to "") replaces the reference; an unset one leaves ${NAME} as
// written, while ${NAME?} becomes "". Backslashes before the $ escape it:
// 2n backslashes become n followed by the expansion, 2n+1 become n
// followed by the reference as written.
func expand(s string, env map[string]string) (string, []string) {
	return expandWith(s, func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
}

// references lists the variables s refers to as ${NAME} or ${NAME?},
// set or not, as expand would read them.
func references(s string) []string {
	var names []string
	expandWith(s, func(name string) (string, bool) {
		names = append(names, name)
		return "", true
	})
	return names
}

func expandWith(s string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var unset []string
	last := 0
	for j := 0; j+1 < len(s); j++ {
		if s[j] != '$' || s[j+1] != '{' {
			continue
		}
		k := j + 2
		for k < len(s) && !strings.ContainsRune("${}?", rune(s[k])) {
			k++
		}
		if k == j+2 || k >= len(s) {
			continue
		}
		name := s[j+2 : k]
		optional := false
		if s[k] == '?' {
			optional = true
			k++
		}
		if k >= len(s) || s[k] != '}' {
			continue
		}
		end := k + 1
		start := j
		for start > last && s[start-1] == '\\' {
			start--
		}
		nesc := j - start
		b.WriteString(s[last:start])
		b.WriteString(strings.Repeat(`\`, nesc/2))
		if nesc%2 == 1 {
			b.WriteString(s[j:end])
		} else if v, ok := lookup(name); ok {
			b.WriteString(v)
		} else if !optional {
			b.WriteString("${" + name + "}")
			unset = append(unset, name)
		}
		last = end
		j = end - 1
	}
	b.WriteString(s[last:])
	return b.String(), unset
}
