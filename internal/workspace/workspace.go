// Package workspace finds a workspace's root, package manager and packages
// as npm, pnpm and yarn find them: the root by walking up from a folder,
// the manager from packageManager or the lockfile, the packages from
// package.json "workspaces" (npm, yarn) or pnpm-workspace.yaml (pnpm), and
// the catalogs pnpm and yarn resolve "catalog:" specs from.
package workspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

// Manager is a package manager with workspaces.
type Manager string

// The managers airlock packs workspaces for. Yarn is yarn 2 and later
// ("berry"); yarn 1 is not supported.
const (
	NPM  Manager = "npm"
	PNPM Manager = "pnpm"
	Yarn Manager = "yarn"
)

// ParseManager reads a --package-manager value.
func ParseManager(s string) (Manager, error) {
	switch m := Manager(strings.ToLower(strings.TrimSpace(s))); m {
	case NPM, PNPM, Yarn:
		return m, nil
	}
	return "", fmt.Errorf("package manager %q: want npm, pnpm or yarn", s)
}

// Files the managers read.
const (
	pnpmWorkspaceFile = "pnpm-workspace.yaml"
	yarnrcFile        = ".yarnrc.yml"
)

// Options controls Find.
type Options struct {
	// Manager is the package manager to assume; "" detects it.
	Manager Manager
}

// Workspace is a workspace root with its packages.
type Workspace struct {
	// Root is the workspace root folder, absolute.
	Root string
	// Manager packs the workspace; Why says how it was chosen.
	Manager Manager
	Why     string
	// Patterns are the workspace package patterns as declared.
	Patterns []string
	// Packages are the workspace packages with a package.json, sorted by
	// Path. The root is one only when a pattern names it.
	Packages []Package
	// Catalog and NamedCatalogs are pnpm-workspace.yaml's "catalog" and
	// "catalogs" (pnpm), or .yarnrc.yml's (yarn). For pnpm, Catalog is
	// already "catalog" or "catalogs.default", whichever is set.
	Catalog       map[string]string
	NamedCatalogs map[string]map[string]string
	// YarnPaths are the files and folders, absolute, that yarn keeps in
	// the project and never packs (cache, install state, PnP files, …).
	YarnPaths []string
}

// Package is one workspace package.
type Package struct {
	// Dir is the package folder, absolute; Path is it relative to the
	// root, slash-separated ("." for the root).
	Dir, Path string
	Name      string
	Version   string
	// Private is package.json's "private" as the manager reads it.
	Private bool
}

// Lookup returns the package named name.
func (w *Workspace) Lookup(name string) (*Package, bool) {
	for i := range w.Packages {
		if w.Packages[i].Name == name {
			return &w.Packages[i], true
		}
	}
	return nil, false
}

// ErrNoWorkspace is what Find's error matches when no workspace root is at
// or above the folder.
var ErrNoWorkspace = errors.New("no workspace root")

// Find finds the workspace dir belongs to: the nearest folder at or above
// it with pnpm-workspace.yaml or a package.json declaring "workspaces".
func Find(dir string, opts Options) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := findRoot(abs)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Root: root}
	rootPkg, err := readPackageJSON(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if w.Manager, w.Why, err = detectManager(root, rootPkg, opts.Manager); err != nil {
		return nil, err
	}
	switch w.Manager {
	case PNPM:
		err = w.findPNPM()
	case NPM:
		err = w.findNPM(rootPkg)
	case Yarn:
		err = w.findYarn(rootPkg)
	}
	if err != nil {
		return nil, err
	}
	if err := w.checkContains(abs); err != nil {
		return nil, err
	}
	return w, nil
}

