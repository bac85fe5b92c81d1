package pack_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/rogpeppe/go-internal/txtar"
)

var (
	randomSeed  = flag.Uint64("pack.seed", 1, "seed of the first random package tree; tree i uses seed+i")
	randomTrees = flag.Int("pack.trees", 48, "how many random package trees to compare with npm")
)

// TestRandomTreesMatchNPM packs generated package trees with npm and with
// airlock. A tree that fails is kept, with a txtar copy that can become a
// fixture, and the log says how to rerun just that tree.
func TestRandomTreesMatchNPM(t *testing.T) {
	for i := range *randomTrees {
		seed := *randomSeed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			dir, err := os.MkdirTemp("", fmt.Sprintf("airlock-random-%d-", seed))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if !t.Failed() {
					os.RemoveAll(dir)
					return
				}
				copyNote := "txtar copy in " + dir + ".txtar"
				ar, err := npmtest.ReadTree(dir)
				if err == nil {
					ar.Comment = fmt.Appendf(nil, "Random tree, seed %d.\n", seed)
					err = os.WriteFile(dir+".txtar", txtar.Format(ar), 0o644)
				}
				if err != nil {
					copyNote = fmt.Sprintf("no txtar copy: %v", err)
				}
				t.Logf("kept the tree in %s (%s)\nrerun it: go test ./pack -run TestRandomTreesMatchNPM -pack.seed=%d -pack.trees=1",
					dir, copyNote, seed)
			})
			g := &treeGen{r: rand.New(rand.NewPCG(seed, 0x61726c6f636b)), root: dir}
			if err := g.generate(); err != nil {
				t.Fatalf("generating tree %d: %v", seed, err)
			}
			checkAgainstNPM(t, dir)
		})
	}
}

// treeGen writes one random package tree. It leans towards what decides
// file selection: ignore files at every depth whose patterns name paths
// that exist, files arrays mixing paths, globs and negations, names npm
// treats specially, odd characters, and modes.
type treeGen struct {
	r     *rand.Rand
	root  string
	files []string // regular files, slash-separated, relative to root
	dirs  []string // folders, likewise; "" is the root
	names map[string]bool
	count int
}

var (
	stems = []string{"index", "lib", "src", "util", "a", "b", "B", "test", "docs", "dist", "bin",
		"cli", "main", "Foo", "foo", "x", "build", "types", "spec", "data", "keep", "tmp", "node_modules"}
	exts = []string{"", ".js", ".js", ".js", ".mjs", ".cjs", ".ts", ".d.ts", ".json", ".md", ".txt",
		".map", ".JS", ".Md", ".orig", ".swp", ".log", ".min.js", ".tgz", ".", ".gypi", ".bak"}
	dotNames = []string{".eslintrc", ".env", ".hidden", ".DS_Store", "._x", ".npmrc", ".foo.swp",
		".lock-wscript", ".wafpickle-3", ".editorconfig", ".gitattributes", ".travis.yml"}
	dotDirs     = []string{".git", ".github", ".svn", ".hg", "CVS", ".vscode", ".DS_Store", "._meta", "archived-packages"}
	unicodeBits = []string{"café", "cafe\u0301", "日本語", "😀", "Ünïcödé", "ß", "İ", "Ω", "naïve", "中文",
		"ÆØÅ", "ﬁle", "Ärger", "ärger", "ю", "🎉🎉"}
	oddBits = []string{"with space", "#hash", "!bang", "[br]", "{brace}", "a*b", "q?", "semi;colon",
		"dollar$", "tilde~", "plus+", "a,b", "paren(1)", "back\\slash", "-dash", "_under", "@at", "%pct", "'q'"}
	special = []string{"README.md", "readme", "Readme.txt", "README.md~", "LICENSE", "licence", "LICENCE.txt",
		"COPYING", "copying.md", "license-MIT", "CHANGELOG.md", "package-lock.json", "yarn.lock",
		"pnpm-lock.yaml", "bun.lockb", "npm-debug.log", "npm-shrinkwrap.json", "config.gypi", "x.orig"}
)

func (g *treeGen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *treeGen) chance(p float64) bool     { return g.r.Float64() < p }

