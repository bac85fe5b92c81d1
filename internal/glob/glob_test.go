package glob

import (
	"errors"
	"strings"
	"testing"
)

// matchTests were checked against minimatch 10.2.5 with ignore-walk's
// options; TestTablesAgainstMinimatch checks them again.
var matchTests = []struct {
	pattern, path  string
	match, partial bool
}{
	// Rules seen in real .npmignore and .gitignore files.
	{"*.log", "debug.log", true, true},
	{"*.log", "logs/debug.LOG", true, true},
	{"*.log", "log", false, false},
	{"*.log", ".log", true, true},
	{"/build", "build", false, false},
	{"/build", "/build", true, true},
	{"/build", "src/build", false, false},
	{"/build", "build/x.js", false, false},
	{"dist/", "dist", false, true},
	{"dist/", "dist/", true, true},
	{"dist/", "src/dist/", false, false},
	{"dist/", "dist/a.js", false, false},
	{"!dist/index.js", "dist/index.js", true, true},
	{"!dist/index.js", "dist", false, true},
	{"**/test/**", "test/a.js", true, true},
	{"**/test/**", "a/test/b/c.js", true, true},
	{"**/test/**", "test", false, true},
	{"**/test/**", "a/test", false, true},
	{".*", ".npmrc", true, true},
	{".*", "a/.env", true, true},
	{".*", ".", false, false},
	{".*", "..", false, false},
	{"node_modules", "node_modules", true, true},
	{"node_modules", "a/node_modules", true, true},
	{"node_modules", "Node_Modules", true, true},
	{"node_modules", "node_modules/x", false, false},
	{"*.{js,ts}", "a.ts", true, true},
	{"*.{js,ts}", "b/a.JS", true, true},
	{"*.{js,ts}", "a.jsx", false, false},
	{"a/**/b", "a/b", true, true},
	{"a/**/b", "a/x/y/b", true, true},
	{"a/**/b", "a/./b", false, false},
	{"a/**/b", "a/../b", false, false},
	{"a/**/b", "a", false, true},
	{"[Rr][Ee][Aa][Dd][Mm][Ee]*", "README.md", true, true},
	{"[Rr][Ee][Aa][Dd][Mm][Ee]*", "docs/readme", true, true},
	{"!/readme{,.*[^~$]}", "readme", false, false},
	{"!/readme{,.*[^~$]}", "/readme", true, true},
	{"!/readme{,.*[^~$]}", "/README.md", true, true},
	{"!/readme{,.*[^~$]}", "/readme.md~", false, false},
	{"!/readme{,.*[^~$]}", "/readme.md$", false, false},
	{"!/readme{,.*[^~$]}", "README.md", false, false},
	{"!/readme{,.*[^~$]}", "readme.md~", false, false},
	{"!/readme{,.*[^~$]}", "docs/readme", false, false},
	{"/.wafpickle-*", ".wafpickle-7", false, false},
	{"/.wafpickle-*", "/.wafpickle-7", true, true},
	{"/.wafpickle-*", "a/.wafpickle-7", false, false},
	{"**/.git/**", ".git/config", true, true},
	{"**/.git/**", "a/.git", false, true},
	{"**/.git/**", "a/.git/HEAD", true, true},
	{"**/.git", ".git", true, true},
	{".git", "sub/.git", true, true},
	{"*.orig", "x.ORIG", true, true},
	{".DS_Store", "a/b/.ds_store", true, true},
	{"npm-debug.log", "npm-debug.log", true, true},
	{"/package-lock.json", "package-lock.json", false, false},
	{"/package-lock.json", "/package-lock.json", true, true},
	{"config.gypi", "build/config.gypi", true, true},
	{"*.tgz", "pkg-1.0.0.tgz", true, true},
	{"._*", "._foo", true, true},
	{".lock-wscript", ".lock-wscript", true, true},
	{"coverage/", "coverage", false, true},
	{"coverage/", "coverage/lcov.info", false, false},
	{"test/*.js", "test/a.js", true, true},
	{"test/*.js", "test/sub/a.js", false, false},
	{"src/**/*.test.js", "src/a.test.js", true, true},
	{"src/**/*.test.js", "src/x/y/a.test.js", true, true},

	// Wildcards; dot is on, but * never matches "." or "..".
	{"*", "anything", true, true},
	{"*", ".hidden", true, true},
	{"**", "a/b/c", true, true},
	{"?", "a", true, true},
	{"?", "ab", false, false},
	{"???.md", "abc.md", true, true},
	{"???.md", "abcd.md", false, false},

	// minimatch quirks npm inherits. An escaped | is a raw regexp
	// alternation when the segment becomes a regexp (letters, with nocase), and a
	// literal when it stays a string. "*ext" and "???ext" shortcuts compare
	// toLowerCase() text and see backslashes as themselves; toLowerCase turns a
	// word-final Σ into ς.
	{"a\\|b", "axx", true, true},
	{"1\\|2", "1xx", false, false},
	{"1\\|2", "1|2", true, true},
	{"*a\\b", "xa\\b", true, true},
	{"*a\\b", "xab", false, false},
	{"*.\\js", "a.\\js", true, true},
	{"*Σ", "ΑΣ", false, false},
	{"*Σ", "Σ", true, true},
	{"*σ", "ΑΣ", false, false},
	{"*ς", "ΑΣ", true, true},
	{"Σ", "ς", true, true},
	{"*.Σ", "a.σ", true, true},

	// POSIX classes make a u-flag regexp: case folds across classes, and
	// [:print:] really is \p{C} upstream.
	{"[[:upper:]]", "a", true, true},
	{"[[:alpha:]]*", "éa", true, true},
	{"[[:digit:]]", "٣", true, true},
	{"[[:print:]]", "a", false, false},

	// Extglobs. !(a|) counts as an empty !(), which needs one character.
	{"@()", "@()", true, true},
	{"x!(a|)", "xa", true, true},
	{"x!(a|)", "x", false, false},
	{"!(*.js)", "a.ts", false, false},
	{"!(*.js)", "a.js", false, false},
	{"a+(b|c)d", "abcbd", true, true},
	{"a+(b|c)d", "ad", false, false},
	{"*(a|b)", "", true, true},
	{"a?(x)b", "ab", true, true},
	{"a@(x|y)b", "ayb", true, true},

	// Brace expansion, including sequences and \\ before a brace set (which
	// brace-expansion turns into a single backslash).
	{"{,}", "", false, false},
	{"{a,b}{,}", "a", true, true},
	{"x{1..3}", "x2", true, true},
	{"x{01..3}", "x02", true, true},
	{"x{a..e..2}", "xc", true, true},
	{"x{a..e..2}", "xb", false, false},
	{"\\\\{a,b}", "a", true, true},
	{"\\\\{a,b}", "\\a", false, false},

	// Trailing slashes, partial matches, negation and comments.
	{"x/", "x", false, true},
	{"x/", "x/y", false, false},
	{"x/**", "x", false, true},
	{"x/**", "x/y/z", true, true},
	{"x/*", "x/", false, false},
	{"a/*/b", "a/b", false, true},
	{"!", "", true, true},
	{"!", "a", false, false},
	{"!#foo", "#foo", true, true},
	{"#foo", "#foo", false, false},
	{"\\#foo", "#foo", true, true},

	// "x/.." cancels out when the pattern is compiled; paths are taken as
	// they come.
	{"a/../b", "b", true, true},
	{"a/../b", "a/../b", true, true},
	{"./a", "a", false, false},
	{"./a", "./a", true, true},
	{"/a//b", "a/b", false, false},

	// Bracket expressions.
	{"[z-a]", "z", false, false},
	{"[a-", "[a-", true, true},
	{"[!a]", "b", true, true},
	{"[!a]", "A", false, false},
	{"[]]", "]", true, true},
	{"[a-c]", "B", true, true},

	// Case folding: without the u flag the Kelvin sign and long s fold
	// with nothing ASCII; with it (a POSIX class) they do. ß is not SS.
	{"\u212a", "k", false, false},
	{"k", "\u212a", false, false},
	{"\u017f", "S", false, false},
	{"[k]", "\u212a", false, false},
	{"[[:alpha:]k]", "\u212a", true, true},
	{"*[[:alpha:]]", "\u017f", true, true},
	{"[[:alpha:]s]", "\u017f", true, true},
	{"ß", "SS", false, false},
	{"ß", "ẞ", false, false},
	{"*ß", "aẞ", true, true},
	{"\u0130", "i", false, false},
	{"*\u0130", "xi\u0307", true, true},
	{"*\u0130", "xi", false, false},
	{"*\u0130", "x\u0130", true, true},

	// Lengths are UTF-16: an emoji is two "?" unless the u flag is on.
	{"??", "😀", true, true},
	{"?", "😀", false, false},
	{"[[:alpha:]]?", "a😀", true, true},
	{"[[:alpha:]]??", "a😀", false, false},
}

