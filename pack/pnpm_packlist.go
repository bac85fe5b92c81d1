package pack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/glob"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

// pnpm 10 selects files with npm-packlist 5.1.3 on ignore-walk 5.0.1, an
// older algorithm than npm 11's (packlist.go): "files" entries are globbed
// at the root and the matches walked, README/LICENSE/COPYING files are kept
// in every folder walked, a nested node_modules is packed, and rules are
// matched without ignore-walk 8's base-name forms. pnpmFiles is that
// algorithm; pnpm never bundles dependencies without the hoisted linker,
// and the caller refuses them.

// npm-packlist 5's rule sets, in the order ignore-walk asks them.
const srcNecessary = "\x00necessary"

var (
	v5Sources  = []string{srcDefaults, srcPackage, srcNpmignore, srcGitignore, srcNecessary}
	v5Defaults = []string{
		".npmignore", ".gitignore",
		"**/.git", "**/.svn", "**/.hg", "**/CVS",
		"**/.git/**", "**/.svn/**", "**/.hg/**", "**/CVS/**",
		"/.lock-wscript", "/.wafpickle-*", "/build/config.gypi",
		"npm-debug.log", "**/.npmrc", ".*.swp", ".DS_Store", "**/.DS_Store/**",
		"._*", "**/._*/**", "*.orig",
		"/package-lock.json", "/yarn.lock", "/pnpm-lock.yaml",
		"/archived-packages/**",
	}
	v5MustHave       = regexp.MustCompile(`(?i)^(readme|copying|license|licence)(\..*[^~$])?$`)
	v5MustHaveGlob   = "@(readme|copying|license|licence){,.*[^~$]}"
	v5InNodeModules  = regexp.MustCompile(`(?i)^node_modules($|/)`)
	v5DefaultRules   []*glob.Pattern
	v5DefaultRuleErr error
)

func init() {
	v5DefaultRules, v5DefaultRuleErr = compileRules(v5Defaults)
}

// v5Walker walks one folder as npm-packlist 5's Walker does.
type v5Walker struct {
	list    *v5List
	dir     string // absolute
	rel     string // from the package root, "" for it
	base    string // the name the parent asks about this folder by
	parent  *v5Walker
	project bool
	rules   map[string][]*glob.Pattern
	depth   int
}

type v5List struct {
	root  string
	files []string
	seen  map[string]bool
	pkg   *jsObject // normalized as npm-packlist normalizes it
	// hasFiles says "files" is set; filesRules is it after globbing, as
	// the root's package.json rules see it.
	hasFiles   bool
	filesRules []string
	// rootEntries replace the root's folder listing when "files" is set.
	rootEntries []string
}

// pnpmFiles returns the files pnpm 10 packs from dir for the publish
// manifest pkg, unsorted.
func pnpmFiles(dir string, pkg *jsObject) ([]string, error) {
	if v5DefaultRuleErr != nil {
		return nil, v5DefaultRuleErr
	}
	l := &v5List{root: dir, seen: map[string]bool{}, pkg: v5NormalizeBin(pkg.clone())}
	if files, ok := l.pkg.get("files"); ok {
		if list, ok := files.([]any); ok {
			if err := l.globFiles(list); err != nil {
				return nil, err
			}
		}
	}
	w := &v5Walker{list: l, dir: dir, project: true, rules: map[string][]*glob.Pattern{srcDefaults: v5DefaultRules}}
	if err := w.walk(); err != nil {
		return nil, err
	}
	return l.files, nil
}

// mustHaves are the files npm-packlist 5 always wants, as rules.
func (l *v5List) mustHaves() []string {
	var out []string
	if b, ok := l.pkg.get("browser"); ok && jsvalue.Truthy(toPlain(b)) {
		out = append(out, "/"+jsvalue.String(toPlain(b)))
	}
	if m, ok := l.pkg.get("main"); ok && jsvalue.Truthy(toPlain(m)) {
		out = append(out, "/"+jsvalue.String(toPlain(m)))
	}
	if bin := l.pkg.object("bin"); bin != nil {
		for _, k := range bin.order() {
			out = append(out, "/"+jsvalue.String(toPlain(bin.vals[k])))
		}
	}
	return append(out, "/package.json", "/npm-shrinkwrap.json", "!/package-lock.json", v5MustHaveGlob)
}