// name returns a new name for an entry of dir.
func (g *treeGen) name(dir string, folder bool) string {
	for {
		var n string
		switch x := g.r.IntN(100); {
		case x < 50:
			n = g.pick(stems)
			if !folder || g.chance(0.1) {
				n += g.pick(exts)
			}
		case x < 60:
			if folder {
				n = g.pick(dotDirs)
			} else {
				n = g.pick(dotNames)
			}
		case x < 70:
			n = g.pick(unicodeBits)
			if !folder {
				n += g.pick(exts)
			}
		case x < 78:
			n = g.pick(oddBits) + g.pick([]string{"", ".js", ".md"})
			if folder {
				// npm pack fails (ENOENT) on a folder with a backslash:
				// npm-packlist turns it into a slash.
				n = strings.ReplaceAll(n, "\\", "")
			}
		case x < 83:
			n = g.pick(stems) + "-" + strings.Repeat(g.pick([]string{"long", "ü", "x"}), 20+g.r.IntN(60))
			n = n[:min(len(n), 200)]
			n = strings.ToValidUTF8(n, "") + ".js"
		case x < 90 && !folder:
			n = g.pick(special)
		default:
			n = g.pick(stems) + fmt.Sprint(g.r.IntN(20)) + g.pick(exts)
			if g.chance(0.3) {
				n = strings.ToUpper(n[:1]) + n[1:]
			}
		}
		full := path.Join(dir, n)
		if n != "" && n != "." && n != ".." && !g.names[full] {
			g.names[full] = true
			return n
		}
	}
}

func (g *treeGen) abs(rel string) string { return filepath.Join(g.root, filepath.FromSlash(rel)) }

