// Package workflow reads CI configuration into a model that keeps where
// everything was written: GitHub Actions workflows and actions, and GitLab
// CI files with their local includes. YAML anchors, aliases and merge keys
// are resolved, and so are GitLab's extends, !reference and default:, so a
// reader sees each job as the CI runs it, with each value still pointing at
// the file, line and column that set it.
//
// It only reads: nothing is run and nothing is fetched.
package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Pos is a place in a file: line and column, from 1, columns counted in
// characters.
type Pos struct {
	Line, Col int
}

// Kind tells YAML values apart.
type Kind int

const (
	Scalar Kind = iota
	Mapping
	Sequence
)

// Node is a YAML value with aliases and merge keys resolved.
type Node struct {
	Kind Kind
	// Tag is the value's short tag: "!!str", "!!null", "!!bool",
	// "!reference"…
	Tag string
	// Value is a scalar's text.
	Value string
	// Block is set for literal (|) and folded (>) scalars.
	Block bool
	Pos   Pos
	File  *File
	Pairs []Pair
	Items []*Node
}

// Pair is one entry of a mapping.
type Pair struct {
	Key, Value *Node
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Mapping {
		return nil
	}
	for i := len(n.Pairs) - 1; i >= 0; i-- {
		if n.Pairs[i].Key.Value == key {
			return n.Pairs[i].Value
		}
	}
	return nil
}

// Entries returns a mapping's pairs; nil for anything else.
func (n *Node) Entries() []Pair {
	if n == nil || n.Kind != Mapping {
		return nil
	}
	return n.Pairs
}

// Key returns the key node of key in a mapping, or nil.
func (n *Node) Key(key string) *Node {
	if n == nil || n.Kind != Mapping {
		return nil
	}
	for i := len(n.Pairs) - 1; i >= 0; i-- {
		if n.Pairs[i].Key.Value == key {
			return n.Pairs[i].Key
		}
	}
	return nil
}

