package glob

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The differential tests ask the minimatch that npm ships. They fail, not
// skip, without node: CI has it.

var (
	flagN    = flag.Int("glob.n", 20000, "number of random pattern/path cases for TestMinimatchRandom")
	flagSeed = flag.Uint64("glob.seed", 1, "seed for TestMinimatchRandom")
)

const minimatchVersion = "10.2.5"

type nodeCase struct {
	pattern int
	path    string
}

type nodeSegment struct {
	S     *string `json:"s,omitempty"`
	G     bool    `json:"g,omitempty"`
	Re    *string `json:"re,omitempty"`
	Flags string  `json:"flags,omitempty"`
}

type nodePattern struct {
	Error     string          `json:"error"`
	Negate    bool            `json:"negate"`
	Relative  bool            `json:"relative"`
	GlobParts [][]string      `json:"globParts"`
	Set       [][]nodeSegment `json:"set"`
}

type nodeAnswer struct {
	Patterns []nodePattern `json:"patterns"`
	Results  []*[2]bool    `json:"results"`
}

// minimatchDir finds npm's own copy of minimatch and checks its version.
func minimatchDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed to compare with minimatch: %v", err)
	}
	out, err := exec.Command("npm", "root", "-g").Output()
	if err != nil {
		t.Fatalf("finding npm's global root: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "npm", "node_modules", "minimatch")
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("reading minimatch's package.json: %v", err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatalf("parsing minimatch's package.json: %v", err)
	}
	if pkg.Version != minimatchVersion {
		t.Fatalf("npm ships minimatch %s; this package follows %s", pkg.Version, minimatchVersion)
	}
	return dir
}

// askMinimatch sends every pattern and case to node in one batch.
func askMinimatch(t *testing.T, patterns []string, cases []nodeCase) nodeAnswer {
	t.Helper()
	in := map[string]any{"minimatch": minimatchDir(t), "patterns": patterns}
	cs := make([][2]any, len(cases))
	for i, c := range cases {
		cs[i] = [2]any{c.pattern, c.path}
	}
	in["cases"] = cs
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "minimatch.js"))
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running minimatch: %v\n%s", err, stderr.Bytes())
	}
	var ans nodeAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("decoding minimatch's answer: %v", err)
	}
	if len(ans.Patterns) != len(patterns) || len(ans.Results) != len(cases) {
		t.Fatalf("minimatch answered %d patterns and %d cases, want %d and %d", len(ans.Patterns), len(ans.Results), len(patterns), len(cases))
	}
	return ans
}

// asJSON is how a string of ours comes back from JSON.stringify and Go's
// decoder: lone surrogates become U+FFFD.
func asJSON(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	u := appendUTF16(nil, s)
	var b []byte
	for i := 0; i < len(u); i++ {
		c := rune(u[i])
		switch {
		case c >= 0xD800 && c <= 0xDBFF && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF:
			c = utf16Pair(c, rune(u[i+1]))
			i++
		case c >= 0xD800 && c <= 0xDFFF:
			c = utf8.RuneError
		}
		b = utf8.AppendRune(b, c)
	}
	return string(b)
}

// describeSet renders p's segments the way testdata/minimatch.js does.
func describeSet(p *Pattern) [][]nodeSegment {
	set := [][]nodeSegment{}
	for _, c := range p.set {
		segs := []nodeSegment{}
		for _, s := range c.segs {
			switch s.kind {
			case segGlobstar:
				segs = append(segs, nodeSegment{G: true})
			case segLiteral:
				lit := asJSON(s.lit)
				segs = append(segs, nodeSegment{S: &lit})
			default:
				src := asJSON(s.src)
				flags := "i"
				if s.u {
					flags = "iu"
				}
				segs = append(segs, nodeSegment{Re: &src, Flags: flags})
			}
		}
		set = append(set, segs)
	}
	return set
}

