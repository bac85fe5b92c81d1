package pack

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/airlockdev/airlock/internal/glob"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

// File selection follows npm-packlist on top of ignore-walk. Each folder is
// walked with an ordered list of rule sources; a later source can exclude or
// re-include what an earlier one decided, and a folder also asks its
// parents, so a rule in the root reaches every depth.

// Rule sources. The two synthetic ones never exist on disk.
const (
	srcDefaults  = "\x00defaults"
	srcStrict    = "\x00strict"
	srcPackage   = "package.json"
	srcNpmignore = ".npmignore"
	srcGitignore = ".gitignore"
	maxWalkDepth = 512
)

var (
	rootSources    = []string{srcDefaults, srcPackage, srcNpmignore, srcGitignore, srcStrict}
	childSources   = []string{srcDefaults, srcNpmignore, srcGitignore, srcStrict}
	defaultRuleSet = []string{
		".npmignore", ".gitignore",
		"**/.git", "**/.svn", "**/.hg", "**/CVS",
		"**/.git/**", "**/.svn/**", "**/.hg/**", "**/CVS/**",
		"/.lock-wscript", "/.wafpickle-*", "/build/config.gypi",
		"npm-debug.log", "**/.npmrc", ".*.swp", ".DS_Store", "**/.DS_Store/**",
		"._*", "**/._*/**", "*.orig", "/archived-packages/**",
	}
	strictDefaults        = []string{"/.git"}
	strictDefaultPatterns = mustCompile(strictDefaults)
)

func mustCompile(lines []string) []*glob.Pattern {
	p, err := compileRules(lines)
	if err != nil {
		panic(err)
	}
	return p
}

// walker walks one folder. Its fields mirror what ignore-walk keeps per
// folder: the rules read there, the parent for inherited decisions, and
// whether the folder was matched exactly (so a parent's exclusion does not
// cut it off).
type walker struct {
	list      *packlist
	dir       string // absolute
	base      string
	sources   []string
	rules     map[string][]*glob.Pattern
	parent    *walker
	exact     bool
	isPackage bool
	required  []string // files under this folder that must be kept
	tree      *node
	rel       string // path from the walk root, "" for the root
	depth     int
}

// packlist accumulates one package walk (including bundled dependencies,
// which start walks of their own that report into the same set).
type packlist struct {
	root   string // absolute package folder
	files  []string
	seen   map[string]bool
	trees  map[string]bool // bundled trees already walked, by real path
	nodes  *nodeLoader
	warned bool
}

func newRootWalker(l *packlist, dir string, tree *node, sources []string, isPackage bool) (*walker, error) {
	w := &walker{list: l, dir: dir, base: filepath.Base(dir), sources: sources, rules: map[string][]*glob.Pattern{}, isPackage: isPackage, tree: tree}
	if err := w.injectDefaults(); err != nil {
		return nil, err
	}
	return w, nil
}

// Every folder starts with the default rules; compile them once.
var (
	defaultPatternsOnce sync.Once
	defaultPatterns     []*glob.Pattern
	defaultPatternsErr  error
)

func (w *walker) injectDefaults() error {
	defaultPatternsOnce.Do(func() {
		defaultPatterns, defaultPatternsErr = compileRules(defaultRuleSet)
	})
	w.rules[srcDefaults] = defaultPatterns
	return defaultPatternsErr
}

func (w *walker) inject(src string, lines []string) error {
	pats, err := compileRules(lines)
	if err != nil {
		return err
	}
	w.rules[src] = pats
	return nil
}

func compileRules(lines []string) ([]*glob.Pattern, error) {
	pats := make([]*glob.Pattern, 0, len(lines))
	for _, l := range lines {
		l = jsvalue.Trim(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		p, err := glob.Compile(l)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", l, err)
		}
		pats = append(pats, p)
	}
	return pats, nil
}

func (w *walker) hasSource(name string) bool {
	for _, s := range w.sources {
		if s == name {
			return true
		}
	}
	return false
}

// walk selects the files under w and adds them to the package list.
func (w *walker) walk() error {
	files, err := w.files()
	for _, f := range files {
		w.list.add(f)
	}
	return err
}

