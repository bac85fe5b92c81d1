package pack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/lifecycle"
	"github.com/airlockdev/airlock/internal/workspace"
)

// pnpmPacker packs a workspace package as pnpm 10's `pnpm publish`
// would: its scripts, the manifest its createExportableManifest writes,
// npm-packlist 5's files, the workspace root's LICENSE when the package
// has none, and its modes (0755 for bins and publishConfig.executableFiles,
// 0644 for everything else). Workspace versions are read from the packages'
// own package.json, not from node_modules, so no install is needed.
type pnpmPacker struct {
	dir  string
	ws   *workspace.Workspace
	opts Options
	// entry is package.json as read before prepack: pnpm takes
	// publishConfig.directory and the postpack script from it.
	entry map[string]any
}

func (p *pnpmPacker) beforePack(ctx context.Context) error {
	if p.opts.IgnoreScripts {
		return nil
	}
	// pnpm publish reads package.json once for prepublishOnly and the
	// deprecated prepublish, then pack reads it again for prepack and
	// prepare.
	published, err := lifecycle.ReadManifest(p.dir)
	if err != nil {
		return err
	}
	for _, event := range []string{"prepublishOnly", "prepublish"} {
		if err := runScript(ctx, p.dir, p.opts, event, published); err != nil {
			return err
		}
	}
	if p.entry, err = lifecycle.ReadManifest(p.dir); err != nil {
		return err
	}
	for _, event := range []string{"prepack", "prepare"} {
		if err := runScript(ctx, p.dir, p.opts, event, p.entry); err != nil {
			return err
		}
	}
	return nil
}

func (p *pnpmPacker) afterPack(ctx context.Context, integrity string) error {
	if p.opts.IgnoreScripts || p.entry == nil {
		return nil
	}
	return runScript(ctx, p.dir, p.opts, "postpack", p.entry)
}

