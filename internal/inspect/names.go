package inspect

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The path rules. npm extracts a tarball by stripping the first component
// of every name, whatever it is, so every entry must share one top folder
// and nothing may climb out of it. Names must also mean the same thing on
// every system a consumer installs on: on Windows '\' is a separator, ':'
// marks a drive or a data stream, and trailing dots and spaces are
// dropped; on macOS and Windows case is ignored. Unicode normalization
// (NFC against NFD, which macOS also ignores) is not checked: the
// standard library has no normalization tables.

// escapes says how a name could be written outside the extraction folder
// by a reader that uses it, or "". It applies to every header block's own
// name, including those a pax path or GNU long name replaces.
func escapes(name string) string {
	if strings.HasPrefix(name, "/") {
		return "an absolute path"
	}
	if strings.ContainsRune(name, '\\') {
		return "a backslash, which Windows extractors read as a folder separator"
	}
	for c := range strings.SplitSeq(name, "/") {
		if c == ".." {
			return "a '..' component"
		}
		if len(c) >= 2 && c[1] == ':' && isLetter(c[0]) {
			return "a Windows drive letter, which makes the name absolute there"
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// nameProblem says what is wrong with an entry's effective name (with a
// folder's trailing slash removed), or "".
func nameProblem(name string) string {
	if r := escapes(name); r != "" {
		return r
	}
	if !utf8.ValidString(name) {
		return "bytes that are not UTF-8, which readers decode differently"
	}
	for _, r := range name {
		switch {
		case r < ' ' || r == 0x7f:
			return "a control character " + quote(string(r))
		case r == utf8.RuneError:
			return "U+FFFD, the mark of a name decoded from broken UTF-8"
		case r == ':':
			return "':', which Windows reads as a drive or data stream separator"
		}
	}
	for c := range strings.SplitSeq(name, "/") {
		switch {
		case c == "":
			return "an empty component (\"//\" or a trailing '/')"
		case c == ".":
			return "a '.' component"
		case strings.HasSuffix(c, ".") || strings.HasSuffix(c, " "):
			return "a component ending in a dot or space (" + quote(c) + "), which Windows drops, naming a different file there"
		}
	}
	return ""
}

type kind uint8

const (
	implicitDir kind = iota // a folder known only from the names under it
	explicitDir
	regularFile
)

type node struct {
	name string // as first spelled
	kind kind
}

// tree checks names against each other: one top folder, no duplicates,
// no file used as a folder, no two names that differ only in case.
type tree struct {
	lim       Limits
	root      string
	rootEntry bool
	nodes     map[string]node // by fold(path below root)
	lastDir   string          // the folder of the last entry, below root
}

func newTree(lim Limits) *tree {
	return &tree{lim: lim, nodes: map[string]node{}}
}

// add checks h's name and records it; it returns the name below the root
// ("" for the root folder's own entry).
func (t *tree) add(h *header) (string, error) {
	if len(h.name) > t.lim.MaxPathLength {
		return "", refuse(ErrLimit, h.name, "name of %d bytes, longer than the %d allowed", len(h.name), t.lim.MaxPathLength)
	}
	if h.name == "" {
		return "", refuse(ErrUnsafePath, "", "an entry with an empty name")
	}
	name := h.name
	if h.typ == typeDir {
		name = strings.TrimSuffix(name, "/")
	}
	if r := nameProblem(name); r != "" {
		return "", refuse(ErrUnsafePath, h.name, "the name has %s", r)
	}
	root, rel, below := strings.Cut(name, "/")
	if t.root == "" {
		t.root = root
	} else if root != t.root {
		return "", refuse(ErrUnsafePath, h.name, "outside the top folder %s: npm strips the first folder of every name, so all entries must share one", quote(t.root))
	}
	if !below {
		if h.typ != typeDir {
			return "", refuse(ErrUnsafePath, h.name, "a file at the top level, outside the package folder")
		}
		if t.rootEntry {
			return "", refuse(ErrDuplicate, h.name, "the top folder's entry appears twice")
		}
		t.rootEntry = true
		return "", nil
	}

	// Entries come folder by folder, so the folders above this one were
	// usually checked for the previous entry: skip them then. (A file of
	// such a folder's name would have been refused when it came.)
	if d := rel[:max(strings.LastIndexByte(rel, '/'), 0)]; d != t.lastDir {
		if err := t.addDirs(h, rel); err != nil {
			return "", err
		}
		t.lastDir = d
	}

	k := fold(rel)

	want := regularFile
	if h.typ == typeDir {
		want = explicitDir
	}
	if n, ok := t.nodes[k]; ok {
		switch {
		case n.name != rel:
			return "", t.caseCollision(h, n.name)
		case n.kind == implicitDir && want == explicitDir:
			// The folder's own entry after names under it: allowed.
		case n.kind == regularFile && want == regularFile:
			return "", refuse(ErrDuplicate, h.name, "the archive already has a file of this name; extractors keep one or the other")
		case n.kind == regularFile:
			return "", refuse(ErrDuplicate, h.name, "the archive already has a file of this name")
		case want == regularFile:
			return "", refuse(ErrDuplicate, h.name, "the archive already has a folder of this name")
		default:
			return "", refuse(ErrDuplicate, h.name, "the folder's entry appears twice")
		}
	}
	t.nodes[k] = node{name: rel, kind: want}
	return rel, nil
}

// addDirs records the folders above rel.
func (t *tree) addDirs(h *header, rel string) error {
	for i := strings.IndexByte(rel, '/'); i >= 0; i = next(rel, i) {
		dir := rel[:i]
		k := fold(dir)
		n, ok := t.nodes[k]
		switch {
		case !ok:
			t.nodes[k] = node{name: dir, kind: implicitDir}
		case n.name != dir:
			return t.caseCollision(h, n.name)
		case n.kind == regularFile:
			return refuse(ErrDuplicate, h.name, "%s is a file, but this entry is inside it", quote(t.root+"/"+dir))
		}
	}
	return nil
}

func next(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func (t *tree) caseCollision(h *header, other string) error {
	return refuse(ErrDuplicate, h.name, "differs only in letter case from %s; macOS and Windows would extract both as one", quote(t.root+"/"+other))
}

// fold maps names that differ only in case to one key, by Unicode simple
// case folding (what strings.EqualFold uses): each rune becomes the
// smallest rune of its folding orbit, so 'k', 'K' and the Kelvin sign
// agree.
func fold(s string) string {
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.Map(foldRune, s)
		}
		lower = lower || 'a' <= c && c <= 'z'
	}
	if !lower {
		return s
	}
	return strings.ToUpper(s) // for ASCII, the orbit's smallest rune is the upper case one
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