func TestMatch(t *testing.T) {
	for _, tt := range matchTests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		if got := p.Match(tt.path, false); got != tt.match {
			t.Errorf("Compile(%q).Match(%q, false) = %v, want %v", tt.pattern, tt.path, got, tt.match)
		}
		if got := p.Match(tt.path, true); got != tt.partial {
			t.Errorf("Compile(%q).Match(%q, true) = %v, want %v", tt.pattern, tt.path, got, tt.partial)
		}
	}
}

// compileErrorTests are patterns minimatch's constructor throws on.
var compileErrorTests = []string{
	// u-flag regexps reject the escapes minimatch puts before - , # space !
	"[[:alpha:]]-x",
	"*[[:digit:]],",
	"[[:alpha:]]#",
	"[[:space:]] ",
	`[[:upper:]]\!`,
	// An astral character then a range end above its low surrogate is in
	// order as code units but not as code points.
	"[😀-ｚ[:alpha:]]",
	strings.Repeat("a", 64*1024+1),
	"#" + strings.Repeat("a", 64*1024),
}

func TestCompileError(t *testing.T) {
	for _, pattern := range compileErrorTests {
		if _, err := Compile(pattern); err == nil {
			t.Errorf("Compile(%.40q) succeeded, want an error", pattern)
		}
	}
	if _, err := Compile(strings.Repeat("é", 64*1024)); err != nil {
		t.Errorf("a pattern of 65,536 UTF-16 units: %v", err)
	}
	if _, err := Compile(strings.Repeat("😀", 32*1024+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("a pattern of 65,538 UTF-16 units: %v, want ErrTooLong", err)
	}
}

var patternTests = []struct {
	pattern          string
	negate, relative bool
}{
	{"*.log", false, true},
	{"dist/", false, true},
	{"/dist", false, false},
	{"/dist/", false, false},
	{"a/b", false, false},
	{"!a", true, true},
	{"!!a", false, true},
	{"!!!a/b", true, false},
	{"{a,b/c}", false, true}, // one expansion is enough
	{"a/..", false, true},    // optimizes to [""]
	{"**", false, true},
	{"#a", false, false},
	{"", false, false},
	{"!", true, true},
	{"{,}", false, false}, // expands to nothing
}

func TestNegateRelative(t *testing.T) {
	for _, tt := range patternTests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		if p.Negate() != tt.negate || p.Relative() != tt.relative {
			t.Errorf("Compile(%q): Negate %v, Relative %v; want %v, %v", tt.pattern, p.Negate(), p.Relative(), tt.negate, tt.relative)
		}
	}
}