func (p *pnpmPacker) contents(ctx context.Context) (*contents, error) {
	entry := p.entry
	if entry == nil {
		var err error
		if entry, err = lifecycle.ReadManifest(p.dir); err != nil {
			return nil, err
		}
	}
	pubDir := p.dir
	if pc, ok := entry["publishConfig"].(map[string]any); ok {
		if d, ok := pc["directory"].(string); ok && d != "" {
			pubDir = filepath.Join(p.dir, filepath.FromSlash(d))
		}
	}
	pkgFile := filepath.Join(pubDir, "package.json")
	m, err := readJSObject(pkgFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && pubDir != p.dir {
			return nil, hint.With(fmt.Errorf("%s: publishConfig.directory names a folder without package.json", pkgFile), "build that folder (in prepack, say) before packing, or fix publishConfig.directory")
		}
		return nil, err
	}
	for _, src := range []*jsObject{m, toJSObject(entry)} {
		for _, k := range []string{"bundledDependencies", "bundleDependencies"} {
			if v, ok := src.get(k); ok && jsvalue.Truthy(toPlain(v)) {
				return nil, hint.With(fmt.Errorf("%s: %s: airlock does not bundle dependencies for pnpm (pnpm bundles them only with nodeLinker: hoisted)", pkgFile, k),
					"drop "+k+", or pack this package with --package-manager npm")
			}
		}
	}
	pnpmRuntimeDependencies(m)
	out, err := pnpmExport(m, &pnpmResolver{ws: p.ws, dir: pubDir})
	if err != nil {
		return nil, &pnpmError{file: pkgFile, err: err}
	}
	files, err := pnpmFiles(pubDir, out)
	if err != nil {
		return nil, fmt.Errorf("selecting files: %w", err)
	}
	sources := map[string]string{}
	for _, f := range files {
		sources[f] = filepath.Join(pubDir, filepath.FromSlash(f))
	}
	if pubDir != p.ws.Root && !pnpmHasLicense(files) {
		licenses, err := pnpmRootLicenses(p.ws.Root)
		if err != nil {
			return nil, err
		}
		for _, l := range licenses {
			sources[l] = filepath.Join(p.ws.Root, l)
		}
	}
	exec, err := pnpmExecutables(out, m, pubDir)
	if err != nil {
		return nil, err
	}
	pkgJSON := stringifyJS(out)
	st, err := newStage()
	if err != nil {
		return nil, err
	}
	for rel, src := range sources {
		mode := fs.FileMode(0o644)
		if exec[filepath.Clean(src)] {
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
	return st.contents(pkgFile, pkgJSON, pubDir, files)
}

// pnpmError names the package.json a rewrite failed for.
type pnpmError struct {
	file string
	err  error
}

func (e *pnpmError) Error() string { return e.file + ": " + e.err.Error() }
func (e *pnpmError) Unwrap() error { return e.err }

// pnpm's exportable manifest (pkg-manifest/exportable-manifest).
var (
	pnpmPrepublishScripts = map[string]bool{"prepublishOnly": true, "prepack": true, "prepare": true, "postpack": true, "publish": true, "postpublish": true}
	// pnpmPublishConfigKeys are the publishConfig keys pnpm 10 moves to
	// the top level.
	pnpmPublishConfigKeys = map[string]bool{
		"bin": true, "engines": true, "type": true, "imports": true,
		"main": true, "module": true, "typings": true, "types": true, "exports": true,
		"browser": true, "esnext": true, "es2015": true, "unpkg": true, "umd:main": true,
		"os": true, "cpu": true, "libc": true, "typesVersions": true,
	}
	pnpmWorkspaceVersion = regexp.MustCompile(`^workspace:(?:(.+)@)?([\^~*])?$`)
	pnpmWorkspacePeer    = regexp.MustCompile(`workspace:([\^~*]|>=|>|<=|<)?((\d+|[xX*])(\.(\d+|[xX*])){0,2})?`)
)

// pnpmExport is createExportableManifest: the manifest without pnpm's
// own fields and the publish scripts, dependency specs rewritten, and the
// allowed publishConfig keys moved up. Dependency maps keep their order
// (pnpm 10's follows the order its lookups finish in; pnpm 11 keeps this
// one).
func pnpmExport(m *jsObject, r *pnpmResolver) (*jsObject, error) {
	out := newJSObject()
	for _, k := range m.order() {
		switch k {
		case "pnpm", "scripts", "packageManager":
			continue
		}
		out.set(k, m.vals[k])
	}
	if scripts, ok := m.get("scripts"); ok && scripts != nil {
		if obj, ok := scripts.(*jsObject); ok {
			kept := newJSObject()
			for _, k := range obj.order() {
				if !pnpmPrepublishScripts[k] {
					kept.set(k, obj.vals[k])
				}
			}
			scripts = kept
		}
		out.set("scripts", scripts)
	}
	for _, field := range []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"} {
		deps, ok := m.get(field)
		if !ok || deps == nil {
			continue
		}
		obj, ok := deps.(*jsObject)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", field)
		}
		conv := newJSObject()
		for _, name := range obj.order() {
			spec, ok := obj.vals[name].(string)
			if !ok {
				return nil, fmt.Errorf("%s %q is not a string, which pnpm cannot publish", field, name)
			}
			var err error
			if field == "peerDependencies" {
				spec, err = r.peerSpec(name, spec)
			} else {
				spec, err = r.workspaceSpec(name, spec)
			}
			if err == nil {
				spec, err = r.catalogSpec(name, spec)
			}
			if err == nil {
				spec, err = jsrSpecPNPM(name, spec)
			}
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", field, name, err)
			}
			conv.set(name, spec)
		}
		out.set(field, conv)
	}
	if pc := out.object("publishConfig"); pc != nil {
		pc = pc.clone()
		for _, k := range pc.order() {
			if pnpmPublishConfigKeys[k] {
				out.set(k, pc.vals[k])
				pc.del(k)
			}
		}
		if len(pc.keys) == 0 {
			out.del("publishConfig")
		} else {
			out.set("publishConfig", pc)
		}
	}
	return out, nil
}