// findRoot walks up from dir to the nearest workspace declaration.
func findRoot(dir string) (string, error) {
	for d := dir; ; {
		if fileExists(filepath.Join(d, pnpmWorkspaceFile)) {
			return d, nil
		}
		for _, bad := range []string{"pnpm-workspace.yml", "pnpm-workspaces.yaml", "pnpm-workspaces.yml", ".pnpm-workspace.yaml"} {
			if fileExists(filepath.Join(d, bad)) {
				return "", hint.With(fmt.Errorf("%s: pnpm reads no such file", filepath.Join(d, bad)), "name it pnpm-workspace.yaml")
			}
		}
		if pkg, err := readPackageJSON(d); err == nil {
			if _, ok := pkg["workspaces"]; ok {
				return d, nil
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", hint.With(fmt.Errorf("%s: %w at or above it (no pnpm-workspace.yaml, no package.json with \"workspaces\")", dir, ErrNoWorkspace),
				"run airlock in the workspace, or pack a single package without --workspaces")
		}
		d = parent
	}
}

// detectManager chooses the manager: the flag, then packageManager, then
// the lockfile, then the workspace file.
func detectManager(root string, rootPkg map[string]any, flag Manager) (Manager, string, error) {
	m, why, err := chooseManager(root, rootPkg, flag)
	if err != nil {
		return "", "", err
	}
	hasPNPMFile := fileExists(filepath.Join(root, pnpmWorkspaceFile))
	_, hasWorkspaces := rootPkg["workspaces"]
	switch {
	case m == PNPM && !hasPNPMFile:
		return "", "", hint.With(fmt.Errorf("%s: the package manager is pnpm (%s), but there is no %s, where pnpm reads the workspace packages from", root, why, pnpmWorkspaceFile),
			"list the packages in pnpm-workspace.yaml (packages: [...]), or choose the manager with --package-manager")
	case m != PNPM && !hasWorkspaces:
		return "", "", hint.With(fmt.Errorf("%s: the package manager is %s (%s), but package.json has no \"workspaces\", where %s reads the workspace packages from", root, m, why, m),
			"choose the manager with --package-manager pnpm, or declare \"workspaces\" in package.json")
	}
	return m, why, nil
}

func chooseManager(root string, rootPkg map[string]any, flag Manager) (Manager, string, error) {
	if flag != "" {
		return flag, "--package-manager", nil
	}
	if pm, ok := rootPkg["packageManager"].(string); ok && strings.TrimSpace(pm) != "" {
		m, err := fromPackageManager(pm)
		if err != nil {
			return "", "", hint.With(fmt.Errorf("%s: %w", filepath.Join(root, "package.json"), err), "choose the manager with --package-manager npm, pnpm or yarn")
		}
		return m, fmt.Sprintf("packageManager %q", pm), nil
	}
	var found []string
	kinds := map[Manager]string{}
	for _, lf := range []struct {
		file string
		m    Manager
	}{
		{"pnpm-lock.yaml", PNPM},
		{"yarn.lock", Yarn},
		{"package-lock.json", NPM},
		{"npm-shrinkwrap.json", NPM},
		{"bun.lock", "bun"},
		{"bun.lockb", "bun"},
	} {
		if fileExists(filepath.Join(root, lf.file)) {
			found = append(found, lf.file)
			if _, ok := kinds[lf.m]; !ok {
				kinds[lf.m] = lf.file
			}
		}
	}
	if len(kinds) > 1 {
		return "", "", hint.With(fmt.Errorf("%s has lockfiles of several package managers (%s)", root, strings.Join(found, ", ")),
			"choose the manager with --package-manager, and delete the stale lockfile")
	}
	for m, file := range kinds {
		switch m {
		case "bun":
			return "", "", hint.With(fmt.Errorf("%s: bun workspaces are not supported", filepath.Join(root, file)), "choose npm, pnpm or yarn with --package-manager")
		case Yarn:
			if err := checkBerry(root); err != nil {
				return "", "", err
			}
		}
		return m, file, nil
	}
	switch {
	case fileExists(filepath.Join(root, pnpmWorkspaceFile)):
		return PNPM, "no lockfile; " + pnpmWorkspaceFile, nil
	case fileExists(filepath.Join(root, yarnrcFile)):
		return Yarn, "no lockfile; " + yarnrcFile, nil
	}
	return NPM, "no lockfile", nil
}