// compare checks every pattern and case against minimatch's answer and
// returns how many cases matched and how many failures were reported.
func compare(t *testing.T, patterns []string, cases []nodeCase, ans nodeAnswer) (matches int) {
	t.Helper()
	compiled := make([]*Pattern, len(patterns))
	failures := 0
	fail := func(format string, args ...any) {
		t.Helper()
		failures++
		if failures <= 40 {
			t.Errorf(format, args...)
		}
	}
	for i, src := range patterns {
		want := ans.Patterns[i]
		p, err := Compile(src)
		if (err != nil) != (want.Error != "") {
			fail("Compile(%q): error %v, minimatch threw %q", src, err, want.Error)
			continue
		}
		if err != nil {
			continue
		}
		compiled[i] = p
		if p.Negate() != want.Negate || p.Relative() != want.Relative {
			fail("Compile(%q): negate %v relative %v, minimatch %v %v", src, p.Negate(), p.Relative(), want.Negate, want.Relative)
		}
		parts := p.parts
		if parts == nil {
			parts = [][]string{}
		}
		if want.GlobParts == nil {
			want.GlobParts = [][]string{}
		}
		for _, ps := range parts {
			for j := range ps {
				ps[j] = asJSON(ps[j])
			}
		}
		if !reflect.DeepEqual(parts, want.GlobParts) {
			fail("Compile(%q): globParts %q, minimatch %q", src, parts, want.GlobParts)
		}
		if got := describeSet(p); !(len(got) == 0 && len(want.Set) == 0) && !reflect.DeepEqual(got, want.Set) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want.Set)
			fail("Compile(%q): set\n  got  %s\n  want %s", src, g, w)
		}
	}
	for i, c := range cases {
		p, want := compiled[c.pattern], ans.Results[i]
		if p == nil || want == nil {
			continue
		}
		got := [2]bool{p.Match(c.path, false), p.Match(c.path, true)}
		if got != *want {
			fail("pattern %q path %q: Match %v, partial %v; minimatch %v, %v", patterns[c.pattern], c.path, got[0], got[1], want[0], want[1])
		}
		if want[0] {
			matches++
		}
	}
	if failures > 40 {
		t.Errorf("… and %d more failures", failures-40)
	}
	return matches
}

