package pack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/airlockdev/airlock/internal/glob"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/lifecycle"
	"github.com/airlockdev/airlock/internal/workspace"
)

// yarnPacker packs a workspace package as yarn 4's `yarn npm publish`
// would: prepublish and prepack, run by yarn itself (`yarn run`: yarn's
// shell and, with Plug'n'Play, its loader are not npm's), the manifest its
// beforeWorkspacePacking hooks write (publishConfig fields, workspace:,
// catalog: and jsr: specs), yarn's own file selection (packUtils), and its
// modes (0755 for bin targets and publishConfig.executableFiles, 0644
// otherwise). Yarn packs symbolic links; airlock publish refuses links, so
// one selected is an error here.
type yarnPacker struct {
	dir  string
	ws   *workspace.Workspace
	opts Options
	// postpack is package.json's postpack script as read after prepack,
	// as yarn reloads the manifest then.
	postpack bool
	name     string
	version  string
}

func (p *yarnPacker) beforePack(ctx context.Context) error {
	if p.opts.IgnoreScripts {
		return nil
	}
	m, err := lifecycle.ReadManifest(p.dir)
	if err != nil {
		return err
	}
	scripts, _ := m["scripts"].(map[string]any)
	for _, event := range []string{"prepublish", "prepack"} {
		if _, ok := scripts[event].(string); ok {
			if err := p.run(ctx, event, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *yarnPacker) afterPack(ctx context.Context, integrity string) error {
	if p.opts.IgnoreScripts || !p.postpack {
		return nil
	}
	return p.run(ctx, "postpack", map[string]any{"name": p.name, "version": p.version})
}

// run runs a script through `yarn run`, in the package folder.
func (p *yarnPacker) run(ctx context.Context, event string, m map[string]any) error {
	if _, err := lookPathIn("yarn", p.opts.Env); err != nil {
		return hint.With(fmt.Errorf("running the %s script of %s: yarn is not on PATH: airlock runs a yarn package's scripts with `yarn run`, as yarn pack runs them", event, p.dir),
			"put yarn on PATH first (corepack enable), and install the project (yarn install), or pack with --ignore-scripts")
	}
	name, _ := m["name"].(string)
	version, _ := m["version"].(string)
	r := &lifecycle.Runner{
		Dir: p.dir, Env: p.opts.Env,
		Manifest: map[string]any{"name": name, "version": version, "scripts": map[string]any{event: "yarn run " + event}},
		Stdout:   orDiscard(p.opts.Stdout), Stderr: orDiscard(p.opts.Stderr), Logger: p.opts.Logger,
	}
	if banner, err := r.Banner(event); err == nil {
		fmt.Fprint(orDiscard(p.opts.Stderr), banner)
	}
	return r.Run(ctx, event, nil)
}

func (p *yarnPacker) contents(ctx context.Context) (*contents, error) {
	pkgFile := filepath.Join(p.dir, "package.json")
	m, err := readJSObject(pkgFile)
	if err != nil {
		return nil, err
	}
	v := readYarnManifest(m)
	p.name, _ = m.str("name")
	p.version, _ = m.str("version")
	_, p.postpack = v.scripts["postpack"]
	out, err := yarnExport(m, v, p.dir, p.ws)
	if err != nil {
		return nil, &pnpmError{file: pkgFile, err: err}
	}
	files, err := yarnFiles(p.dir, v, p.ws)
	if err != nil {
		return nil, fmt.Errorf("selecting files: %w", err)
	}
	exec := map[string]bool{}
	for _, f := range v.executableFiles {
		exec[path.Clean(f)] = true
	}
	for _, b := range v.bin {
		exec[path.Clean(b[1])] = true
	}
	pkgJSON := stringifyJS(out)
	st, err := newStage()
	if err != nil {
		return nil, err
	}
	for _, rel := range files {
		src := filepath.Join(p.dir, filepath.FromSlash(rel))
		fi, err := os.Lstat(src)
		if err != nil {
			st.remove()
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			st.remove()
			target, _ := os.Readlink(src)
			return nil, hint.With(fmt.Errorf("%s is a symbolic link (to %s), which yarn would pack as a link and airlock publish refuses", src, target),
				"replace the link with the file it points to, or leave it out (.npmignore, or \"files\" in package.json)")
		}
		mode := fs.FileMode(0o644)
		if exec[rel] {
			mode = 0o755
		}
		if rel == "package.json" {
			err = st.writeFile(rel, pkgJSON, mode)
		} else {
			err = st.copyFile(rel, src, mode)
		}
		if err != nil {
			st.remove()
			return nil, err
		}
	}
	return st.contents(pkgFile, pkgJSON, p.dir, files)
}

// yarnManifest is what yarn's Manifest.load keeps of package.json, for
// the parts of packing that read it rather than the raw document.
type yarnManifest struct {
	name string // without the scope, for a string bin
	bin  [][2]string
	// main, module, browser as yarn reads them, with publishConfig's
	// taking precedence (backslashes made slashes).
	main, module, browser *string
	browserMap            [][2]string
	binForFiles           [][2]string
	files                 []string
	hasFiles              bool
	executableFiles       []string
	scripts               map[string]string
	// deps are the descriptors of dependencies (optionalDependencies
	// included), devDependencies and peerDependencies, in yarn's order.
	deps     map[string][][2]string
	optional map[string]bool
}

var (
	yarnIdent      = regexp.MustCompile(`^(?:@([^/]+?)/)?([^@/]+)$`)
	yarnDescriptor = regexp.MustCompile(`^(?:@([^/]+?)/)?([^@/]+?)(?:@(.+))?$`)
	yarnStrictDesc = regexp.MustCompile(`^(?:@([^/]+?)/)?([^@/]+?)(?:@(.+))$`)
)

func slashes(s string) string { return strings.ReplaceAll(s, `\`, "/") }

func readYarnManifest(m *jsObject) *yarnManifest {
	v := &yarnManifest{scripts: map[string]string{}, deps: map[string][][2]string{}, optional: map[string]bool{}}
	if n, ok := m.str("name"); ok {
		if g := yarnIdent.FindStringSubmatch(n); g != nil {
			v.name = g[2]
		}
	}
	strPtr := func(o *jsObject, k string) *string {
		if s, ok := o.str(k); ok {
			s = slashes(s)
			return &s
		}
		return nil
	}
	v.main, v.module = strPtr(m, "main"), strPtr(m, "module")
	readBrowser := func(o *jsObject) (*string, [][2]string, bool) {
		b, ok := o.get("browser")
		if !ok || b == nil {
			return nil, nil, false
		}
		if s, ok := b.(string); ok {
			s = slashes(s)
			return &s, nil, true
		}
		var pairs [][2]string
		if bo, ok := b.(*jsObject); ok {
			for _, k := range bo.order() {
				val, _ := bo.vals[k].(string)
				pairs = append(pairs, [2]string{slashes(k), slashes(val)})
			}
		}
		return nil, pairs, true
	}
	v.browser, v.browserMap, _ = readBrowser(m)
	switch b := m.vals["bin"].(type) {
	case string:
		if strings.TrimSpace(b) != "" && v.name != "" {
			v.bin = append(v.bin, [2]string{v.name, slashes(b)})
		}
	case *jsObject:
		for _, k := range b.order() {
			s, ok := b.vals[k].(string)
			g := yarnIdent.FindStringSubmatch(k)
			if !ok || strings.TrimSpace(s) == "" || g == nil {
				continue
			}
			v.bin = append(v.bin, [2]string{g[2], slashes(s)})
		}
	}
	v.binForFiles = v.bin
	if files, ok := m.vals["files"].([]any); ok {
		v.hasFiles = true
		for _, f := range files {
			if s, ok := f.(string); ok {
				v.files = append(v.files, s)
			}
		}
	}
	if pc := m.object("publishConfig"); pc != nil {
		if s := strPtr(pc, "main"); s != nil {
			v.main = s
		}
		if s := strPtr(pc, "module"); s != nil {
			v.module = s
		}
		if s, pairs, ok := readBrowser(pc); ok {
			v.browser, v.browserMap = s, pairs
		}
		switch b := pc.vals["bin"].(type) {
		case string:
			if v.name != "" {
				v.binForFiles = [][2]string{{v.name, slashes(b)}}
			}
		case *jsObject:
			v.binForFiles = nil
			for _, k := range b.order() {
				if s, ok := b.vals[k].(string); ok {
					v.binForFiles = append(v.binForFiles, [2]string{k, slashes(s)})
				}
			}
		}
		if list, ok := pc.vals["executableFiles"].([]any); ok {
			for _, f := range list {
				if s, ok := f.(string); ok {
					v.executableFiles = append(v.executableFiles, slashes(s))
				}
			}
		}
	}
	if s := m.object("scripts"); s != nil {
		for _, k := range s.order() {
			if str, ok := s.vals[k].(string); ok {
				v.scripts[k] = str
			}
		}
	}
	add := func(scope string, pair [2]string) {
		for i, d := range v.deps[scope] {
			if d[0] == pair[0] {
				v.deps[scope][i][1] = pair[1]
				return
			}
		}
		v.deps[scope] = append(v.deps[scope], pair)
	}
	for _, field := range []string{"dependencies", "devDependencies", "peerDependencies", "optionalDependencies"} {
		o := m.object(field)
		if o == nil {
			continue
		}
		scope := field
		if field == "optionalDependencies" {
			scope = "dependencies"
		}
		for _, k := range o.order() {
			s, ok := o.vals[k].(string)
			if yarnIdent.FindStringSubmatch(k) == nil {
				continue
			}
			if field == "peerDependencies" {
				if _, valid := validRange(s); !ok || (!strings.HasPrefix(s, "workspace:") && !valid) {
					s = "*"
				}
			} else if !ok {
				continue
			}
			add(scope, [2]string{k, s})
			if field == "optionalDependencies" {
				v.optional[k] = true
			}
		}
	}
	if meta := m.object("dependenciesMeta"); meta != nil {
		for _, k := range meta.order() {
			g := yarnDescriptor.FindStringSubmatch(k)
			mo, ok := meta.vals[k].(*jsObject)
			if g == nil || !ok || g[3] != "" {
				continue
			}
			if opt, ok := mo.vals["optional"].(bool); ok && opt {
				v.optional[k] = true
			}
		}
	}
	return v
}

// yarnExport runs yarn 4's beforeWorkspacePacking hooks on a copy of the
// manifest: the pack plugin's (publishConfig fields, workspace: specs),
// the typescript plugin's (publishConfig typings and types), the catalog
// plugin's and the jsr plugin's.
func yarnExport(m *jsObject, v *yarnManifest, dir string, ws *workspace.Workspace) (*jsObject, error) {
	out := m.clone()
	if pc := out.object("publishConfig"); pc != nil {
		// The pack plugin's fields, then the typescript plugin's.
		for _, k := range []string{"type", "main", "browser", "module", "exports", "imports", "bin", "typings", "types"} {
			if val, ok := pc.get(k); ok && jsvalue.Truthy(val) {
				out.set(k, val)
			}
		}
	}
	wss, err := yarnWorkspaces(ws)
	if err != nil {
		return nil, err
	}
	write := func(scope, name, spec string) error {
		target := scope
		if scope == "dependencies" && v.optional[name] {
			target = "optionalDependencies"
		}
		obj := out.object(target)
		if obj == nil {
			return fmt.Errorf("%s %q: yarn writes its published spec into %s, which package.json does not have", scope, name, target)
		}
		obj.set(name, spec)
		return nil
	}
	for _, scope := range []string{"dependencies", "devDependencies", "peerDependencies"} {
		for _, d := range v.deps[scope] {
			name, spec := d[0], d[1]
			if strings.HasPrefix(spec, "jsr:") {
				s, err := jsrSpecYarn(name, spec[len("jsr:"):])
				if err != nil {
					return nil, fmt.Errorf("%s %q: %w", scope, name, err)
				}
				if err := write(scope, name, s); err != nil {
					return nil, err
				}
				continue
			}
			r, err := parseYarnRange(spec)
			if err != nil || r.protocol != "workspace:" {
				continue
			}
			target := wss.byDescriptor(name, spec, ws.Root)
			if target == nil {
				if wss.byName(name) == nil {
					return nil, hint.With(fmt.Errorf("%s %q is %q: no local workspace found for this range (yarn: WORKSPACE_NOT_FOUND)", scope, name, spec),
						"check the name, or add the package to the workspaces")
				}
				continue // yarn leaves it as written; the local-spec check refuses it
			}
			var published string
			switch {
			case (name == target.name && spec == "workspace:"+target.path) || r.selector == "*":
				published = target.version
			case r.selector == "~" || r.selector == "^":
				published = r.selector + target.version
			default:
				published = r.selector
			}
			if err := write(scope, name, published); err != nil {
				return nil, err
			}
		}
	}
	for _, field := range []string{"dependencies", "devDependencies", "peerDependencies"} {
		obj := out.object(field)
		if obj == nil {
			continue
		}
		for _, k := range obj.order() {
			s, ok := obj.vals[k].(string)
			if !ok || !strings.HasPrefix(s, "catalog:") {
				continue
			}
			spec, err := yarnCatalogSpec(k, s, ws)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", field, k, err)
			}
			obj.set(k, spec)
		}
	}
	return out, nil
}

// yarnWorkspace is one workspace of the project as yarn knows it, with
// its version read now.
type yarnWorkspace struct {
	dir, path, name, version string
}

type yarnWorkspaceList []yarnWorkspace

// yarnWorkspaces lists every workspace yarn's project has: the root and
// the packages, private ones included.
func yarnWorkspaces(ws *workspace.Workspace) (yarnWorkspaceList, error) {
	var list yarnWorkspaceList
	seenRoot := false
	for _, p := range ws.Packages {
		seenRoot = seenRoot || p.Path == "."
		list = append(list, yarnWorkspace{dir: p.Dir, path: p.Path})
	}
	if !seenRoot {
		list = append(list, yarnWorkspace{dir: ws.Root, path: "."})
	}
	for i := range list {
		m, err := readJSObject(filepath.Join(list[i].dir, "package.json"))
		if err != nil {
			return nil, err
		}
		list[i].name, _ = m.str("name")
		list[i].version, _ = m.str("version")
		if list[i].version == "" {
			list[i].version = "0.0.0"
		}
	}
	return list, nil
}

func (l yarnWorkspaceList) byName(name string) *yarnWorkspace {
	for i := range l {
		if l[i].name == name {
			return &l[i]
		}
	}
	return nil
}

// byDescriptor is Project.tryWorkspaceByDescriptor: a workspace: path
// finds the workspace there (whatever its name); otherwise the workspace
// of that name, if it accepts the range.
func (l yarnWorkspaceList) byDescriptor(name, spec, root string) *yarnWorkspace {
	if rest, ok := strings.CutPrefix(spec, "workspace:"); ok {
		if _, valid := validRange(rest); rest != "^" && rest != "~" && rest != "*" && !valid {
			abs := path.Clean(path.Join(filepath.ToSlash(root), rest))
			if path.IsAbs(rest) {
				abs = path.Clean(rest)
			}
			for i := range l {
				if filepath.ToSlash(l[i].dir) == abs {
					return &l[i]
				}
			}
			return nil
		}
	}
	w := l.byName(name)
	if w == nil || !w.accepts(spec) {
		return nil
	}
	return w
}

// accepts is Workspace.accepts for a workspace: range.
func (w *yarnWorkspace) accepts(spec string) bool {
	proto, sel := "", spec
	if i := strings.IndexByte(spec, ':'); i >= 0 {
		proto, sel = spec[:i+1], spec[i+1:]
	}
	if proto != "workspace:" {
		return false
	}
	if path.Clean(sel) == w.path || sel == "*" || sel == "^" || sel == "~" {
		return true
	}
	r, ok := validRange(sel)
	return ok && r.Satisfies(w.version)
}

// yarnRange is structUtils.parseRange's result.
type yarnRange struct {
	protocol, source, selector, params string
	hasSource                          bool
}

// parseYarnRange splits protocol:source#selector::params.
func parseYarnRange(s string) (yarnRange, error) {
	var r yarnRange
	rest := s
	if i := strings.IndexAny(s, "#:"); i >= 0 && s[i] == ':' {
		r.protocol, rest = s[:i+1], s[i+1:]
	}
	body := rest
	if i := strings.Index(rest, "::"); i >= 0 {
		body, r.params = rest[:i], rest[i+2:]
	}
	first, second, hash := strings.Cut(body, "#")
	var err error
	if hash {
		r.hasSource = true
		if r.source, err = url.PathUnescape(first); err != nil {
			return r, err
		}
		r.selector, err = url.PathUnescape(second)
	} else {
		r.selector, err = url.PathUnescape(first)
	}
	return r, err
}

func (r yarnRange) String() string {
	esc := strings.NewReplacer("%", "%25", ":", "%3A", "#", "%23")
	s := r.protocol
	if r.hasSource {
		s += esc.Replace(r.source) + "#"
	}
	s += esc.Replace(r.selector)
	if r.params != "" {
		s += "::" + r.params
	}
	return s
}

// yarnTag is yarn's test for a dist-tag ("latest", "next").
var yarnTag = regexp.MustCompile(`(?i)^[a-z0-9._-]+$`)

// yarnCatalogSpec resolves catalog: and catalog:<name> from .yarnrc.yml
// as yarn's catalog plugin does: the entry normalized to a range, its
// npm: protocol dropped.
func yarnCatalogSpec(name, spec string, ws *workspace.Workspace) (string, error) {
	catalog := strings.TrimPrefix(spec, "catalog:")
	entries, label := ws.Catalog, "default catalog"
	if catalog != "" {
		entries, label = ws.NamedCatalogs[catalog], fmt.Sprintf("catalog %q", catalog)
	}
	if len(entries) == 0 {
		return "", hint.With(fmt.Errorf("%s not found or empty", label), "define it in .yarnrc.yml (catalog: or catalogs:)")
	}
	entry := entries[name]
	if entry == "" {
		return "", hint.With(fmt.Errorf("entry not found in %s", label), "add the dependency to it in .yarnrc.yml")
	}
	if _, ok := validRange(entry); ok || (yarnTag.MatchString(entry) && entry[0] != 'v' && entry[0] != 'V') {
		entry = "npm:" + entry
	}
	r, err := parseYarnRange(entry)
	if err != nil {
		return "", fmt.Errorf("%s entry %q: %w", label, entry, err)
	}
	switch r.protocol {
	case "file:", "link:", "portal:", "patch:", "exec:":
		return "", fmt.Errorf("%s entry %q: airlock does not pack %s catalog entries (yarn binds them to the project)", label, entry, r.protocol)
	}
	if r.params != "" {
		return "", fmt.Errorf("%s entry %q: airlock does not pack catalog entries with parameters", label, entry)
	}
	if r.protocol == "npm:" {
		r.protocol = ""
	}
	return r.String(), nil
}

// jsrSpecYarn is yarn's jsr plugin: jsr:<range> of @scope/name, or
// jsr:@scope/name@range, becomes npm:@jsr/scope__name@range.
func jsrSpecYarn(name, rest string) (string, error) {
	wrap := func(ident string) string {
		g := yarnIdent.FindStringSubmatch(ident)
		if g == nil {
			return "@jsr/" + ident
		}
		if g[1] != "" {
			return "@jsr/" + g[1] + "__" + g[2]
		}
		return "@jsr/" + g[2]
	}
	if _, ok := validRange(rest); ok {
		return "npm:" + wrap(name) + "@" + rest, nil
	}
	if g := yarnStrictDesc.FindStringSubmatch(rest); g != nil && g[3] != "unknown" {
		ident := g[2]
		if g[1] != "" {
			ident = "@" + g[1] + "/" + g[2]
		}
		return "npm:" + wrap(ident) + "@" + g[3], nil
	}
	return "", fmt.Errorf("invalid jsr range %q", "jsr:"+rest)
}

// Yarn's file selection (plugin-pack's packUtils.genPackList). Paths are
// absolute from the package folder, as "/lib/x.js".
var (
	yarnNeverIgnore  = []string{"/package.json", "/readme", "/readme.*", "/license", "/license.*", "/licence", "/licence.*", "/changelog", "/changelog.*"}
	yarnAlwaysIgnore = []string{"/package.tgz", ".github", ".git", ".hg", "node_modules", ".npmignore", ".gitignore", ".#*", ".DS_Store", ".yarnrc.yml"}
)

type yarnIgnoreList struct{ accept, reject []string }

type yarnMatcher struct {
	cache map[string]*glob.Pattern
}

func (m *yarnMatcher) pattern(p string) *glob.Pattern {
	if c, ok := m.cache[p]; ok {
		return c
	}
	c, err := glob.Compile(p)
	if err != nil || c.Negate() {
		c = nil // micromatch would not match it either way we can tell
	}
	m.cache[p] = c
	return c
}

// anyMatch is micromatch.isMatch over patterns with dot and nocase,
// patterns without a slash matched against the base name.
func (m *yarnMatcher) anyMatch(p string, pats []string) bool {
	for _, pat := range pats {
		c := m.pattern(pat)
		if c == nil {
			continue
		}
		subject := p
		if !strings.Contains(pat, "/") {
			subject = path.Base(p)
		}
		if c.Match(subject, false) {
			return true
		}
	}
	return false
}

// match is 2 when a "!" pattern matches, 1 when another does, else 0.
func (m *yarnMatcher) match(p string, pats []string) int {
	var inc, exc []string
	for _, pat := range pats {
		if strings.HasPrefix(pat, "!") {
			exc = append(exc, pat[1:])
		} else {
			inc = append(inc, pat)
		}
	}
	switch {
	case m.anyMatch(p, exc):
		return 2
	case m.anyMatch(p, inc):
		return 1
	}
	return 0
}

func (m *yarnMatcher) ignored(p string, global yarnIgnoreList, lists []yarnIgnoreList) bool {
	if p == "/" {
		return false
	}
	if s := m.match(p, global.accept); s != 0 {
		return s == 2
	}
	if s := m.match(p, global.reject); s != 0 {
		return s == 1
	}
	for _, l := range lists {
		if s := m.match(p, l.accept); s != 0 {
			return s == 2
		}
		if s := m.match(p, l.reject); s != 0 {
			return s == 1
		}
	}
	return false
}

func yarnPattern(p, cwd string) (string, bool) {
	p = strings.TrimSpace(p)
	if p == "" || p[0] == '#' {
		return "", false
	}
	neg := p[0] == '!'
	if neg {
		p = p[1:]
	}
	if strings.Contains(p, "/") {
		if path.IsAbs(p) {
			p = path.Clean(p)
		} else {
			p = path.Join(cwd, p)
		}
	}
	if neg {
		p = "!" + p
	}
	return p, true
}

// yarnFiles is genPackList: the files yarn packs from dir, links included.
func yarnFiles(dir string, v *yarnManifest, ws *workspace.Workspace) ([]string, error) {
	global := yarnIgnoreList{accept: yarnNeverIgnore, reject: append([]string(nil), yarnAlwaysIgnore...)}
	rejectInside := func(p string) {
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return
		}
		global.reject = append(global.reject, "/"+filepath.ToSlash(rel))
	}
	for _, p := range ws.YarnPaths {
		rejectInside(p)
	}
	wss := []string{ws.Root}
	for _, p := range ws.Packages {
		wss = append(wss, p.Dir)
	}
	for _, w := range wss {
		if w != dir {
			rejectInside(w)
		}
	}
	var list yarnIgnoreList
	for _, p := range []*string{v.main, v.module, v.browser} {
		if p != nil {
			list.accept = append(list.accept, path.Join("/", *p))
		}
	}
	for _, b := range v.binForFiles {
		list.accept = append(list.accept, path.Join("/", b[1]))
	}
	for _, b := range v.browserMap {
		list.accept = append(list.accept, path.Join("/", b[0]))
		if b[1] != "" {
			list.accept = append(list.accept, path.Join("/", b[1]))
		}
	}
	if v.hasFiles {
		list.reject = append(list.reject, "/*")
		for _, f := range v.files {
			if p, ok := yarnPattern(f, "/"); ok {
				list.accept = append(list.accept, p)
			}
		}
	}
	m := &yarnMatcher{cache: map[string]*glob.Pattern{}}
	type item struct {
		p     string
		lists []yarnIgnoreList
	}
	stack := []item{{"/", []yarnIgnoreList{list}}}
	var files []string
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		abs := filepath.Join(dir, filepath.FromSlash(it.p))
		st, err := os.Lstat(abs)
		if err != nil {
			return nil, err
		}
		isDir := st.IsDir()
		var lists []yarnIgnoreList
		if !isDir {
			lists = it.lists
		}
		if m.ignored(it.p, global, lists) {
			continue
		}
		if !isDir {
			if st.Mode().IsRegular() || st.Mode()&fs.ModeSymlink != 0 {
				files = append(files, strings.TrimPrefix(it.p, "/"))
			}
			continue
		}
		if strings.Count(it.p, "/") > maxWalkDepth {
			return nil, fmt.Errorf("%s: folders nested more than %d deep", abs, maxWalkDepth)
		}
		entries, err := os.ReadDir(abs)
		if err != nil {
			return nil, fmt.Errorf("reading folder: %w", err)
		}
		var local *yarnIgnoreList
		if !v.hasFiles || it.p != "/" {
			var hasNpm, hasGit bool
			for _, e := range entries {
				hasNpm = hasNpm || e.Name() == ".npmignore"
				hasGit = hasGit || e.Name() == ".gitignore"
			}
			name := ""
			switch {
			case hasNpm:
				name = ".npmignore"
			case hasGit:
				name = ".gitignore"
			}
			if name != "" {
				data, err := os.ReadFile(filepath.Join(abs, name))
				if err != nil {
					return nil, fmt.Errorf("reading ignore file: %w", err)
				}
				l := yarnIgnoreList{}
				for _, line := range strings.Split(string(data), "\n") {
					if p, ok := yarnPattern(line, it.p); ok {
						l.reject = append(l.reject, p)
					}
				}
				local = &l
			}
		}
		next := it.lists
		if local != nil {
			next = append([]yarnIgnoreList{*local}, it.lists...)
		}
		if m.ignored(it.p, global, it.lists) {
			next = append(append([]yarnIgnoreList(nil), it.lists...), yarnIgnoreList{reject: []string{"**/*"}})
		}
		for _, e := range entries {
			stack = append(stack, item{path.Join(it.p, e.Name()), next})
		}
	}
	return files, nil
}

// lookPathIn finds an executable in the PATH of env.
func lookPathIn(name string, env []string) (string, error) {
	pathList := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathList = v
		}
	}
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + " not found")
}