// fromPackageManager reads corepack's "name@version[+hash]".
func fromPackageManager(pm string) (Manager, error) {
	name, version, _ := strings.Cut(strings.TrimSpace(pm), "@")
	switch name {
	case "npm":
		return NPM, nil
	case "pnpm":
		return PNPM, nil
	case "yarn":
		major, _, _ := strings.Cut(version, ".")
		if major == "0" || major == "1" {
			return "", fmt.Errorf("packageManager %q is yarn 1, which airlock does not pack workspaces for (yarn 1 has no workspace: protocol)", pm)
		}
		return Yarn, nil
	}
	return "", fmt.Errorf("packageManager %q: airlock packs workspaces of npm, pnpm and yarn 2+", pm)
}

// checkBerry refuses a yarn 1 project: a yarn.lock without yarn 2's
// __metadata and no .yarnrc.yml.
func checkBerry(root string) error {
	if fileExists(filepath.Join(root, yarnrcFile)) {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(root, "yarn.lock"))
	if err != nil {
		return err
	}
	if bytes.Contains(data[:min(len(data), 4096)], []byte("__metadata:")) {
		return nil
	}
	return hint.With(fmt.Errorf("%s is a yarn 1 lockfile (no __metadata, no .yarnrc.yml): airlock packs workspaces of yarn 2 and later", filepath.Join(root, "yarn.lock")),
		"set packageManager to the yarn you use (yarn@4.x), or choose another manager with --package-manager")
}

// checkContains refuses a folder that is neither the root, nor in a
// workspace package, nor above one: the nearest declaration was someone
// else's.
func (w *Workspace) checkContains(dir string) error {
	if dir == w.Root {
		return nil
	}
	for _, p := range w.Packages {
		if within(p.Dir, dir) || within(dir, p.Dir) {
			return nil
		}
	}
	return hint.With(fmt.Errorf("%s is in no package of the workspace at %s (patterns: %s)", dir, w.Root, strings.Join(w.Patterns, ", ")),
		"add the package to the workspace patterns, or pack it alone without --workspaces")
}

func within(parent, p string) bool {
	rel, err := filepath.Rel(parent, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// findNPM reads package.json "workspaces" as @npmcli/map-workspaces does.
func (w *Workspace) findNPM(rootPkg map[string]any) error {
	pats, err := workspacePatterns(w.Root, rootPkg)
	if err != nil {
		return err
	}
	w.Patterns = pats
	include, exclude, err := npmPatterns(pats)
	if err != nil {
		return err
	}
	dirs, err := globDirs(w.Root, include, map[string]bool{"node_modules": true})
	if err != nil {
		return err
	}
	return w.addPackages(excluding(dirs, exclude), NPM)
}

// npmPatterns splits npm's list: "!" patterns exclude, except that a
// later pattern cancels the exclusions before it that it matches.
func npmPatterns(pats []string) (include, exclude []globPattern, err error) {
	for _, p := range pats {
		bangs := len(p) - len(strings.TrimLeft(p, "!"))
		g, err := compileGlob(p[bangs:])
		if err != nil {
			return nil, nil, err
		}
		if bangs%2 == 1 {
			exclude = append(exclude, g)
			continue
		}
		kept := exclude[:0:0]
		for _, e := range exclude {
			if !e.matchPath(strings.Join(g.alts[0], "/")) {
				kept = append(kept, e)
			}
		}
		exclude = kept
		include = append(include, g)
	}
	return include, exclude, nil
}

func excluding(dirs []string, exclude []globPattern) []string {
	var out []string
	for _, d := range dirs {
		skip := false
		for _, e := range exclude {
			if e.matchPath(d) {
				skip = true
				break
			}
		}
		if !skip {
			out = append(out, d)
		}
	}
	return out
}

// workspacePatterns reads "workspaces": an array, or {packages: [...]}.
func workspacePatterns(dir string, pkg map[string]any) ([]string, error) {
	file := filepath.Join(dir, "package.json")
	raw := pkg["workspaces"]
	if obj, ok := raw.(map[string]any); ok {
		raw = obj["packages"]
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, hint.With(fmt.Errorf("%s: \"workspaces\" is not an array of patterns", file), `write "workspaces": ["packages/*"] or {"packages": ["packages/*"]}`)
	}
	pats := make([]string, 0, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: \"workspaces\" holds %s, not a pattern", file, jsvalue.String(v))
		}
		pats = append(pats, s)
	}
	return pats, nil
}