// files returns the selected files under w, in folder order. Sub-folders
// are walked concurrently when a core is free; the result does not depend
// on it.
func (w *walker) files() ([]string, error) {
	if w.depth > maxWalkDepth {
		return nil, fmt.Errorf("%s: folders nested more than %d deep", w.dir, maxWalkDepth)
	}
	dirents, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, fmt.Errorf("reading folder: %w", err)
	}
	entries := make([]string, len(dirents))
	for i, d := range dirents {
		entries[i] = d.Name()
	}
	if len(entries) == 0 {
		return nil, nil
	}
	if !w.isPackage {
		// Files named in "files" directly under this folder are kept
		// whatever the ignore files in it say.
		if len(w.required) == 0 {
			w.rules[srcStrict] = strictDefaultPatterns
		} else {
			lines := append([]string{}, strictDefaults...)
			for _, r := range w.required {
				lines = append(lines, "!"+r)
			}
			if err := w.inject(srcStrict, lines); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range entries {
		if e == "." || e == ".." || !w.hasSource(e) {
			continue
		}
		if e == srcPackage && w.isPackage {
			if err := w.packageRules(); err != nil {
				return nil, err
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(w.dir, e))
		if err != nil {
			return nil, fmt.Errorf("reading ignore file: %w", err)
		}
		pats, err := glob.ParseIgnoreFile(jsvalue.DecodeUTF8(data))
		if err != nil {
			return nil, fmt.Errorf("reading ignore file %s: %w", filepath.Join(w.dir, e), err)
		}
		w.rules[e] = pats
	}
	// Precedence: "files" beats .npmignore, which beats .gitignore. An
	// empty ignore file still counts as present.
	if _, ok := w.rules[srcPackage]; ok {
		delete(w.rules, srcNpmignore)
		delete(w.rules, srcGitignore)
	} else if _, ok := w.rules[srcNpmignore]; ok {
		delete(w.rules, srcGitignore)
	}

	// ignore-walk asks each rule about every name twice, as a file and as
	// a possible folder, before it knows which it is. The folder answer
	// only matters for folders, so ask it only of them: same result, half
	// the matching. Names with '*' are dropped: node-tar cannot write them
	// portably. Symlinks, sockets and devices are never packed.
	type part struct {
		files []string
		err   error
		done  chan struct{}
	}
	var parts []*part
	var flat []string
	flush := func() {
		if len(flat) > 0 {
			parts = append(parts, &part{files: flat})
			flat = nil
		}
	}
	for _, d := range dirents {
		name := d.Name()
		switch t := d.Type(); {
		case t.IsRegular():
			if w.included(name, false, "") && !strings.Contains(name, "*") {
				flat = append(flat, w.rel+name)
			}
		case t.IsDir():
			asFile := w.included(name, false, "")
			if !w.included(name, true, "") || strings.Contains(name, "*") {
				continue
			}
			child := w.child(name, asFile || w.included(name+"/", false, ""))
			flush()
			p := &part{}
			parts = append(parts, p)
			select {
			case walkSlots <- struct{}{}:
				p.done = make(chan struct{})
				go func() {
					defer func() { <-walkSlots; close(p.done) }()
					p.files, p.err = child.files()
				}()
			default:
				p.files, p.err = child.files()
			}
		}
	}
	flush()
	var out []string
	var firstErr error
	for _, p := range parts {
		if p.done != nil {
			<-p.done
		}
		if p.err != nil && firstErr == nil {
			firstErr = p.err
		}
		out = append(out, p.files...)
	}
	return out, firstErr
}

// walkSlots bounds the goroutines walking folders to the cores there are.
var walkSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func (w *walker) child(name string, exact bool) *walker {
	sources := childSources
	if w.tree != nil && w.tree.manifest != nil && w.tree.manifest.Workspaces {
		// With workspaces npm-packlist gives sub-folders the root's
		// list, package.json included, and then reads a sub-folder's
		// package.json as an ignore file. Odd, but it is what npm packs.
		sources = rootSources
	}
	var required []string
	for _, f := range w.required {
		if rest, ok := strings.CutPrefix(path.Clean(f), name+"/"); ok && !strings.Contains(rest, "/") {
			required = append(required, rest)
		}
	}
	c := &walker{
		list: w.list, dir: w.dir + "/" + name, base: name, sources: sources,
		rules: map[string][]*glob.Pattern{}, parent: w, exact: exact,
		required: required, tree: w.tree, rel: w.rel + name + "/", depth: w.depth + 1,
	}
	_ = c.injectDefaults() // compiled already by the root walker
	return c
}

// included reports whether entry (a name in this folder, or a path below
// it when asked by a child) is kept. dirMode asks whether it could be a
// folder holding kept files.
func (w *walker) included(entry string, dirMode bool, entryBase string) bool {
	keep := true
	if w.parent != nil {
		pb := entryBase
		if pb == "" {
			pb = entry
		}
		keep = w.parent.included(w.base+"/"+entry, dirMode, pb)
		if !keep && !w.exact {
			return false
		}
	}
	var f forms
	for _, src := range w.sources {
		for _, r := range w.rules[src] {
			if r.Negate() == keep {
				continue
			}
			if f.entry == "" {
				f = newForms(entry, entryBase)
			}
			if f.matches(r, dirMode) {
				keep = r.Negate()
			}
		}
	}
	return keep
}

// forms are the spellings of one path ignore-walk tries a rule against,
// built once per path rather than once per rule.
type forms struct {
	entry, slashEntry, entrySlash, slashEntrySlash string
	base, slashBaseSlash, baseSlash, slashBase     string
}

func newForms(entry, base string) forms {
	// Each form is a slice of "/entry/" (one allocation, not four).
	all := "/" + entry + "/"
	n := len(all)
	f := forms{entry: all[1 : n-1], slashEntry: all[:n-1], entrySlash: all[1:], slashEntrySlash: all}
	if base != "" {
		all := "/" + base + "/"
		n := len(all)
		f.base, f.slashBase, f.baseSlash, f.slashBaseSlash = all[1:n-1], all[:n-1], all[1:], all
	}
	return f
}

// matches is ignore-walk's test: the path with and without a leading
// slash; for a possible folder also with a trailing slash, as a partial
// match for negations, and by base name for rules without a slash.
func (f *forms) matches(r *glob.Pattern, dirMode bool) bool {
	if r.Match(f.slashEntry, false) || r.Match(f.entry, false) {
		return true
	}
	if !dirMode {
		return false
	}
	if r.Match(f.slashEntrySlash, false) || r.Match(f.entrySlash, false) {
		return true
	}
	if r.Negate() && (r.Match(f.slashEntry, true) || r.Match(f.entry, true)) {
		return true
	}
	if f.base != "" && r.Relative() {
		if r.Match(f.slashBaseSlash, false) || r.Match(f.baseSlash, false) {
			return true
		}
		if r.Negate() && (r.Match(f.slashBase, true) || r.Match(f.base, true)) {
			return true
		}
	}
	return false
}

// packageRules turns package.json into the "files" rule set and the
// strict set of files that are always or never packed.
func (w *walker) packageRules() error {
	m := w.tree.manifest
	var ignores []string
	strict := append([]string{}, strictDefaults...)
	strict = append(strict,
		"!/package.json",
		"!/readme{,.*[^~$]}", "!/copying{,.*[^~$]}", "!/license{,.*[^~$]}", "!/licence{,.*[^~$]}",
		"/.git", "/node_modules", ".npmrc",
		"/package-lock.json", "/yarn.lock", "/pnpm-lock.yaml", "/bun.lockb",
	)
	if m.Files != nil {
		var strictFront []string
		for _, file := range m.Files {
			if strings.HasPrefix(file, "./") {
				file = file[1:]
			}
			if strings.HasSuffix(file, "/*") {
				file += "*"
			}
			inverse := "!" + file
			st, err := os.Lstat(nodeJoin(w.dir, strings.TrimLeft(file, "!")))
			switch {
			case err != nil:
				ignores = append(ignores, inverse)
			case st.Mode().IsRegular():
				strictFront = append([]string{inverse}, strictFront...)
				w.required = append(w.required, strings.TrimPrefix(file, "/"))
			case st.IsDir():
				ignores = append(ignores, inverse, inverse+"/**")
			}
		}
		strict = append(strictFront, strict...)
		if err := w.inject(srcPackage, append([]string{"*"}, ignores...)); err != nil {
			return fmt.Errorf(`"files" in %s: %w`, filepath.Join(w.dir, "package.json"), err)
		}
	}
	if m.Browser != "" {
		strict = append(strict, "!/"+m.Browser)
	}
	if m.Main != "" {
		strict = append(strict, "!/"+m.Main)
	}
	for _, target := range sortedValues(m.Bin) {
		strict = append(strict, "!/"+target)
	}
	if err := w.inject(srcStrict, strict); err != nil {
		return fmt.Errorf("package.json in %s: %w", w.dir, err)
	}
	return nil
}

func (l *packlist) add(rel string) {
	if !l.seen[rel] {
		l.seen[rel] = true
		l.files = append(l.files, rel)
	}
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// nodeJoin is Node's path.join: like filepath.Join, but a trailing slash
// survives, so that lstat of "file.js/" fails as it does for npm.
func nodeJoin(dir, rel string) string {
	p := filepath.Join(dir, rel)
	if strings.HasSuffix(rel, "/") && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