// Str is a scalar's text; "" for null, mappings, sequences and nil.
func (n *Node) Str() string {
	if n == nil || n.Kind != Scalar || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// IsMap, IsSeq and IsScalar test the kind of a node that may be nil.
func (n *Node) IsMap() bool    { return n != nil && n.Kind == Mapping }
func (n *Node) IsSeq() bool    { return n != nil && n.Kind == Sequence }
func (n *Node) IsScalar() bool { return n != nil && n.Kind == Scalar && n.Tag != "!!null" }

// List returns a sequence's items, a scalar as a one-item list, or nil.
func (n *Node) List() []*Node {
	switch {
	case n.IsSeq():
		return n.Items
	case n.IsScalar():
		return []*Node{n}
	}
	return nil
}

// Bool reads a YAML boolean, with ok false when n is no boolean.
func (n *Node) Bool() (value, ok bool) {
	switch strings.ToLower(n.Str()) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// File is a file that was read, with its YAML comments.
type File struct {
	// Path is slash-separated, relative to the repository's root.
	Path   string
	Source []byte
	// lines holds the offset of each line's start.
	lines []int
	// Comments are the file's YAML comments (not text inside scalars
	// that looks like one), by line.
	Comments map[int]Comment
}

// Comment is a YAML comment: its text from the '#' on, and the column of
// the '#'.
type Comment struct {
	Col  int
	Text string
}

// NewFile makes a File of source read from path.
func NewFile(path string, source []byte) *File {
	f := &File{Path: path, Source: source, Comments: map[int]Comment{}}
	f.lines = append(f.lines, 0)
	for i, b := range source {
		if b == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// Line returns line n's text, without its end of line.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	end := len(f.Source)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	return strings.TrimSuffix(string(f.Source[f.lines[n-1]:end]), "\r")
}

// Lines is the number of lines.
func (f *File) Lines() int { return len(f.lines) }

// Locate finds where the text at offset off of scalar n's value was
// written: exactly for plain one-line values and literal blocks, by
// searching the source from n for the text otherwise. It falls back to
// n's own position.
func (f *File) Locate(n *Node, off, length int) Pos {
	if n == nil || off < 0 || off > len(n.Value) {
		return Pos{}
	}
	if length < 0 || off+length > len(n.Value) {
		length = len(n.Value) - off
	}
	needle := n.Value[off : off+length]
	if nl := strings.IndexByte(needle, '\n'); nl >= 0 {
		needle = needle[:nl]
	}
	// How many times the needle occurs before off in the value; the same
	// occurrence is looked for in the source.
	k := strings.Count(n.Value[:off], needle)
	if needle == "" {
		k = 0
	}
	line := n.Pos.Line
	if line < 1 || line > len(f.lines) {
		return n.Pos
	}
	// The first line is searched from the node's column on.
	for l := line; l <= len(f.lines) && l < line+1+strings.Count(n.Value, "\n")*2+2; l++ {
		text := f.Line(l)
		start := 0
		if l == line {
			start = byteIndexOfCol(text, n.Pos.Col)
		}
		for {
			i := strings.Index(text[start:], needle)
			if i < 0 || needle == "" {
				break
			}
			if k == 0 {
				return Pos{Line: l, Col: utf8.RuneCountInString(text[:start+i]) + 1}
			}
			k--
			start += i + len(needle)
		}
	}
	return n.Pos
}

func byteIndexOfCol(s string, col int) int {
	i := 0
	for c := 1; c < col && i < len(s); c++ {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i
}

// ParseError is a file that cannot be read as what it should be.
type ParseError struct {
	Path string
	Pos  Pos
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// MaxFileSize is the largest file read.
const MaxFileSize = 4 << 20

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// ParseYAML reads the first YAML document of a file. Anchors and aliases
// are resolved (an alias shares its anchor's node, so nothing is copied),
// merge keys (<<) are applied, and the YAML comments are recorded in the
// file.
func ParseYAML(path string, src []byte) (*Node, *File, error) {
	f := NewFile(path, src)
	if len(src) > MaxFileSize {
		return nil, f, &ParseError{Path: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	var doc yaml.Node
	if err := decode(src, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		pos := Pos{}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			pos = Pos{Line: min(max(n, 1), f.Lines()), Col: 1}
			msg = strings.TrimPrefix(err.Error(), m[0])
		}
		return nil, f, &ParseError{Path: path, Pos: pos, Msg: "invalid YAML: " + msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, f, &ParseError{Path: path, Msg: "file is empty"}
	}
	c := &converter{file: f, memo: map[*yaml.Node]*Node{}, busy: map[*yaml.Node]bool{}}
	n, err := c.conv(&doc)
	if err != nil {
		return nil, f, err
	}
	c.comments(&doc)
	return n, f, nil
}

// decode runs the YAML parser, turning its panics into errors: the input
// is outside data, and a parser bug must not stop the audit.
func decode(src []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	err = yaml.NewDecoder(bytes.NewReader(src)).Decode(doc)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

type converter struct {
	file *File
	memo map[*yaml.Node]*Node
	busy map[*yaml.Node]bool
}

func (c *converter) errorf(y *yaml.Node, format string, args ...any) error {
	return &ParseError{Path: c.file.Path, Pos: c.pos(y), Msg: fmt.Sprintf(format, args...)}
}

// pos is where a node starts. The parser puts an empty value that ends
// the input just past it; it is moved back to the end of the last line.
func (c *converter) pos(y *yaml.Node) Pos {
	p := Pos{y.Line, y.Column}
	f := c.file
	if p.Line > f.Lines() {
		p.Line = f.Lines()
		p.Col = utf8.RuneCountInString(f.Line(p.Line)) + 1
	}
	if p.Line < 1 {
		p.Line = 1
	}
	if max := utf8.RuneCountInString(f.Line(p.Line)) + 1; p.Col > max {
		p.Col = max
	}
	if p.Col < 1 {
		p.Col = 1
	}
	return p
}

func (c *converter) conv(y *yaml.Node) (*Node, error) {
	if n, ok := c.memo[y]; ok {
		return n, nil
	}
	if c.busy[y] {
		return nil, c.errorf(y, "alias refers to the value that contains it")
	}
	c.busy[y] = true
	defer delete(c.busy, y)
	var n *Node
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return nil, c.errorf(y, "empty document")
		}
		var err error
		if n, err = c.conv(y.Content[0]); err != nil {
			return nil, err
		}
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, c.errorf(y, "unknown alias")
		}
		var err error
		if n, err = c.conv(y.Alias); err != nil {
			return nil, err
		}
	case yaml.ScalarNode:
		n = &Node{Kind: Scalar, Tag: y.ShortTag(), Value: y.Value, Pos: c.pos(y), File: c.file,
			Block: y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0}
	case yaml.SequenceNode:
		n = &Node{Kind: Sequence, Tag: y.ShortTag(), Pos: c.pos(y), File: c.file}
		for _, item := range y.Content {
			v, err := c.conv(item)
			if err != nil {
				return nil, err
			}
			n.Items = append(n.Items, v)
		}
	case yaml.MappingNode:
		n = &Node{Kind: Mapping, Tag: y.ShortTag(), Pos: c.pos(y), File: c.file}
		var merged []Pair
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, err := c.conv(y.Content[i])
			if err != nil {
				return nil, err
			}
			v, err := c.conv(y.Content[i+1])
			if err != nil {
				return nil, err
			}
			if k.Tag == "!!merge" {
				// <<: *a or <<: [*a, *b]: the first source of a key wins,
				// and keys written in the mapping win over all of them.
				for _, src := range mergeSources(v) {
					if src.Kind != Mapping {
						return nil, c.errorf(y.Content[i+1], "merge key (<<) needs a mapping or a list of mappings")
					}
					for _, p := range src.Pairs {
						if !hasKey(merged, p.Key.Value) {
							merged = append(merged, p)
						}
					}
				}
				continue
			}
			n.Pairs = append(n.Pairs, Pair{Key: k, Value: v})
		}
		for _, p := range merged {
			if n.Key(p.Key.Value) == nil {
				n.Pairs = append(n.Pairs, p)
			}
		}
	default:
		return nil, c.errorf(y, "unexpected YAML node")
	}
	c.memo[y] = n
	return n, nil
}

func mergeSources(v *Node) []*Node {
	if v.Kind == Sequence {
		return v.Items
	}
	return []*Node{v}
}

func hasKey(pairs []Pair, key string) bool {
	for _, p := range pairs {
		if p.Key.Value == key {
			return true
		}
	}
	return false
}

// comments records the lines that hold YAML comments. The parser gives a
// node's comments without their lines; each comment is found on the
// source line that ends with it, so text inside a block scalar that looks
// like a comment is never taken for one.
func (c *converter) comments(root *yaml.Node) {
	texts := map[string]bool{}
	seen := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(y *yaml.Node) {
		if y == nil || seen[y] {
			return
		}
		seen[y] = true
		for _, s := range []string{y.HeadComment, y.LineComment, y.FootComment} {
			for _, line := range strings.Split(s, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					texts[line] = true
				}
			}
		}
		for _, ch := range y.Content {
			walk(ch)
		}
	}
	walk(root)
	if len(texts) == 0 {
		return
	}
	f := c.file
	for l := 1; l <= f.Lines(); l++ {
		text := f.Line(l)
		for i := 0; i < len(text); i++ {
			if text[i] != '#' || (i > 0 && text[i-1] != ' ' && text[i-1] != '\t') {
				continue
			}
			if cm := strings.TrimSpace(text[i:]); texts[cm] {
				f.Comments[l] = Comment{Col: utf8.RuneCountInString(text[:i]) + 1, Text: cm}
				break
			}
		}
	}
}