// pnpmResolver resolves workspace: and catalog: specs from the workspace.
type pnpmResolver struct {
	ws  *workspace.Workspace
	dir string // the folder packed (publishConfig.directory applied)
}

// workspaceSpec is replaceWorkspaceProtocol. pnpm reads the version from
// node_modules/<name>, where pnpm install links the workspace package;
// this reads the package's own package.json.
func (r *pnpmResolver) workspaceSpec(name, spec string) (string, error) {
	rest, ok := strings.CutPrefix(spec, "workspace:")
	if !ok {
		return spec, nil
	}
	if m := pnpmWorkspaceVersion.FindStringSubmatch(spec); m != nil {
		target := name
		if m[1] != "" {
			target = m[1]
		}
		got, version, err := r.version(target)
		if err != nil {
			return "", err
		}
		token := ""
		if m[2] == "^" || m[2] == "~" {
			token = m[2]
		}
		if got != name {
			return "npm:" + got + "@" + token + version, nil
		}
		return token + version, nil
	}
	if strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
		dir := filepath.Join(r.dir, filepath.FromSlash(rest))
		got, version, err := readNameVersion(dir)
		if err != nil {
			return "", fmt.Errorf("%q: %w", spec, err)
		}
		if got == name {
			return version, nil
		}
		return "npm:" + got + "@" + version, nil
	}
	if strings.Contains(rest, "@") {
		return "npm:" + rest, nil
	}
	return rest, nil
}

// peerSpec is replaceWorkspaceProtocolPeerDependency: the first
// "workspace:" in the spec, with a range token and no version, becomes
// the token and the version; with a version, it is dropped.
func (r *pnpmResolver) peerSpec(name, spec string) (string, error) {
	if !strings.Contains(spec, "workspace:") {
		return spec, nil
	}
	loc := pnpmWorkspacePeer.FindStringSubmatchIndex(spec)
	if loc == nil {
		return strings.Replace(spec, "workspace:", "", 1), nil
	}
	if loc[4] >= 0 && loc[5] > loc[4] {
		return strings.Replace(spec, "workspace:", "", 1), nil
	}
	token := ""
	if loc[2] >= 0 {
		token = spec[loc[2]:loc[3]]
	}
	if token == "*" {
		token = ""
	}
	_, version, err := r.version(name)
	if err != nil {
		return "", err
	}
	return spec[:loc[0]] + token + version + spec[loc[1]:], nil
}

// version is the name and version of the workspace package pnpm would
// have linked at node_modules/<name>.
func (r *pnpmResolver) version(name string) (string, string, error) {
	p, ok := r.ws.Lookup(name)
	if !ok {
		return "", "", hint.With(fmt.Errorf("no workspace package is named %q, so its workspace: spec cannot be resolved (pnpm: CANNOT_RESOLVE_WORKSPACE_PROTOCOL)", name),
			"check the name, or add the package to pnpm-workspace.yaml")
	}
	got, version, err := readNameVersion(p.Dir)
	if err != nil {
		return "", "", err
	}
	return got, version, nil
}

func readNameVersion(dir string) (string, string, error) {
	m, err := readJSObject(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", "", err
	}
	name, _ := m.str("name")
	version, _ := m.str("version")
	if name == "" || version == "" {
		return "", "", fmt.Errorf("%s has no name or no version", filepath.Join(dir, "package.json"))
	}
	return name, version, nil
}