// Random patterns are built from pieces that exercise every part of
// minimatch; paths are random too, or made from a pattern by filling in
// its wildcards, so that a fair share of them match.
var patternPieces = []string{
	"*", "*", "*", "**", "**", "?", "?", "[", "]", "!", "^", "{", "}", ",", ",", ".", "..", "/", "/", "/",
	"+(", "@(", "*(", "?(", "!(", "(", ")", ")", "|", "|", `\`, `\`, "#", "-", "-", ":",
	"a", "a", "b", "b", "c", "A", "B", "x", "X", "0", "1", "9", "é", "É", "ß", "Σ", "ς", "σ", "ı", "İ",
	"K", "k", "ſ", "s", "ǅ", "😀", " ", "$", "~", "_",
	"[:alpha:]", "[:upper:]", "[:digit:]", "[:space:]", "[:punct:]", "[:xdigit:]", "[:ascii:]", "[:graph:]",
	"{a,b}", "{1..3}", "{a..c}", "{,x}", "{x,}", "{01..3}", "{c..a..2}",
	".js", ".JS", "src", "test", "node_modules", "README",
}

var pathChars = []string{
	"a", "a", "b", "b", "c", "A", "B", "C", "x", "s", "k", "1", "0", ".", ".", "-", "_", " ", "é", "É",
	"ß", "ẞ", "Σ", "σ", "ς", "ı", "İ", "i", "K", "ſ", "ǅ", "ǆ", "😀", "(", ")", "|", `\`, "*", "?", "[",
	"]", "{", "}", ",", "#", "!", "@", "+", ":", "~", "$", "^",
}

func randomPattern(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(8) == 0 {
		b.WriteString("!")
	}
	if r.IntN(6) == 0 {
		b.WriteString("/")
	}
	n := 1 + r.IntN(10)
	for range n {
		b.WriteString(patternPieces[r.IntN(len(patternPieces))])
	}
	if r.IntN(6) == 0 {
		b.WriteString("/")
	}
	return b.String()
}

func randomSegment(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return "."
	case 1:
		return ".."
	case 2:
		return ""
	}
	var b strings.Builder
	for range 1 + r.IntN(6) {
		b.WriteString(pathChars[r.IntN(len(pathChars))])
	}
	return b.String()
}

func randomPath(r *rand.Rand) string {
	segs := make([]string, 1+r.IntN(4))
	for i := range segs {
		segs[i] = randomSegment(r)
	}
	return strings.Join(segs, "/")
}

// instantiate fills in a pattern's wildcards with random text.
func instantiate(r *rand.Rand, pattern string) string {
	var b strings.Builder
	pattern = strings.TrimLeft(pattern, "!")
	for _, c := range pattern {
		switch c {
		case '*':
			switch r.IntN(4) {
			case 0:
			case 1:
				b.WriteString(randomSegment(r))
			case 2:
				b.WriteString(randomSegment(r) + "/" + randomSegment(r))
			default:
				b.WriteString(pathChars[r.IntN(len(pathChars))])
			}
		case '?':
			b.WriteString(pathChars[r.IntN(len(pathChars))])
		case '\\', '{', '}', '(', ')', '[', ']', '|', '+', '@', ',':
			if r.IntN(2) == 0 {
				b.WriteRune(c)
			} else if r.IntN(2) == 0 {
				b.WriteString(pathChars[r.IntN(len(pathChars))])
			}
		default:
			if r.IntN(10) == 0 {
				b.WriteString(strings.ToUpper(string(c)))
			} else {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

func TestMinimatchRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(*flagSeed, 0x676c6f62))
	var patterns []string
	var cases []nodeCase
	for len(cases) < *flagN {
		pat := randomPattern(r)
		patterns = append(patterns, pat)
		i := len(patterns) - 1
		for range 3 {
			cases = append(cases, nodeCase{i, instantiate(r, pat)})
		}
		for range 3 {
			cases = append(cases, nodeCase{i, randomPath(r)})
		}
	}
	start := time.Now()
	ans := askMinimatch(t, patterns, cases)
	asked := time.Since(start)
	matches := compare(t, patterns, cases, ans)
	t.Logf("minimatch took %v, this package %v", asked, time.Since(start)-asked)
	t.Logf("%d patterns, %d cases (seed %d), %d matched", len(patterns), len(cases), *flagSeed, matches)
}

// TestTablesAgainstMinimatch runs the hand-written tables through minimatch
// too, so their expectations cannot drift from npm's.
func TestTablesAgainstMinimatch(t *testing.T) {
	var patterns []string
	var cases []nodeCase
	index := map[string]int{}
	add := func(p string) int {
		if i, ok := index[p]; ok {
			return i
		}
		patterns = append(patterns, p)
		index[p] = len(patterns) - 1
		return len(patterns) - 1
	}
	for _, tt := range matchTests {
		cases = append(cases, nodeCase{add(tt.pattern), tt.path})
	}
	for _, p := range compileErrorTests {
		add(p)
	}
	for _, tt := range patternTests {
		add(tt.pattern)
	}
	ans := askMinimatch(t, patterns, cases)
	for i, tt := range matchTests {
		if r := ans.Results[i]; r == nil || r[0] != tt.match || r[1] != tt.partial {
			t.Errorf("matchTests: minimatch says %q against %q is %v, the table says %v, %v", tt.pattern, tt.path, r, tt.match, tt.partial)
		}
	}
	for _, p := range compileErrorTests {
		if ans.Patterns[index[p]].Error == "" {
			t.Errorf("compileErrorTests: minimatch accepts %.40q", p)
		}
	}
	for _, tt := range patternTests {
		w := ans.Patterns[index[tt.pattern]]
		if w.Negate != tt.negate || w.Relative != tt.relative {
			t.Errorf("patternTests: minimatch says %q has negate %v, relative %v", tt.pattern, w.Negate, w.Relative)
		}
	}
	compare(t, patterns, cases, ans)
}

// edgeCases are corners the random test is unlikely to reach, compared with
// minimatch without expectations of their own.
func edgeCases() map[string][]string {
	deep := strings.Repeat("x/**/", 205)
	deepPath := strings.Repeat("x/", 205) + "y"
	return map[string][]string{
		// More ** sections than minimatch recurses through.
		"**/" + deep + "y":          {deepPath, "a/" + deepPath},
		"a/**/b/c/**/d":             {"a/b/c/d", "a/x/b/c/y/d", "a/b/c/x/y/d", "a/x/y/b/c/d"},
		"**/a/b/**/c/**":            {"a/b/c/d", "x/a/b/y/c/z", "a/b/c", "a/b/c/", "a/b"},
		"a/**/b/**":                 {"a/b/", "a/x/b", "a/x/b/y/z", "a/.x/b/y"},
		"**/.":                      {".", "a/.", "a/b"},
		"**/..":                     {"..", "a/..", "a/b"},
		"a/**/../b":                 {"a/../b", "a/x/../b", "b"},
		"/**/a/":                    {"/a/", "/x/a/", "/x/a", "x/a/"},
		strings.Repeat("**/a/", 60): {strings.Repeat("a/", 60), strings.Repeat("a/", 59)},
		// Brace expansion, up to its limits.
		"{1..100005}":                  {"1", "100000", "100001"},
		strings.Repeat("{a,b}", 17):    {strings.Repeat("a", 17), strings.Repeat("b", 17)},
		strings.Repeat("{ab,c}", 3000): {strings.Repeat("ab", 3000)},
		"x{Z..a}":                      {"x[", "x", `x\`, "x_", "xa"},
		"{Z..a}":                       {"", "[", "^"},
		"{a..z..-3}":                   {"a", "d", "b"},
		"{1..10..0}":                   {"1", "5"},
		"{-1..-10..3}":                 {"-1", "-4", "-10"},
		"{-01..2}":                     {"-01", "00", "02", "2"},
		"{99999999999999999999..99999999999999999999}":       {"100000000000000000000"},
		"{1000000000000000000000..1000000000000000000002}":   {"1e+21", "1000000000000000000000"},
		"{-2000000000000000000000..-2000000000000000000000}": {"-2e+21"},
		"{1e2..3}":       {"{1e2..3}", "1e2"},
		"${a,b}":         {"${a,b}", "$a"},
		"a${b,c}{d,e}":   {"a${b,c}d", "a${b,c}e"},
		`\{a,b\}`:        {"{a,b}", "a"},
		`a\,b{c,d}`:      {"a,bc", `a\,bc`},
		`{a\,b,c}`:       {"a,b", "c", "a"},
		"{}":             {"{}"},
		"{},a}b":         {"{},a}b", "ab"},
		"a{},b}c":        {"a}c", "abc", "ac"},
		"a{b}c":          {"a{b}c", "abc"},
		"a{b},c}d":       {"a{b}d", "acd", "a{b},c}d"},
		"{a,b}{}":        {"a{}", "a"},
		"{{a,b}}":        {"{a}", "a"},
		"x{{a,b},c}y":    {"xay", "xcy", "x{a}y"},
		"{a,{b,c}}{d,}":  {"ad", "a", "cd", "c"},
		"a{b,\rc}":       {"ab", "a{b,\rc}"},
		"a{b,\u2028c}":   {"ab", "a{b,\u2028c}"},
		"{,a}":           {"", "a"},
		"{a,}b{,}":       {"ab", "b"},
		"{a,b}/{c,d}/**": {"a/c/x", "b/d", "a/d/"},
		"{,,}":           {""},
		`\\\{a,b}`:       {`\{a,b}`, `\a`},
		`{a,b}\\\\c`:     {`a\c`, `a\\c`},
		// Extglobs, including nesting past the recursion limit.
		"+(a|+(b|+(c|+(d))))":            {"abcd", "dd", "e"},
		"*(a|?(b|@(c|!(d))))":            {"", "abc", "d", "ax"},
		"!(a|!(b|!(c)))x":                {"ax", "bx", "cx", "x"},
		"@(a|b)!(c|d)e":                  {"ace", "axe", "ae", "bde"},
		"x!(a)*y":                        {"xay", "xy", "xaay"},
		"!(a)":                           {"a", "b", ""},
		"a!(b)c!(d)e":                    {"abcde", "axcye", "ace"},
		"@(@(@(@(@(a)))))":               {"a", "@(a)"},
		"+(*(?(@(!(a)))))":               {"a", "b", ""},
		"?(a|b)@(c|d)+(e|f)*(g|h)!(i|j)": {"acegx", "cf", "de"},
		"!(*.js|*.ts)":                   {"a.js", "a.md"},
		"*.!(js)":                        {"a.js", "a.md", "a."},
		"+(|a)":                          {"", "a", "+(|a)"},
		"@(|)":                           {"@(|)", ""},
		"a@(|)b":                         {"ab"},
		"!(x)+()":                        {"a+()", "a", "x"},
		"!(x)?()":                        {"a", "x"},
		"+(a":                            {"+(a", "a"},
		"@(a|b":                          {"@(a|b", "a"},
		"@(a[|]b)":                       {"a|b", "a]b"},
		"@(a[b|c)":                       {"@(a[b|c)", "ab"},
		// Bracket expressions.
		"[[:alpha:][:digit:]]": {"a", "1", "_"},
		"[^[:alpha:]]":         {"a", "1"},
		"[[:graph:]]":          {"a", " ", "\u0001"},
		"[a[:graph:]]":         {"a", "b", " "},
		"[![:graph:]b]":        {"a", "b", " "},
		"[a-[:alpha:]]x":       {"ax", "[a-[:alpha:]]x"},
		"[[:bogus:]]":          {"[", ":", "[[:bogus:]]"},
		"[a-z-0]":              {"-", "0", "m"},
		"[\\]]":                {"]", "\\"},
		"[\\\\-a]":             {"\\", "]", "a"},
		"[]-a]":                {"]", "^", "a"},
		"[!]]":                 {"]", "a"},
		"[^]a]":                {"]", "b"},
		"[\u2028]":             {"\u2028"},
		"[😀]":                  {"😀", "\ufffd"},
		"[😀-a]*":               {"😀", "😀x"},
		"a[😀-a]":               {"a"},
		"[[:alpha:]😀]":         {"😀", "a"},
		"[[:xdigit:]]?":        {"a😀", "F1"},
		"[[:ascii:]]":          {"a", "é"},
		"[[:space:]]x":         {" x", "\tx", "\u3000x"},
		"[[:word:]]":           {"_", "a", "-"},
		"[[:punct:]]":          {"!", "a"},
		"[[:cntrl:]]":          {"\u007f", "a"},
		"[[:blank:]]":          {"\t", " ", "\n"},
		// Escapes and literals.
		"a\\":       {"a\\", "a"},
		"\\":        {"\\"},
		"\\*":       {"*", "a"},
		"\\[a]":     {"[a]", "a"},
		"[a]\\[b]":  {"a[b]", "ab"},
		"\\a\\b":    {"ab", "\\a\\b"},
		"?\\x":      {"a\\x", "ax"},
		"??\\":      {"ab\\", "abc"},
		"*\\":       {"a\\"},
		".\\*":      {".*", ".a"},
		"a b":       {"a b"},
		"\u00a0a":   {"\u00a0a"},
		"*.":        {"a.", "."},
		"*..":       {"a..", ".."},
		".":         {".", "a"},
		"..":        {"..", "a/.."},
		"./":        {"./", ".", "a"},
		"a/./b":     {"a/b", "a/./b"},
		"a/../../b": {"../b", "b"},
		"../a":      {"../a", "a"},
		"//a//":     {"a/", "/a/", "//a//"},
		"/":         {"/", "", "a"},
		"///":       {"/", "//"},
		// Case.
		"ǅ":            {"Ǆ", "ǆ", "ǅ"},
		"*ǅ":           {"xǆ", "xǄ"},
		"ᾳ":            {"ᾼ", "ΑΙ"},
		"\u0345":       {"ι", "Ι", "\u1fbe"},
		"ß*":           {"ẞx", "ssx"},
		"[ß]":          {"ẞ"},
		"[[:lower:]ß]": {"ẞ", "A"},
		"İ*":           {"i", "İ", "i\u0307"},
		"?İ":           {"xi\u0307", "xİ"},
		"??İ":          {"xi\u0307"},
	}
}

func TestEdgesAgainstMinimatch(t *testing.T) {
	var patterns []string
	var cases []nodeCase
	for p, paths := range edgeCases() {
		patterns = append(patterns, p)
		for _, path := range paths {
			cases = append(cases, nodeCase{len(patterns) - 1, path})
			for _, variant := range []string{"/" + path, path + "/", "/" + path + "/"} {
				cases = append(cases, nodeCase{len(patterns) - 1, variant})
			}
		}
	}
	ans := askMinimatch(t, patterns, cases)
	matches := compare(t, patterns, cases, ans)
	t.Logf("%d patterns, %d cases, %d matched", len(patterns), len(cases), matches)
}
