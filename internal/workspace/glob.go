package workspace

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The package managers find workspace folders with three glob libraries
// (glob for npm, tinyglobby for pnpm, fast-glob for yarn). For the
// patterns workspaces use they agree, and this is what they agree on:
// "*", "?" and "[...]" within a segment, "**" for any number of segments,
// "{a,b}" alternatives, case-sensitive names, and wildcards that never
// match a name starting with "." unless the pattern segment does.

// globPattern is one workspace pattern after brace expansion: each
// alternative split into segments.
type globPattern struct {
	text string
	alts [][]string
}

var errBadPattern = errors.New("bad pattern")

// compileGlob reads a workspace pattern: "./" and "/" prefixes and a
// trailing "/" dropped, as the managers drop them.
func compileGlob(p string) (globPattern, error) {
	text := p
	p = strings.ReplaceAll(p, `\`, "/")
	for strings.HasPrefix(p, "./") || strings.HasPrefix(p, "/") {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "."), "/")
	}
	p = strings.TrimRight(p, "/")
	if p == "" {
		p = "."
	}
	g := globPattern{text: text}
	alts, err := expandBraces(p, 0)
	if err != nil {
		return g, fmt.Errorf("pattern %q: %w", text, err)
	}
	for _, a := range alts {
		var segs []string
		for _, s := range strings.Split(a, "/") {
			if s == "" || s == "." {
				continue
			}
			if s != "**" {
				if _, err := path.Match(segmentPattern(s), ""); err != nil {
					return g, fmt.Errorf("pattern %q: %w", text, errBadPattern)
				}
			}
			segs = append(segs, s)
		}
		g.alts = append(g.alts, segs)
	}
	return g, nil
}

// expandBraces expands "{a,b}" alternatives, nested ones too. A brace
// without a comma is kept as written.
func expandBraces(p string, depth int) ([]string, error) {
	if depth > 10 {
		return nil, errors.New("braces nested too deep")
	}
	open := -1
	level := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			if level == 0 {
				open = i
			}
			level++
		case '}':
			if level == 0 {
				continue
			}
			level--
			if level > 0 {
				continue
			}
			body := p[open+1 : i]
			parts := splitTopLevel(body)
			if len(parts) < 2 {
				open = -1
				continue
			}
			var out []string
			rests, err := expandBraces(p[i+1:], depth+1)
			if err != nil {
				return nil, err
			}
			for _, part := range parts {
				inner, err := expandBraces(part, depth+1)
				if err != nil {
					return nil, err
				}
				for _, in := range inner {
					for _, r := range rests {
						out = append(out, p[:open]+in+r)
					}
				}
			}
			if len(out) > 1000 {
				return nil, errors.New("braces expand to too many patterns")
			}
			return out, nil
		}
	}
	return []string{p}, nil
}

func splitTopLevel(s string) []string {
	var parts []string
	level, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			level++
		case '}':
			level--
		case ',':
			if level == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// segmentPattern turns a glob segment into path.Match syntax ("[!x]" is
// "[^x]" there).
func segmentPattern(s string) string { return strings.ReplaceAll(s, "[!", "[^") }

func hasMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

// matchSegment matches one name against one pattern segment.
func matchSegment(pat, name string) bool {
	if !hasMagic(pat) {
		return pat == name
	}
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pat, ".") {
		return false
	}
	ok, _ := path.Match(segmentPattern(pat), name)
	return ok
}

// matchPath reports whether a slash-separated relative path ("." for the
// root) matches the pattern.
func (g globPattern) matchPath(rel string) bool {
	var segs []string
	if rel != "." && rel != "" {
		segs = strings.Split(rel, "/")
	}
	for _, a := range g.alts {
		if matchSegs(a, segs) {
			return true
		}
	}
	return false
}

func matchSegs(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if i > 0 && strings.HasPrefix(segs[i-1], ".") {
				return false
			}
			if matchSegs(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	return len(segs) > 0 && matchSegment(pat[0], segs[0]) && matchSegs(pat[1:], segs[1:])
}

// walkLimits bound the search for workspace folders.
const (
	maxGlobDepth = 32
	maxGlobDirs  = 100000
)

// globDirs returns the folders under root (slash-separated, relative, "."
// for root itself) that some alternative of the patterns matches, never
// entering a folder named in skip. Only the folders the patterns can reach
// are read.
func globDirs(root string, pats []globPattern, skip map[string]bool) ([]string, error) {
	found := map[string]bool{}
	budget := maxGlobDirs
	var visit func(dir string, rel []string, pat []string) error
	visit = func(dir string, rel []string, pat []string) error {
		if len(rel) > maxGlobDepth {
			return nil
		}
		if len(pat) == 0 {
			found[joinRel(rel)] = true
			return nil
		}
		seg := pat[0]
		if seg != "**" && !hasMagic(seg) {
			if skip[seg] {
				return nil
			}
			next := filepath.Join(dir, seg)
			if isDir(next) {
				return visit(next, append(append([]string(nil), rel...), seg), pat[1:])
			}
			return nil
		}
		budget--
		if budget < 0 {
			return fmt.Errorf("more than %d folders to search for workspace packages under %s", maxGlobDirs, root)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
				return nil
			}
			return err
		}
		if seg == "**" {
			if err := visit(dir, rel, pat[1:]); err != nil {
				return err
			}
		}
		for _, e := range entries {
			name := e.Name()
			if skip[name] || !isDir(filepath.Join(dir, name)) {
				continue
			}
			sub := append(append([]string(nil), rel...), name)
			switch {
			case seg == "**":
				if strings.HasPrefix(name, ".") || e.Type()&os.ModeSymlink != 0 {
					continue // ** enters neither dot folders nor links
				}
				if err := visit(filepath.Join(dir, name), sub, pat); err != nil {
					return err
				}
			case matchSegment(seg, name):
				if err := visit(filepath.Join(dir, name), sub, pat[1:]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, g := range pats {
		for _, a := range g.alts {
			if err := visit(root, nil, a); err != nil {
				return nil, err
			}
		}
	}
	out := make([]string, 0, len(found))
	for d := range found {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

func joinRel(rel []string) string {
	if len(rel) == 0 {
		return "."
	}
	return strings.Join(rel, "/")
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
