package tarball

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// stripAbsolutePath is node-tar's strip-absolute-path.js. It uses
// path.win32 on every platform, so on Linux a file named "c:x" or "\x"
// is archived as "x"; npm does that, so we do too.
func stripAbsolutePath(p string) string {
	for {
		root := win32Root(p)
		if root == "" {
			return p
		}
		if p[0] == '/' && !strings.HasPrefix(p, "//?/") {
			root = "/"
		}
		p = p[len(root):]
	}
}

func isWinSep(c byte) bool { return c == '/' || c == '\\' }

func isDriveLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// win32Root is the root field of path.win32.parse(p). (win32.isAbsolute
// implies a non-empty root, so the root alone drives the strip loop.)
func win32Root(p string) string {
	n := len(p)
	switch {
	case n == 0:
		return ""
	case n == 1:
		if isWinSep(p[0]) {
			return p
		}
		return ""
	case isWinSep(p[0]):
		rootEnd := 1
		if isWinSep(p[1]) {
			// Possible UNC root: \\server\share\
			j := 2
			last := j
			for j < n && !isWinSep(p[j]) {
				j++
			}
			if j < n && j != last {
				last = j
				for j < n && isWinSep(p[j]) {
					j++
				}
				if j < n && j != last {
					last = j
					for j < n && !isWinSep(p[j]) {
						j++
					}
					if j == n {
						rootEnd = j
					} else if j != last {
						rootEnd = j + 1
					}
				}
			}
		}
		return p[:rootEnd]
	case isDriveLetter(p[0]) && p[1] == ':':
		if n > 2 && isWinSep(p[2]) {
			return p[:3]
		}
		return p[:2]
	}
	return ""
}

// prefixPath is write-entry.js's prefixPath with npm's "package/" prefix.
func prefixPath(p string) string {
	switch {
	case p == ".":
		p = ""
	case strings.HasPrefix(p, "./"):
		p = p[2:]
	}
	return "package/" + p
}

var errBadPath = errors.New("not a clean relative path")

// entryPath is the archive name node-tar gives the listed path p, which
// must be relative, '/'-separated, valid UTF-8 without NUL, and made of
// plain names (a leading "./", which npm puts before names starting with
// "@", is allowed). npm-packlist lists nothing else.
//
// A name that node-tar's root stripping would turn into something other
// than plain names ("q:" becomes "package/", "c:../x" "package/../x") is
// refused: npm would write a broken or escaping entry. That also keeps
// splitPrefix on the paths where its simple form equals node-tar's.
func entryPath(p string) (string, error) {
	switch {
	case !utf8.ValidString(p):
		return "", fmt.Errorf("%q: %w: invalid UTF-8", p, errBadPath)
	case strings.IndexByte(p, 0) >= 0:
		return "", fmt.Errorf("%q: %w: contains NUL", p, errBadPath)
	case !plainNames(strings.TrimPrefix(p, "./")):
		return "", fmt.Errorf("%q: %w", p, errBadPath)
	}
	name := stripAbsolutePath(p)
	if name == "" {
		name = "./"
	}
	name = prefixPath(name)
	if !plainNames(strings.TrimPrefix(name, "package/")) {
		return "", fmt.Errorf("%q: %w: npm would archive it as %q", p, errBadPath, name)
	}
	return name, nil
}

// plainNames reports whether p is one or more '/'-separated names, none
// empty, "." or "..".
func plainNames(p string) bool {
	if p == "" {
		return false
	}
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// isPackageBin is pacote's is-package-bin.js: it drops the FIRST path
// component (everything up to the first '/' with no '\' before it) and
// compares the rest with each bin target. So "bin/cli.js" is checked as
// "cli.js"; npm behaves this way and so must we.
func isPackageBin(bin map[string]string, p string) bool {
	if len(bin) == 0 {
		return false
	}
	if i := strings.IndexAny(p, `/\`); i >= 0 && p[i] == '/' {
		p = p[i+1:]
	}
	for _, target := range bin {
		if target == p {
			return true
		}
	}
	return false
}
