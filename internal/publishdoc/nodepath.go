package publishdoc

import (
	"strings"
)

// Node's path.posix functions, which differ from Go's path in the empty
// and trailing-slash cases npm's code runs into.

// nodeNormalize is path.posix.normalize.
func nodeNormalize(p string) string {
	if p == "" {
		return "."
	}
	abs := strings.HasPrefix(p, "/")
	trailing := strings.HasSuffix(p, "/")
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 && out[len(out)-1] != ".." {
				out = out[:len(out)-1]
			} else if !abs {
				out = append(out, "..")
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if s == "" && !abs {
		s = "."
	}
	if s != "" && trailing {
		s += "/"
	}
	if abs {
		s = "/" + s
	}
	return s
}

// nodeJoin is path.posix.join.
func nodeJoin(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) == 0 {
		return "."
	}
	return nodeNormalize(strings.Join(nonEmpty, "/"))
}

// nodeBasename is path.posix.basename(p, ext).
func nodeBasename(p, ext string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return ""
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if ext != "" && ext != p && strings.HasSuffix(p, ext) {
		p = p[:len(p)-len(ext)]
	}
	return p
}

// nodeDirname is path.posix.dirname.
func nodeDirname(p string) string {
	if p == "" {
		return "."
	}
	abs := p[0] == '/'
	end := -1
	matchedSlash := true
	for i := len(p) - 1; i >= 1; i-- {
		if p[i] == '/' {
			if !matchedSlash {
				end = i
				break
			}
		} else {
			matchedSlash = false
		}
	}
	if end == -1 {
		if abs {
			return "/"
		}
		return "."
	}
	if abs && end == 1 {
		return "//"
	}
	return p[:end]
}

// nodeExtname is path.posix.extname.
func nodeExtname(p string) string {
	startDot, startPart, end := -1, 0, -1
	matchedSlash := true
	preDotState := 0
	for i := len(p) - 1; i >= 0; i-- {
		c := p[i]
		if c == '/' {
			if !matchedSlash {
				startPart = i + 1
				break
			}
			continue
		}
		if end == -1 {
			matchedSlash = false
			end = i + 1
		}
		if c == '.' {
			if startDot == -1 {
				startDot = i
			} else if preDotState != 1 {
				preDotState = 1
			}
		} else if startDot != -1 {
			preDotState = -1
		}
	}
	if startDot == -1 || end == -1 || preDotState == 0 ||
		(preDotState == 1 && startDot == end-1 && startDot == startPart+1) {
		return ""
	}
	return p[startDot:end]
}

// secureAndUnixifyPath is @npmcli/package-json's: the path made relative
// to the package, "\\" and ":" read as "/", "" for the package root.
func secureAndUnixifyPath(ref string) string {
	u := strings.NewReplacer(`\`, "/", ":", "/").Replace(ref)
	secured := nodeJoin(".", nodeJoin("/", u))
	secured = strings.NewReplacer(`\`, "/", ":", "/").Replace(secured)
	if strings.HasPrefix(secured, "./") {
		return ""
	}
	return secured
}