func TestParseIgnoreFile(t *testing.T) {
	data := "\ufeff# comment\r\n*.log\r\n\n   \n\t!keep.log  \n  # indented comment\n\u00a0dist/\u2028\nlast"
	rules, err := ParseIgnoreFile(data)
	if err != nil {
		t.Fatal(err)
	}
	// The BOM is trimmed as JS whitespace, so the first line is a comment.
	want := []struct {
		path   string
		negate bool
	}{{"a.log", false}, {"keep.log", true}, {"dist/", false}, {"last", false}}
	if len(rules) != len(want) {
		t.Fatalf("got %d rules, want %d", len(rules), len(want))
	}
	for i, w := range want {
		if !rules[i].Match(w.path, false) || rules[i].Negate() != w.negate {
			t.Errorf("rule %d: Match(%q) %v, Negate %v", i, w.path, rules[i].Match(w.path, false), rules[i].Negate())
		}
	}
	if _, err := ParseIgnoreFile("ok\n[[:alpha:]]-x\n"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad rule: error %v, want one naming line 2", err)
	}
}

// Skipping an expansion whose needed text a path lacks must never change
// an answer. npm's default rules and shapes of every kind, against paths
// that hold the needed text in other cases, in other segments or only in
// part.
func TestNeedChangesNothing(t *testing.T) {
	patterns := []string{"**/.git", "/.git", "**/.git/**", "CVS", "**/CVS/**", "*.orig", ".DS_Store",
		"._*", ".*.swp", "npm-debug.log", "/build/config.gypi", "*_foo", "a/*.TXT", "src/**/x.js",
		"{a,b}/lit", "Read*Me", "/archived-packages/**", "k*", "@scope/pkg"}
	paths := []string{"", ".git", "/.git", "a/.git", "a/.GIT", ".gitignore", "x.git/y", "cvs", "a/CvS/b",
		"x.ORIG", "x.orig.js", "a_foo", "A_FOO", "a/b.txt", "a/b.TxT", "src/a/b/x.js", "a/lit", "b/lit/",
		"readme", "READ_ME", "build/config.gypi", "/build/config.gypi", "archived-packages/x", "\u212a",
		"@scope/pkg", ".DS_Store/x", "x/.ds_store", "._x", ".a.swp"}
	for _, pat := range patterns {
		p, err := Compile(pat)
		if err != nil {
			t.Fatal(err)
		}
		slow := withoutNeeds(p)
		for _, path := range paths {
			for _, form := range []string{path, "/" + path, path + "/"} {
				if got, want := p.Match(form, false), slow.Match(form, false); got != want {
					t.Errorf("%q against %q: %v, want %v", pat, form, got, want)
				}
			}
		}
	}
	// The shortcut is there: most of these rules need some text.
	for _, pat := range []string{"**/.git", "CVS", "*.orig", "npm-debug.log"} {
		p, _ := Compile(pat)
		if p.set[0].need == "" {
			t.Errorf("%q: no needed text", pat)
		}
	}
}