// globFiles turns "files" into the root's entries and rules: each entry
// (the must-haves appended) globbed in order, negated ones removing what
// they match.
func (l *v5List) globFiles(files []any) error {
	patterns := make([]string, 0, len(files))
	for _, f := range files {
		s, ok := f.(string)
		if !ok {
			return fmt.Errorf(`"files" holds %s, which pnpm cannot read as a pattern`, jsvalue.String(toPlain(f)))
		}
		patterns = append(patterns, s)
	}
	patterns = append(patterns, l.mustHaves()...)
	seen := map[string]bool{}
	var set, negates orderedSet
	for _, p := range patterns {
		if seen[p] {
			continue
		}
		seen[p] = true
		bangs := len(p) - len(strings.TrimLeft(p, "!"))
		pat := v5LeadingSlash.ReplaceAllString(p[bangs:], "")
		matches, err := globV8(l.root, strings.ReplaceAll(pat, `\`, "/"))
		if err != nil {
			return err
		}
		for _, m := range matches {
			m = strings.TrimRight(m, "/")
			if bangs%2 == 1 {
				set.remove(m)
				negates.add(m)
			} else {
				set.add(m)
				negates.remove(m)
			}
		}
	}
	l.hasFiles = true
	l.filesRules = append([]string(nil), set...)
	for _, m := range negates {
		l.filesRules = append(l.filesRules, "!"+m)
	}
	entries := map[string]bool{}
	for _, m := range set {
		m = strings.TrimLeft(m, "/")
		if !entries[m] {
			entries[m] = true
			l.rootEntries = append(l.rootEntries, m)
		}
	}
	return nil
}

var v5LeadingSlash = regexp.MustCompile(`^\.?/+`)

// orderedSet is a JavaScript Set of strings: insertion order, and a value
// added again after removal goes last.
type orderedSet []string

func (s *orderedSet) add(v string) {
	for _, x := range *s {
		if x == v {
			return
		}
	}
	*s = append(*s, v)
}

func (s *orderedSet) remove(v string) {
	for i, x := range *s {
		if x == v {
			*s = append((*s)[:i:i], (*s)[i+1:]...)
			return
		}
	}
}

func (w *v5Walker) walk() error {
	if w.depth > maxWalkDepth {
		return fmt.Errorf("%s: folders nested more than %d deep", w.dir, maxWalkDepth)
	}
	dirents, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("reading folder: %w", err)
	}
	var entries []string
	for _, d := range dirents {
		entries = append(entries, d.Name())
	}
	if w.project {
		kept := entries[:0]
		for _, e := range entries {
			if e != ".git" && e != "node_modules" {
				kept = append(kept, e)
			}
		}
		entries = kept
		if w.list.hasFiles && contains(entries, "package.json") {
			entries = w.list.rootEntries
		}
	}
	for _, e := range entries {
		switch e {
		case srcPackage:
			if !w.project {
				continue
			}
			if w.list.hasFiles {
				if err := w.injectNegated(srcPackage, w.list.filesRules); err != nil {
					return err
				}
			} else if err := w.injectNegated(srcNecessary, w.list.mustHaves()); err != nil {
				return err
			}
		case srcNpmignore, srcGitignore:
			data, err := os.ReadFile(filepath.Join(w.dir, e))
			if err != nil {
				return fmt.Errorf("reading ignore file: %w", err)
			}
			pats, err := glob.ParseIgnoreFile(jsvalue.DecodeUTF8(data))
			if err != nil {
				return fmt.Errorf("reading ignore file %s: %w", filepath.Join(w.dir, e), err)
			}
			w.rules[e] = pats
		}
	}
	if _, ok := w.rules[srcNpmignore]; ok {
		delete(w.rules, srcGitignore)
	}
	for _, e := range entries {
		passFile, passDir := w.filter(e, false), w.filter(e, true)
		if (!passFile && !passDir) || strings.Contains(e, "*") {
			continue
		}
		abs := w.dir + "/" + e
		st, err := os.Lstat(abs)
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			// npm-packlist 5 never packs a link
		case st.IsDir():
			if passDir {
				c := &v5Walker{list: w.list, dir: abs, rel: joinRel(w.rel, e), base: path.Base(e), parent: w, rules: map[string][]*glob.Pattern{}, depth: w.depth + 1}
				if err := c.walk(); err != nil {
					return err
				}
			}
		default:
			if passFile {
				w.list.add(joinRel(w.rel, e))
			}
		}
	}
	return nil
}

func (w *v5Walker) injectNegated(src string, lines []string) error {
	neg := make([]string, len(lines))
	for i, l := range lines {
		neg[i] = "!" + l
	}
	return w.injectLines(src, neg)
}

func (w *v5Walker) injectLines(src string, lines []string) error {
	pats, err := compileRules(lines)
	if err != nil {
		return fmt.Errorf("package.json in %s: %w", w.dir, err)
	}
	w.rules[src] = pats
	return nil
}

// filter is npm-packlist 5's filterEntry over ignore-walk 5's.
func (w *v5Walker) filter(entry string, partial bool) bool {
	switch {
	case !w.project && v5InNodeModules.MatchString(w.rel):
		return w.parent.filter(w.base+"/"+entry, partial)
	case w.project && v5PathHasPkg(entry):
		return false // not bundled: pnpm bundles nothing here
	case w.project && entry == "node_modules":
		return false
	case w.project && entry == "package.json":
		return true
	case v5MustHave.MatchString(entry):
		return true
	case w.project && entry == "npm-shrinkwrap.json":
		return true
	case w.project && entry == "package-lock.json":
		return false
	}
	included := true
	if w.parent != nil {
		included = w.parent.filter(w.base+"/"+entry, partial)
	}
	f := newForms(entry, "")
	for _, src := range v5Sources {
		for _, r := range w.rules[src] {
			if r.Negate() == included {
				continue
			}
			if f.matches(r, partial) {
				included = r.Negate()
			}
		}
	}
	return included
}

func v5PathHasPkg(p string) bool {
	rest, ok := strings.CutPrefix(p, "node_modules/")
	if !ok {
		return false
	}
	first, _, more := strings.Cut(rest, "/")
	return !strings.HasPrefix(first, "@") || more
}

func (l *v5List) add(rel string) {
	if !l.seen[rel] {
		l.seen[rel] = true
		l.files = append(l.files, rel)
	}
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// v5NormalizeBin is npm-normalize-package-bin 2: bin as an object of
// clean command names to clean relative paths, or no bin.
func v5NormalizeBin(pkg *jsObject) *jsObject {
	raw, ok := pkg.get("bin")
	if !ok || !jsvalue.Truthy(toPlain(raw)) {
		pkg.del("bin")
		return pkg
	}
	orig := newJSObject()
	switch b := raw.(type) {
	case string:
		name, ok := pkg.get("name")
		if !ok || !jsvalue.Truthy(toPlain(name)) {
			pkg.del("bin")
			return pkg
		}
		orig.set(jsvalue.String(toPlain(name)), b)
	case []any:
		for _, k := range b {
			ks := jsvalue.String(toPlain(k))
			orig.set(path.Base(ks), k)
		}
	case *jsObject:
		orig = b
	default:
		pkg.del("bin")
		return pkg
	}
	clean := newJSObject()
	for _, k := range orig.order() {
		base := strings.TrimPrefix(path.Join("/", path.Base(strings.NewReplacer(`\`, "/", ":", "/").Replace(k))), "/")
		target, ok := orig.vals[k].(string)
		if !ok || base == "" {
			continue
		}
		t := strings.TrimPrefix(strings.ReplaceAll(path.Join("/", target), `\`, "/"), "/")
		if t == "" {
			continue
		}
		clean.set(base, t)
	}
	if len(clean.keys) == 0 {
		pkg.del("bin")
	} else {
		pkg.set("bin", clean)
	}
	return pkg
}

// globV8 is glob 8's glob(pattern, {dot: true, cwd: root, nocase: true})
// as npm-packlist 5 calls it: paths relative to root, files and folders.
// A pattern without magic names one path, with its case as written; the
// magic part of a pattern ignores case. Links are not followed.
func globV8(root, pattern string) ([]string, error) {
	if pattern == "" {
		return nil, nil
	}
	segs := strings.Split(strings.TrimRight(pattern, "/"), "/")
	lit := 0
	for lit < len(segs) && !globMagic(segs[lit]) {
		lit++
	}
	if lit == len(segs) {
		st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil || (strings.HasSuffix(pattern, "/") && !st.IsDir()) {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	p, err := glob.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("\"files\" pattern %q: %w", pattern, err)
	}
	prefix := strings.Join(segs[:lit], "/")
	start := filepath.Join(root, filepath.FromSlash(prefix))
	if st, err := os.Lstat(start); err != nil || !st.IsDir() {
		return nil, nil
	}
	maxDepth := len(segs) - lit
	if strings.Contains(pattern, "**") {
		maxDepth = maxWalkDepth
	}
	dirsOnly := strings.HasSuffix(pattern, "/")
	var out []string
	var walk func(dir, rel string, depth int) error
	walk = func(dir, rel string, depth int) error {
		if depth > maxDepth {
			return nil
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		for _, e := range entries {
			r := joinRel(rel, e.Name())
			// A pattern of one segment matches top-level names only
			// (Compile's matchBase must not reach deeper).
			switch {
			case len(segs) == 1 && depth > 1:
			case dirsOnly:
				if e.IsDir() && p.Match(r+"/", false) {
					out = append(out, r+"/")
				}
			case p.Match(r, false):
				out = append(out, r)
			}
			if e.IsDir() && e.Name() != ".git" {
				if err := walk(filepath.Join(dir, e.Name()), r, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(start, prefix, 1); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

func globMagic(seg string) bool { return strings.ContainsAny(seg, "*?[]{}()+@!") }
