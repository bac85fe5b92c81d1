package pack

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlockdev/airlock/internal/glob"
	"github.com/airlockdev/airlock/internal/manifest"
)

// node is one package folder as npm's arborist sees it when it loads the
// installed tree: where it is reached (path), where it really lives
// (real), and its normalized package.json.
type node struct {
	path   string
	real   string
	isLink bool
	isRoot bool
	// linkTarget marks the real folder behind a linked dependency; arborist
	// treats it as a tree top, which loads its devDependencies too.
	linkTarget bool
	manifest   *manifest.Manifest
}

// nodeLoader resolves dependency names to installed folders with Node's
// lookup: the nearest node_modules walking up from the dependent.
type nodeLoader struct {
	root  string // real path of the package being packed
	cache map[string]*node
}

func (l *nodeLoader) load(p string) (*node, error) {
	if n, ok := l.cache[p]; ok {
		return n, nil
	}
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	n := &node{path: p, real: p}
	if st.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, err
		}
		n.real, _ = filepath.Abs(real)
		n.isLink = true
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", p)
	}
	m, err := manifest.Read(n.real)
	if err != nil {
		// arborist keeps a node whose package.json is unreadable, with
		// an empty package.
		m = &manifest.Manifest{Raw: map[string]any{}}
	}
	n.manifest = m
	l.cache[p] = n
	return n, nil
}

// resolve finds the folder a dependency name resolves to from n, or nil.
func (l *nodeLoader) resolve(from *node, name string) *node {
	if strings.HasPrefix(name, ".") || strings.Contains(name, "/.") || name == "" {
		return nil
	}
	stop := commonAncestor(from.real, l.root)
	for dir := from.real; ; dir = filepath.Dir(dir) {
		if rel, err := filepath.Rel(stop, dir); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil
		}
		if n, err := l.load(filepath.Join(dir, "node_modules", name)); err == nil {
			return n
		}
		if from.isRoot || dir == filepath.Dir(dir) {
			return nil
		}
	}
}

func commonAncestor(a, b string) string {
	as := strings.Split(a, string(filepath.Separator))
	bs := strings.Split(b, string(filepath.Separator))
	i := 0
	for i < len(as) && i < len(bs) && as[i] == bs[i] {
		i++
	}
	if i <= 1 {
		return string(filepath.Separator)
	}
	return strings.Join(as[:i], string(filepath.Separator))
}

// edgeKind is how arborist classifies a dependency edge; a name listed
// in several fields takes the kind of the field read last.
type edgeKind int

const (
	edgeNone edgeKind = iota
	edgeProd
	edgePeer
	edgeDev
)

func edges(n *node, top bool) map[string]edgeKind {
	m := n.manifest
	e := map[string]edgeKind{}
	for _, k := range m.PeerDependencies {
		e[k] = edgePeer
	}
	for _, k := range m.PeerOptionalDependencies {
		e[k] = edgePeer
	}
	for _, k := range m.Dependencies {
		e[k] = edgeProd
	}
	for _, k := range m.OptionalDependencies {
		e[k] = edgeProd
	}
	if top {
		for _, k := range m.DevDependencies {
			e[k] = edgeDev
		}
	}
	return e
}

// gatherBundles adds the files of the dependencies tree bundles: for the
// package itself its bundleDependencies, for a bundled package all its
// production and optional dependencies, recursively.
func (l *packlist) gatherBundles(tree *node) error {
	if l.trees[tree.real] {
		return nil
	}
	l.trees[tree.real] = true
	var names []string
	if tree.isRoot {
		names = tree.manifest.BundleDependencies
	} else {
		names = append(append([]string{}, tree.manifest.Dependencies...), tree.manifest.OptionalDependencies...)
	}
	kinds := edges(tree, tree.isRoot || tree.linkTarget)
	for _, name := range names {
		if k := kinds[name]; k == edgeNone || k == edgePeer || k == edgeDev {
			continue
		}
		dep := l.nodes.resolve(tree, name)
		if dep == nil {
			continue
		}
		target := dep
		if dep.isLink {
			target = &node{path: dep.real, real: dep.real, manifest: dep.manifest, linkTarget: true}
		}
		sources := []string{srcPackage, srcStrict}
		if dep.isLink {
			sources = rootSources
		}
		w, err := newRootWalker(l, dep.path, target, sources, true)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(l.root, dep.path)
		if err != nil || strings.HasPrefix(rel, "..") {
			// A linked dependency outside the package cannot be put in
			// the tarball under node_modules: npm would write paths
			// that climb out of package/.
			return fmt.Errorf("bundled dependency %s resolves to %s, outside the package", name, dep.path)
		}
		w.rel = filepath.ToSlash(rel) + "/"
		if err := w.walk(); err != nil {
			return fmt.Errorf("bundling %s: %w", name, err)
		}
		if err := l.gatherBundles(target); err != nil {
			return err
		}
	}
	return nil
}

// collect walks the package in dir and returns the selected files in
// npm's order.
func collect(dir string) ([]string, *manifest.Manifest, error) {
	return collectWith(dir, nil)
}

// collectWith is collect with extra default ignore rules for the package
// root, as npm adds a workspace root's ignore files for a workspace.
func collectWith(dir string, extraDefaults []string) ([]string, *manifest.Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Read(abs)
	if err != nil {
		return nil, nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, nil, err
	}
	root := &node{path: real, real: real, isRoot: true, manifest: m}
	l := &packlist{root: real, seen: map[string]bool{}, trees: map[string]bool{}, nodes: &nodeLoader{root: real, cache: map[string]*node{}}}
	w, err := newRootWalker(l, real, root, rootSources, true)
	if err != nil {
		return nil, nil, err
	}
	if len(extraDefaults) > 0 {
		extra, err := compileRules(extraDefaults)
		if err != nil {
			return nil, nil, fmt.Errorf("workspace ignore rules: %w", err)
		}
		w.rules[srcDefaults] = append(append([]*glob.Pattern(nil), defaultPatterns...), extra...)
	}
	if err := w.walk(); err != nil {
		return nil, nil, err
	}
	if err := l.gatherBundles(root); err != nil {
		return nil, nil, err
	}
	files := make([]string, len(l.files))
	for i, f := range l.files {
		if strings.HasPrefix(f, "@") {
			f = "./" + f
		}
		files[i] = f
	}
	sortPackOrder(files)
	return files, m, nil
}