func (g *treeGen) writeFile(rel string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(g.abs(rel)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(g.abs(rel), data, mode); err != nil {
		return err
	}
	if err := os.Chmod(g.abs(rel), mode); err != nil {
		return err
	}
	if !slices.Contains(g.files, rel) {
		g.files = append(g.files, rel)
	}
	return nil
}

func (g *treeGen) content() []byte {
	var b strings.Builder
	switch x := g.r.IntN(10); {
	case x == 0:
		return nil
	case x < 8:
		fmt.Fprintf(&b, "// %d\n", g.r.Int())
	default: // more than one tar block
		for b.Len() < 600+g.r.IntN(3000) {
			fmt.Fprintf(&b, "line %d %s\n", g.r.IntN(1e6), g.pick(unicodeBits))
		}
	}
	return []byte(b.String())
}

func (g *treeGen) tree(dir string, depth int) error {
	n := 1 + g.r.IntN(7)
	if depth == 0 {
		n = 6 + g.r.IntN(10)
	}
	for range n {
		if g.count > 80 {
			return nil
		}
		g.count++
		if depth < 4 && g.chance(0.35) {
			d := path.Join(dir, g.name(dir, true))
			if err := os.MkdirAll(g.abs(d), 0o755); err != nil {
				return err
			}
			g.dirs = append(g.dirs, d)
			if err := g.tree(d, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := g.writeFile(path.Join(dir, g.name(dir, false)), g.content(), g.fileMode()); err != nil {
			return err
		}
	}
	return nil
}

func (g *treeGen) fileMode() fs.FileMode {
	switch x := g.r.IntN(100); {
	case x < 75:
		return 0o644
	case x < 87:
		return 0o755
	}
	return []fs.FileMode{0o700, 0o775, 0o666, 0o444, 0o711, 0o600, 0o640}[g.r.IntN(7)]
}

// pattern returns an ignore-file or files-array pattern, usually built
// from a path that exists below dir so that it matters.
func (g *treeGen) pattern(dir string) string {
	var rels []string
	for _, p := range append(slices.Clone(g.files), g.dirs...) {
		if p == "" {
			continue
		}
		if dir == "" {
			rels = append(rels, p)
		} else if strings.HasPrefix(p, dir+"/") {
			rels = append(rels, strings.TrimPrefix(p, dir+"/"))
		}
	}
	if len(rels) == 0 || g.chance(0.15) {
		return g.pick([]string{"*", "*.js", "**", "!*.md", "lib/**", "!lib/keep*", "\\#hash", "*.{js,ts}",
			"**/*.map", "!**/README*", "*.[jt]s", "test/", "/dist", "!.npmrc", ".*", "*~", "[!a]*", "**/x/**"})
	}
	p := g.pick(rels)
	base := path.Base(p)
	ext := path.Ext(base)
	var s string
	switch g.r.IntN(12) {
	case 0:
		s = base
	case 1:
		s = p
	case 2:
		s = "/" + p
	case 3:
		s = p + "/"
	case 4:
		s = "**/" + base
	case 5:
		s = path.Join(path.Dir(p), "*"+ext)
	case 6:
		s = strings.TrimSuffix(base, ext) + ".*"
	case 7:
		other := path.Base(g.pick(rels))
		s = "{" + base + "," + other + "}"
	case 8:
		rs := []rune(base)
		rs[g.r.IntN(len(rs))] = '?'
		s = path.Join(path.Dir(p), string(rs))
	case 9:
		s = p + "/**"
	case 10:
		s = strings.ToUpper(p)
	default:
		s = "[" + base[:1] + "]*"
	}
	if g.chance(0.3) {
		s = "!" + s
	}
	return s
}

func (g *treeGen) ignoreFile(dir, name string) error {
	var lines []string
	for range 1 + g.r.IntN(5) {
		switch x := g.r.IntN(20); {
		case x == 0:
			lines = append(lines, "# comment "+g.pick(stems))
		case x == 1:
			lines = append(lines, "")
		case x == 2:
			lines = append(lines, "  "+g.pattern(dir)+"  ")
		default:
			lines = append(lines, g.pattern(dir))
		}
	}
	sep := "\n"
	if g.chance(0.1) {
		sep = "\r\n"
	}
	return g.writeFile(path.Join(dir, name), []byte(strings.Join(lines, sep)+sep), 0o644)
}

// generate writes the whole tree: content, ignore files, package.json,
// then links and bundled dependencies.
func (g *treeGen) generate() error {
	g.names = map[string]bool{"package.json": true, "node_modules": true}
	g.dirs = []string{""}
	if err := g.tree("", 0); err != nil {
		return err
	}
	for _, n := range []string{"README.md", "LICENSE", "readme.markdown", "LICENCE", "COPYING.txt", "Readme", "README.md~"} {
		if g.chance(0.12) && !g.names[n] {
			g.names[n] = true
			if err := g.writeFile(n, []byte("# "+n+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	if g.chance(0.15) {
		for _, f := range []string{".git/HEAD", "package-lock.json", ".npmrc", "node_modules/.bin/x", "yarn.lock"} {
			if !g.names[f] {
				g.names[f] = true
				if err := g.writeFile(f, []byte("# "+f+"\n"), 0o644); err != nil {
					return err
				}
			}
		}
	}
	for _, d := range slices.Clone(g.dirs) {
		p := 0.2
		if d == "" {
			p = 0.5
		}
		var kinds []string
		if g.chance(p) {
			kinds = append(kinds, ".npmignore")
		}
		if g.chance(p * 0.8) {
			kinds = append(kinds, ".gitignore")
		}
		for _, k := range kinds {
			if err := g.ignoreFile(d, k); err != nil {
				return err
			}
		}
	}

	pkg := map[string]any{}
	name := g.pick([]string{"rnd-pkg", "@rnd/pkg", "rnd.pkg_x", "@Rnd/Mixed"})
	pkg["name"] = name
	pkg["version"] = g.pick([]string{"1.0.0", "0.1.2-beta.3", "2.0.0+build.5", "10.20.30"})
	if g.chance(0.45) {
		var files []string
		for range 1 + g.r.IntN(6) {
			var f string
			switch x := g.r.IntN(10); {
			case x < 3 && len(g.files) > 0:
				f = g.pick(g.files)
			case x < 5 && len(g.dirs) > 1:
				f = g.pick(g.dirs[1:]) + g.pick([]string{"", "/", "/*", "/**"})
			default:
				f = g.pattern("")
			}
			if g.chance(0.15) && !strings.HasPrefix(f, "!") {
				f = "./" + strings.TrimPrefix(f, "/")
			}
			files = append(files, f)
		}
		pkg["files"] = files
	}
	target := func() string {
		if len(g.files) == 0 || g.chance(0.1) {
			return "missing.js"
		}
		f := g.pick(g.files)
		if g.chance(0.3) {
			f = "./" + f
		}
		return f
	}
	if g.chance(0.25) {
		pkg["main"] = target()
	}
	if g.chance(0.05) {
		pkg["browser"] = target()
	}
	switch x := g.r.IntN(100); {
	case x < 12:
		pkg["bin"] = target()
	case x < 25:
		bin := map[string]string{}
		for i := range 1 + g.r.IntN(3) {
			bin[fmt.Sprintf("cmd%d", i)] = target()
		}
		pkg["bin"] = bin
	case x < 28 && len(g.dirs) > 1:
		pkg["directories"] = map[string]string{"bin": g.pick(g.dirs[1:])}
	}
	if g.chance(0.1) {
		pkg["scripts"] = map[string]string{"prepack": "exit 1", "prepare": "exit 1", "postpack": "exit 1"}
	}
	if g.chance(0.05) {
		pkg["workspaces"] = []string{"packages/*"}
		if err := g.writeFile("packages/w/package.json", []byte("{\n\"name\": \"w\",\n\"version\": \"1.0.0\"\n}\n"), 0o644); err != nil {
			return err
		}
		if err := g.writeFile("packages/w/index.js", g.content(), 0o644); err != nil {
			return err
		}
	}
	if g.chance(0.15) {
		if err := g.bundle(pkg); err != nil {
			return err
		}
	}

	// Links last, so that patterns and targets above never name them.
	for range g.r.IntN(3) {
		if !g.chance(0.3) {
			continue
		}
		dir := g.pick(g.dirs)
		link := path.Join(dir, g.name(dir, false))
		target := g.pick([]string{"nowhere", ".."})
		if len(g.files) > 0 && g.chance(0.6) {
			target, _ = filepath.Rel(filepath.Dir(g.abs(link)), g.abs(g.pick(g.files)))
		}
		if err := os.Symlink(target, g.abs(link)); err != nil {
			return err
		}
	}
	if len(g.files) > 0 && g.chance(0.05) {
		dir := g.pick(g.dirs)
		if err := os.Link(g.abs(g.pick(g.files)), g.abs(path.Join(dir, g.name(dir, false)))); err != nil {
			return err
		}
	}

	indent := "  "
	if g.chance(0.2) {
		indent = "\t"
	}
	data, err := json.MarshalIndent(pkg, "", indent)
	if err != nil {
		return err
	}
	return g.writeFile("package.json", append(data, '\n'), 0o644)
}

// bundle adds installed dependencies under node_modules and a bundle list
// naming some of them, one that is missing, and sometimes a dev dep.
func (g *treeGen) bundle(pkg map[string]any) error {
	all := []string{"dep-a", "dep-b", "@sc/dep-c", "dep-d", "dep-e"}
	installed := all[:2+g.r.IntN(len(all)-1)]
	deps := map[string]string{"not-installed": "1"}
	for i, name := range installed {
		deps[name] = "1"
		dp := map[string]any{"name": name, "version": "1.0.0"}
		if i+1 < len(installed) && g.chance(0.5) {
			// A transitive prod or optional dep, installed at the top.
			key := g.pick([]string{"dependencies", "optionalDependencies", "devDependencies", "peerDependencies"})
			dp[key] = map[string]string{installed[i+1]: "1"}
		}
		if g.chance(0.3) {
			dp["files"] = []string{"lib"}
		}
		base := "node_modules/" + name
		if g.chance(0.3) {
			nested := base + "/node_modules/nested-" + fmt.Sprint(i)
			dp["dependencies"] = map[string]string{"nested-" + fmt.Sprint(i): "1"}
			if err := g.writeFile(nested+"/package.json", fmt.Appendf(nil, `{"name":"nested-%d","version":"1.0.0"}`+"\n", i), 0o644); err != nil {
				return err
			}
			if err := g.writeFile(nested+"/index.js", g.content(), g.fileMode()); err != nil {
				return err
			}
		}
		data, err := json.Marshal(dp)
		if err != nil {
			return err
		}
		if err := g.writeFile(base+"/package.json", append(data, '\n'), 0o644); err != nil {
			return err
		}
		for _, f := range []string{"index.js", "lib/x.js", "README.md", ".npmignore", "test/t.js", ".DS_Store"} {
			if g.chance(0.6) {
				data := g.content()
				if f == ".npmignore" {
					data = []byte("index.js\n")
				}
				if err := g.writeFile(base+"/"+f, data, g.fileMode()); err != nil {
					return err
				}
			}
		}
	}
	pkg["dependencies"] = deps
	var list []string
	for _, name := range installed {
		if g.chance(0.7) {
			list = append(list, name)
		}
	}
	list = append(list, "not-installed")
	if g.chance(0.3) {
		pkg["devDependencies"] = map[string]string{installed[0]: "1"}
		delete(deps, installed[0])
	}
	switch x := g.r.IntN(10); {
	case x == 0:
		pkg["bundleDependencies"] = true
	case x < 3:
		pkg["bundledDependencies"] = list
	default:
		pkg["bundleDependencies"] = list
	}
	return nil
}