// catalogSpec is pnpm's resolveFromCatalog.
func (r *pnpmResolver) catalogSpec(name, spec string) (string, error) {
	rest, ok := strings.CutPrefix(spec, "catalog:")
	if !ok {
		return spec, nil
	}
	catalog := jsvalue.Trim(rest)
	if catalog == "" {
		catalog = "default"
	}
	var entries map[string]string
	if catalog == "default" {
		entries = r.ws.Catalog
	} else {
		entries = r.ws.NamedCatalogs[catalog]
	}
	entry, ok := entries[name]
	if !ok {
		return "", hint.With(fmt.Errorf("no catalog entry %q in catalog %q (pnpm: CATALOG_ENTRY_NOT_FOUND_FOR_SPEC)", name, catalog),
			"add it to pnpm-workspace.yaml's catalog, or write a version range")
	}
	protocol, _, _ := strings.Cut(entry, ":")
	switch {
	case strings.HasPrefix(entry, "catalog:"):
		return "", fmt.Errorf("catalog %q entry %q uses the catalog protocol itself (pnpm: CATALOG_ENTRY_INVALID_RECURSIVE_DEFINITION)", catalog, name)
	case protocol == "workspace":
		return "", fmt.Errorf("catalog %q entry %q is a workspace: spec, which pnpm refuses in a catalog", catalog, name)
	case protocol == "link" || protocol == "file":
		return "", fmt.Errorf("catalog %q entry %q uses the %s: protocol, which pnpm refuses in a catalog", catalog, name, protocol)
	}
	return entry, nil
}

// jsrSpecPNPM is replaceJsrProtocol: jsr:@scope/name@range becomes the
// npm alias npm:@jsr/scope__name@range.
func jsrSpecPNPM(name, spec string) (string, error) {
	raw, ok := strings.CutPrefix(spec, "jsr:")
	if !ok {
		return spec, nil
	}
	jsrName, selector := name, raw
	switch {
	case strings.HasPrefix(raw, "@"):
		i := strings.LastIndexByte(raw, '@')
		jsrName, selector = raw, ""
		if i > 0 {
			jsrName, selector = raw[:i], raw[i+1:]
		}
	case strings.Contains(raw, "@"):
		return "", errors.New("package names from JSR must have a scope")
	case name == "":
		return "", fmt.Errorf("JSR specifier %q is missing a package name", raw)
	}
	scope, pkg, ok := strings.Cut(jsrName, "/")
	if !strings.HasPrefix(jsrName, "@") {
		return "", errors.New("package names from JSR must have a scope")
	}
	if !ok {
		return "", fmt.Errorf("the JSR package name %q is invalid", jsrName)
	}
	out := "npm:@jsr/" + scope[1:] + "__" + pkg
	if selector != "" {
		out += "@" + selector
	}
	return out, nil
}

// pnpmRuntimeDependencies is pnpm 10's reading of engines.runtime and
// devEngines.runtime: a runtime to download becomes a "runtime:"
// dependency.
func pnpmRuntimeDependencies(m *jsObject) {
	for _, pair := range [][2]string{{"devEngines", "devDependencies"}, {"engines", "dependencies"}} {
		for _, runtime := range []string{"node", "deno", "bun"} {
			engines := m.object(pair[0])
			if engines == nil {
				continue
			}
			rt, ok := engines.get("runtime")
			if !ok || rt == nil {
				continue
			}
			if deps := m.object(pair[1]); deps != nil {
				if v, ok := deps.get(runtime); ok && jsvalue.Truthy(toPlain(v)) {
					continue
				}
			}
			list, isList := rt.([]any)
			if !isList {
				list = []any{rt}
			}
			for _, item := range list {
				o, ok := item.(*jsObject)
				if !ok {
					continue
				}
				if n, _ := o.str("name"); n != runtime {
					continue
				}
				if f, _ := o.str("onFail"); f != "download" {
					break
				}
				deps := m.object(pair[1])
				if deps == nil {
					deps = newJSObject()
					m.set(pair[1], deps)
				}
				deps.set(runtime, "runtime:"+jsvalue.String(toPlain(o.vals["version"])))
				break
			}
		}
	}
}

// pnpm 10 adds the root's license files when no packed path mentions a
// license (the test is a search anywhere in the path, not a name match).
var pnpmLicenseMention = regexp.MustCompile(`(?i)LICEN[CS]E(?:\..+)?`)

func pnpmHasLicense(files []string) bool {
	for _, f := range files {
		if pnpmLicenseMention.MatchString(f) {
			return true
		}
	}
	return false
}