// findPNPM reads pnpm-workspace.yaml as pnpm 10 does: "packages" (only
// the root without it), "!" patterns excluding, and the catalogs.
func (w *Workspace) findPNPM() error {
	file := filepath.Join(w.Root, pnpmWorkspaceFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc struct {
		Packages any `yaml:"packages"`
		Catalog  any `yaml:"catalog"`
		Catalogs any `yaml:"catalogs"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	pats := []string{"."}
	if doc.Packages != nil {
		list, ok := doc.Packages.([]any)
		if !ok {
			return fmt.Errorf("%s: packages is not a list", file)
		}
		pats = pats[:0]
		for _, v := range list {
			s, ok := v.(string)
			if !ok || s == "" {
				return fmt.Errorf("%s: packages holds %v, not a pattern", file, v)
			}
			pats = append(pats, s)
		}
	}
	w.Patterns = pats
	if w.Catalog, err = stringMap(doc.Catalog, file, "catalog"); err != nil {
		return err
	}
	if w.NamedCatalogs, err = namedCatalogs(doc.Catalogs, file); err != nil {
		return err
	}
	if def, ok := w.NamedCatalogs["default"]; ok {
		if w.Catalog != nil {
			return hint.With(fmt.Errorf("%s: the default catalog is defined twice, as catalog and as catalogs.default", file), "keep one of them")
		}
		w.Catalog = def
	}
	var include, exclude []globPattern
	for _, p := range pats {
		neg := strings.HasPrefix(p, "!")
		g, err := compileGlob(strings.TrimPrefix(p, "!"))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if neg {
			exclude = append(exclude, g)
		} else {
			include = append(include, g)
		}
	}
	dirs, err := globDirs(w.Root, include, map[string]bool{"node_modules": true, "bower_components": true})
	if err != nil {
		return err
	}
	return w.addPackages(excluding(dirs, exclude), PNPM)
}

// findYarn reads "workspaces" as yarn does, each workspace's own
// "workspaces" too, and the project's .yarnrc.yml.
func (w *Workspace) findYarn(rootPkg map[string]any) error {
	if err := w.readYarnrc(); err != nil {
		return err
	}
	skip := map[string]bool{"node_modules": true, ".git": true, ".yarn": true}
	seen := map[string]bool{}
	var dirs []string
	queue := []string{"."}
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		dir := filepath.Join(w.Root, filepath.FromSlash(rel))
		pkg := rootPkg
		if rel != "." {
			var err error
			if pkg, err = readPackageJSON(dir); err != nil {
				return err
			}
		}
		if _, ok := pkg["workspaces"]; !ok {
			continue
		}
		pats, err := workspacePatterns(dir, pkg)
		if err != nil {
			return err
		}
		if rel == "." {
			w.Patterns = pats
		}
		var include, exclude []globPattern
		for _, p := range pats {
			g, err := compileGlob(strings.TrimPrefix(p, "!"))
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
			}
			if strings.HasPrefix(p, "!") {
				exclude = append(exclude, g)
			} else {
				include = append(include, g)
			}
		}
		found, err := globDirs(dir, include, skip)
		if err != nil {
			return err
		}
		for _, d := range excluding(found, exclude) {
			full := filepath.ToSlash(filepath.Join(filepath.FromSlash(rel), filepath.FromSlash(d)))
			if seen[full] || !fileExists(filepath.Join(w.Root, filepath.FromSlash(full), "package.json")) {
				continue
			}
			seen[full] = true
			dirs = append(dirs, full)
			if full != "." {
				queue = append(queue, full)
			}
		}
	}
	sort.Strings(dirs)
	return w.addPackages(dirs, Yarn)
}

// readYarnrc reads the project's .yarnrc.yml: the catalogs, and the
// paths yarn keeps in the project.
func (w *Workspace) readYarnrc() error {
	file := filepath.Join(w.Root, yarnrcFile)
	settings := map[string]any{}
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := yaml.Unmarshal(data, &settings); err != nil {
			return fmt.Errorf("reading %s: %w", file, err)
		}
	}
	if w.Catalog, err = stringMap(settings["catalog"], file, "catalog"); err != nil {
		return err
	}
	if w.NamedCatalogs, err = namedCatalogs(settings["catalogs"], file); err != nil {
		return err
	}
	paths := map[string]string{
		"cacheFolder":        "./.yarn/cache",
		"installStatePath":   "./.yarn/install-state.gz",
		"virtualFolder":      "./.yarn/__virtual__",
		"pnpUnpluggedFolder": "./.yarn/unplugged",
	}
	if s, ok := settings["yarnPath"].(string); ok {
		paths["yarnPath"] = s
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := paths[k]
		if s, ok := settings[k].(string); ok && s != "" {
			v = s
		}
		if !filepath.IsAbs(v) {
			v = filepath.Join(w.Root, v)
		}
		w.YarnPaths = append(w.YarnPaths, filepath.Clean(v))
	}
	for _, f := range []string{"yarn.lock", ".pnp.cjs", ".pnp.data.json", ".pnp.loader.mjs"} {
		w.YarnPaths = append(w.YarnPaths, filepath.Join(w.Root, f))
	}
	return nil
}

func stringMap(v any, file, field string) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a map of dependency names to specs", file, field)
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		s, ok := val.(string)
		if !ok {
			return nil, hint.With(fmt.Errorf("%s: %s entry %q is %v, not a string", file, field, k, val), "quote the spec, as in \"^18.0.0\"")
		}
		out[k] = s
	}
	return out, nil
}

func namedCatalogs(v any, file string) (map[string]map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: catalogs is not a map of catalog names to catalogs", file)
	}
	out := make(map[string]map[string]string, len(m))
	for name, c := range m {
		cm, err := stringMap(c, file, "catalogs."+name)
		if err != nil {
			return nil, err
		}
		if cm == nil {
			cm = map[string]string{}
		}
		out[name] = cm
	}
	return out, nil
}

// addPackages reads each folder's package.json; folders without one are
// not packages. Two packages may not share a name.
func (w *Workspace) addPackages(dirs []string, m Manager) error {
	byName := map[string][]string{}
	for _, rel := range dirs {
		dir := filepath.Join(w.Root, filepath.FromSlash(rel))
		pkg, err := readPackageJSON(dir)
		if errors.Is(err, fs.ErrNotExist) {
			if m == PNPM {
				for _, other := range []string{"package.yaml", "package.json5"} {
					if fileExists(filepath.Join(dir, other)) {
						return hint.With(fmt.Errorf("%s: airlock reads package.json only", filepath.Join(dir, other)), "convert it to package.json")
					}
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		p := Package{Dir: dir, Path: rel}
		p.Name, _ = pkg["name"].(string)
		p.Version, _ = pkg["version"].(string)
		if m == Yarn {
			p.Private, _ = pkg["private"].(bool) // yarn reads a boolean only
		} else {
			p.Private = jsvalue.Truthy(pkg["private"])
		}
		if p.Name != "" {
			byName[p.Name] = append(byName[p.Name], rel)
		}
		w.Packages = append(w.Packages, p)
	}
	var dups []string
	for name, paths := range byName {
		if len(paths) > 1 {
			dups = append(dups, fmt.Sprintf("%s (%s)", name, strings.Join(paths, ", ")))
		}
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		return fmt.Errorf("%s: several workspace packages have the same name: %s", w.Root, strings.Join(dups, "; "))
	}
	return nil
}

func readPackageJSON(dir string) (map[string]any, error) {
	file := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pkg map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	dec.UseNumber()
	if err := dec.Decode(&pkg); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", file, err)
	}
	if pkg == nil {
		return nil, fmt.Errorf("%s: not a JSON object", file)
	}
	return pkg, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