// pnpmRootLicenses are the root's files matching LICEN{S,C}E{,.*}, case
// as written; a link counts when it leads to a file.
func pnpmRootLicenses(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if base, _, _ := strings.Cut(n, "."); base != "LICENSE" && base != "LICENCE" {
			continue
		}
		if st, err := os.Stat(filepath.Join(root, n)); err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// pnpmExecutables are the files pnpm packs with mode 0755: the bins of
// the publish manifest (or every file under directories.bin) inside the
// package, and publishConfig.executableFiles.
func pnpmExecutables(out, m *jsObject, dir string) (map[string]bool, error) {
	exec := map[string]bool{}
	if bin, ok := out.get("bin"); ok && jsvalue.Truthy(toPlain(bin)) {
		var pairs [][2]string
		switch b := bin.(type) {
		case string:
			n, _ := out.str("name")
			pairs = append(pairs, [2]string{n, b})
		case *jsObject:
			for _, k := range b.order() {
				pairs = append(pairs, [2]string{k, jsvalue.String(toPlain(b.vals[k]))})
			}
		}
		for _, pr := range pairs {
			cmd := pr[0]
			if strings.HasPrefix(cmd, "@") {
				if i := strings.IndexByte(cmd, '/'); i >= 0 {
					cmd = cmd[i+1:]
				}
			}
			if cmd == "" || cmd == "." || cmd == ".." || (cmd != "$" && cmd != uriComponent(cmd)) {
				continue
			}
			p := filepath.Join(dir, filepath.FromSlash(pr[1]))
			if within(dir, p) {
				exec[p] = true
			}
		}
	} else if dirs := out.object("directories"); dirs != nil {
		if b, ok := dirs.str("bin"); ok && b != "" {
			binDir := filepath.Join(dir, filepath.FromSlash(b))
			if within(dir, binDir) {
				err := filepath.WalkDir(binDir, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						if p == binDir && errors.Is(err, fs.ErrNotExist) {
							return filepath.SkipDir
						}
						return err
					}
					if p != binDir && strings.HasPrefix(d.Name(), ".") {
						if d.IsDir() {
							return filepath.SkipDir
						}
						return nil
					}
					if d.Type().IsRegular() {
						exec[p] = true
					}
					return nil
				})
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
			}
		}
	}
	if pc := m.object("publishConfig"); pc != nil {
		if list, ok := pc.get("executableFiles"); ok {
			items, _ := list.([]any)
			for _, it := range items {
				exec[filepath.Join(dir, filepath.FromSlash(jsvalue.String(toPlain(it))))] = true
			}
		}
	}
	return exec, nil
}

// uriComponent is encodeURIComponent for the names pnpm accepts as
// command names.
func uriComponent(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// within reports whether p is dir or inside it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// runScript runs one lifecycle script of the package in dir, if it has
// it, with npm's script environment (which pnpm's matches for what
// scripts read).
func runScript(ctx context.Context, dir string, opts Options, event string, m map[string]any) error {
	r := &lifecycle.Runner{
		Dir: dir, Manifest: m, Env: opts.Env,
		Stdout: orDiscard(opts.Stdout), Stderr: orDiscard(opts.Stderr),
		Logger: opts.Logger,
	}
	if script, err := r.Script(event); err != nil || script == "" {
		return err
	}
	if banner, err := r.Banner(event); err == nil {
		fmt.Fprint(orDiscard(opts.Stderr), banner)
	}
	return r.Run(ctx, event, nil)
}

func readJSObject(file string) (*jsObject, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	o, err := parseJSObject(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return o, nil
}

// toJSObject converts a decoded manifest (key order lost) to a jsObject
// with sorted keys, for reading only.
func toJSObject(m map[string]any) *jsObject {
	o := newJSObject()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if mm, ok := v.(map[string]any); ok {
			o.set(k, toJSObject(mm))
		} else {
			o.set(k, v)
		}
	}
	return o
}
