package pack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/workspace"
)

// WorkspaceOptions controls PackWorkspaces.
type WorkspaceOptions struct {
	// Options applies to every package. Destination is where the
	// tarballs and release.json go; empty means the workspace root.
	Options
	// Manager is the package manager to pack as; "" detects it.
	Manager workspace.Manager
	// Select names the packages to pack, by name or by folder (a folder
	// holding packages selects them all); empty selects every public one.
	Select []string
	// OnlyUnpublished skips packages whose name@version the registry has
	// already, asking it without credentials (Registry, with the registry
	// Config chooses for each package, as airlock publish chooses it).
	OnlyUnpublished bool
	Registry        *registry.Client
	Config          *npmrc.Config
}

// Skipped is a workspace package not packed, and why.
type Skipped struct {
	Name, Version string
	// Path is the package folder relative to the workspace root.
	Path   string
	Reason string
}

// WorkspaceResult is what PackWorkspaces produced.
type WorkspaceResult struct {
	Workspace *workspace.Workspace
	// Packed are the packages packed, in release order.
	Packed  []*Result
	Skipped []Skipped
	// Release is the release manifest; ReleasePath the file written
	// ("" on a dry run), ReleaseIntegrity the sha512 SRI of its bytes.
	Release          ReleaseManifest
	ReleasePath      string
	ReleaseIntegrity string
	// NothingToRelease is set when OnlyUnpublished found the version of
	// every selected package on the registry already: nothing was packed
	// and no release.json written, and that is not an error.
	NothingToRelease bool
}

// ErrNothingToPack is what PackWorkspaces' error matches when the
// selection holds no package to pack (all private, say). With
// OnlyUnpublished, a selection whose versions are all on the registry is
// not an error but NothingToRelease.
var ErrNothingToPack = errors.New("no workspace package to pack")

// PackWorkspaces packs the packages of the workspace dir belongs to, each
// as its package manager would publish it, in dependency order, and
// writes release.json listing them.
func PackWorkspaces(ctx context.Context, dir string, opts WorkspaceOptions) (*WorkspaceResult, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		opts.Logger = log
	}
	ws, err := workspace.Find(dir, workspace.Options{Manager: opts.Manager})
	if err != nil {
		return nil, err
	}
	log.Debug("found the workspace", "root", ws.Root, "manager", ws.Manager, "chosen by", ws.Why, "packages", len(ws.Packages))
	res := &WorkspaceResult{Workspace: ws}
	if opts.Destination == "" {
		opts.Destination = ws.Root
	}
	if !opts.DryRun {
		if err := checkDestination(opts.Destination); err != nil {
			return nil, err
		}
	}
	pkgs, err := selectPackages(ws, opts.Select, res)
	if err != nil {
		return nil, err
	}
	if opts.OnlyUnpublished && len(pkgs) > 0 {
		if pkgs, err = unpublished(ctx, ws, pkgs, opts, res); err != nil {
			return nil, err
		}
		if len(pkgs) == 0 {
			res.NothingToRelease = true
			return res, nil
		}
	}
	if len(pkgs) == 0 {
		return res, hint.With(fmt.Errorf("%s: %w (%d skipped)", ws.Root, ErrNothingToPack, len(res.Skipped)),
			"the skipped packages are listed above; name one with --workspace to pack it")
	}
	order, err := releaseOrder(pkgs, func(p workspace.Package) ([]string, error) { return sourceDependencies(p) })
	if err != nil {
		return nil, err
	}
	warnPrivateDependencies(ws, order, log)

	git := loadGit(ctx, ws.Root, opts.Env, log)
	var changed []string
	readGit := func(ctx context.Context, dir string, files []string) gitState {
		st, c := git.stateOf(dir, files)
		changed = append(changed, c...)
		return st
	}
	for _, p := range order {
		log.Debug("packing", "package", p.Name, "path", p.Path)
		r, err := packPackage(ctx, p.Dir, opts.Options, newPacker(ws, p, opts.Options), readGit)
		if err != nil {
			return res, fmt.Errorf("packing %s (%s): %w", p.Name, p.Path, err)
		}
		res.Packed = append(res.Packed, r)
	}
	git.warnDirty(dedupe(changed), log)
	if err := res.buildRelease(ws, git, opts.ToolVersion); err != nil {
		return res, err
	}
	data, err := res.Release.Encode()
	if err != nil {
		return res, err
	}
	res.ReleaseIntegrity = sriOf(data)
	if !opts.DryRun {
		file := filepath.Join(opts.Destination, ReleaseManifestName)
		if err := writeRelease(file, data); err != nil {
			return res, fmt.Errorf("writing %s: %w", ReleaseManifestName, err)
		}
		res.ReleasePath = file
	}
	return res, nil
}

func newPacker(ws *workspace.Workspace, p workspace.Package, opts Options) packer {
	switch ws.Manager {
	case workspace.PNPM:
		return &pnpmPacker{dir: p.Dir, ws: ws, opts: opts}
	case workspace.Yarn:
		return &yarnPacker{dir: p.Dir, ws: ws, opts: opts}
	}
	return &npmPacker{dir: p.Dir, scripts: newScripts(p.Dir, opts), extraDefaults: npmOutOfTreeRules(ws.Root, p.Dir)}
}

// npmOutOfTreeRules are the ignore rules npm pack --workspaces adds for
// a workspace package: the .npmignore (or else .gitignore) of the root
// and of each folder between it and the package, in that order, read as
// if they were the package's own.
func npmOutOfTreeRules(root, dir string) []string {
	if dir == root {
		return nil
	}
	rel, err := filepath.Rel(root, filepath.Dir(dir))
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil
	}
	var lines []string
	d := root
	segs := []string{}
	if rel != "." {
		segs = strings.Split(rel, string(filepath.Separator))
	}
	for i := 0; ; i++ {
		for _, f := range []string{".npmignore", ".gitignore"} {
			data, err := os.ReadFile(filepath.Join(d, f))
			if err == nil {
				lines = append(lines, strings.Split(string(data), "\n")...)
				break
			}
		}
		if i == len(segs) {
			return lines
		}
		d = filepath.Join(d, segs[i])
	}
}

// selectPackages chooses what to pack: the named packages, or every
// public one with a name and a version; the rest go to res.Skipped.
func selectPackages(ws *workspace.Workspace, sel []string, res *WorkspaceResult) ([]workspace.Package, error) {
	if len(sel) == 0 {
		var out []workspace.Package
		for _, p := range ws.Packages {
			switch {
			case p.Name == "" || p.Version == "":
				res.Skipped = append(res.Skipped, Skipped{Name: p.Name, Version: p.Version, Path: p.Path, Reason: "no name or no version"})
			case p.Private:
				res.Skipped = append(res.Skipped, Skipped{Name: p.Name, Version: p.Version, Path: p.Path, Reason: "private"})
			default:
				out = append(out, p)
			}
		}
		return out, nil
	}
	chosen := map[string]bool{}
	var unknown, private []string
	for _, s := range sel {
		var found []workspace.Package
		byFolder := false
		if p, ok := ws.Lookup(s); ok {
			found = append(found, *p)
		} else if abs, err := filepath.Abs(s); err == nil {
			byFolder = true
			for _, p := range ws.Packages {
				if p.Dir == abs || within(abs, p.Dir) {
					found = append(found, p)
				}
			}
		}
		if len(found) == 0 {
			unknown = append(unknown, s)
		}
		for _, p := range found {
			switch {
			case byFolder && (p.Private || p.Name == "" || p.Version == ""):
				continue // a folder selects the public packages in it
			case p.Name == "" || p.Version == "":
				return nil, fmt.Errorf("%s: --workspace %s names a package without a name or a version", filepath.Join(p.Dir, "package.json"), s)
			case p.Private:
				private = append(private, p.Name)
			}
			chosen[p.Dir] = true
		}
	}
	if len(unknown) > 0 {
		var names []string
		for _, p := range ws.Packages {
			if p.Name != "" {
				names = append(names, p.Name)
			}
		}
		sort.Strings(names)
		return nil, hint.With(fmt.Errorf("no workspace package is named or found at %s", quoteList(unknown)),
			fmt.Sprintf("the packages of %s are: %s", ws.Root, strings.Join(names, ", ")))
	}
	if len(private) > 0 {
		sort.Strings(private)
		return nil, hint.With(fmt.Errorf("%s private (\"private\": true), and its package manager would not publish it", quoteList(private)+pluralIs(len(private))),
			"drop it from --workspace, or remove \"private\" from its package.json")
	}
	var out []workspace.Package
	for _, p := range ws.Packages {
		switch {
		case chosen[p.Dir]:
			out = append(out, p)
		case p.Private:
			res.Skipped = append(res.Skipped, Skipped{Name: p.Name, Version: p.Version, Path: p.Path, Reason: "private"})
		default:
			res.Skipped = append(res.Skipped, Skipped{Name: p.Name, Version: p.Version, Path: p.Path, Reason: "not selected"})
		}
	}
	return out, nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

func pluralIs(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}

// unpublished drops the packages whose version the registry has.
func unpublished(ctx context.Context, ws *workspace.Workspace, pkgs []workspace.Package, opts WorkspaceOptions, res *WorkspaceResult) ([]workspace.Package, error) {
	if opts.Registry == nil || opts.Config == nil {
		return nil, errors.New("--only-unpublished needs a registry client and the npm configuration")
	}
	var out []workspace.Package
	for _, p := range pkgs {
		pkg, err := readPackageJSONMap(p.Dir)
		if err != nil {
			return nil, err
		}
		pc, _ := pkg["publishConfig"].(map[string]any)
		reg := opts.Config.WithPublishConfig(pc).RegistryFor(p.Name)
		pk, err := opts.Registry.Packument(ctx, reg, p.Name, nil)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			out = append(out, p) // never published
			continue
		case err != nil:
			return nil, hint.With(fmt.Errorf("checking whether %s@%s is on %s: %w", p.Name, p.Version, redactRegistry(reg), err),
				"--only-unpublished asks the registry without credentials; drop it to pack every package, or make the package readable")
		}
		if _, ok := pk.Versions[p.Version]; ok {
			res.Skipped = append(res.Skipped, Skipped{Name: p.Name, Version: p.Version, Path: p.Path, Reason: "already on " + redactRegistry(reg)})
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// sourceDependencies names what p's package.json depends on through
// dependencies, optionalDependencies and peerDependencies: the keys, or
// the packages npm: and workspace: aliases name.
func sourceDependencies(p workspace.Package) ([]string, error) {
	pkg, err := readPackageJSONMap(p.Dir)
	if err != nil {
		return nil, err
	}
	return dependencyNames(pkg), nil
}

func dependencyNames(pkg map[string]any) []string {
	var out []string
	for _, field := range []string{"dependencies", "optionalDependencies", "peerDependencies"} {
		deps, _ := pkg[field].(map[string]any)
		for name, v := range deps {
			out = append(out, name)
			spec, _ := v.(string)
			for _, proto := range []string{"npm:", "workspace:"} {
				if rest, ok := strings.CutPrefix(spec, proto); ok {
					if at := strings.LastIndexByte(rest, '@'); at > 0 {
						out = append(out, rest[:at])
					}
				}
			}
		}
	}
	return out
}

// releaseOrder sorts pkgs so each comes after those of pkgs it depends
// on, ties broken by name; a cycle is an error naming it.
func releaseOrder(pkgs []workspace.Package, deps func(workspace.Package) ([]string, error)) ([]workspace.Package, error) {
	byName := map[string]int{}
	for i, p := range pkgs {
		byName[p.Name] = i
	}
	edges := make([]map[int]bool, len(pkgs)) // package -> what it needs
	for i, p := range pkgs {
		names, err := deps(p)
		if err != nil {
			return nil, err
		}
		edges[i] = map[int]bool{}
		for _, n := range names {
			if j, ok := byName[n]; ok && j != i {
				edges[i][j] = true
			}
		}
	}
	done := make([]bool, len(pkgs))
	var out []workspace.Package
	for len(out) < len(pkgs) {
		next := -1
		for i, p := range pkgs {
			if done[i] {
				continue
			}
			ready := true
			for j := range edges[i] {
				if !done[j] {
					ready = false
					break
				}
			}
			if ready && (next < 0 || p.Name < pkgs[next].Name) {
				next = i
			}
		}
		if next < 0 {
			return nil, cycleError(pkgs, edges, done)
		}
		done[next] = true
		out = append(out, pkgs[next])
	}
	return out, nil
}

// cycleError names one cycle among the packages not yet done.
func cycleError(pkgs []workspace.Package, edges []map[int]bool, done []bool) error {
	start := -1
	for i := range pkgs {
		if !done[i] && (start < 0 || pkgs[i].Name < pkgs[start].Name) {
			start = i
		}
	}
	// Follow the smallest unfinished dependency until a package repeats.
	seen := map[int]int{}
	var path []int
	for at := start; ; {
		if k, ok := seen[at]; ok {
			var names []string
			for _, i := range path[k:] {
				names = append(names, pkgs[i].Name)
			}
			names = append(names, pkgs[at].Name)
			return hint.With(fmt.Errorf("%w: %s", errCycle, strings.Join(names, " -> ")),
				"a release is published in dependency order; break the cycle, or move one of the dependencies to devDependencies")
		}
		seen[at] = len(path)
		path = append(path, at)
		next := -1
		for j := range edges[at] {
			if !done[j] && (next < 0 || pkgs[j].Name < pkgs[next].Name) {
				next = j
			}
		}
		at = next
	}
}

// warnPrivateDependencies warns of packed packages that depend on a
// private workspace package: installs of them need a package no one
// publishes.
func warnPrivateDependencies(ws *workspace.Workspace, pkgs []workspace.Package, log *slog.Logger) {
	for _, p := range pkgs {
		names, err := sourceDependencies(p)
		if err != nil {
			continue
		}
		sort.Strings(names)
		for _, n := range dedupe(names) {
			if d, ok := ws.Lookup(n); ok && d.Private && d.Name != p.Name {
				log.Warn(fmt.Sprintf("%s depends on %s, a private workspace package that is not published: installs of %s will fail to find it; make %s public, or move it to devDependencies", p.Name, n, p.Name, n))
			}
		}
	}
}

// buildRelease fills the release manifest from what was packed, ordered
// by the packed package.json files' dependencies.
func (res *WorkspaceResult) buildRelease(ws *workspace.Workspace, git *gitView, toolVersion string) error {
	r := &res.Release
	*r = ReleaseManifest{Schema: ReleaseSchema, PackageManager: string(ws.Manager), GitCommit: git.commit, AirlockVersion: toolVersion, Packages: []ReleasePackage{}}
	var dirty *bool
	unknown := false
	for _, p := range res.Packed {
		d := p.ReceiptData.GitDirty
		switch {
		case d == nil:
			unknown = true
		case dirty == nil || *d:
			v := *d
			dirty = &v
		}
	}
	if !unknown && git.commit != "" {
		r.GitDirty = dirty
	}
	names := map[string]bool{}
	for _, p := range res.Packed {
		names[p.Report.Name] = true
	}
	deps := map[string][]string{}
	pkgs := make([]workspace.Package, len(res.Packed))
	byName := map[string]*Result{}
	for i, p := range res.Packed {
		pkgs[i] = workspace.Package{Name: p.Report.Name}
		byName[p.Report.Name] = p
		var list []string
		for _, n := range dependencyNames(p.packedManifest) {
			if names[n] && n != p.Report.Name {
				list = append(list, n)
			}
		}
		sort.Strings(list)
		deps[p.Report.Name] = dedupe(list)
	}
	order, err := releaseOrder(pkgs, func(p workspace.Package) ([]string, error) { return deps[p.Name], nil })
	if err != nil {
		return err
	}
	for _, p := range order {
		pr := byName[p.Name]
		dependsOn := deps[p.Name]
		if dependsOn == nil {
			dependsOn = []string{}
		}
		r.Packages = append(r.Packages, ReleasePackage{
			Name: pr.Report.Name, Version: pr.Report.Version, Tarball: pr.Report.Filename,
			Integrity: pr.Report.Integrity, Shasum: pr.Report.Shasum, DependsOn: dependsOn,
		})
	}
	// Packed follows the same order.
	sorted := make([]*Result, len(order))
	for i, p := range order {
		sorted[i] = byName[p.Name]
	}
	res.Packed = sorted
	return nil
}

func dedupe(sorted []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range sorted {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func readPackageJSONMap(dir string) (map[string]any, error) {
	o, err := readJSObject(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	m, _ := toPlain(o).(map[string]any)
	return m, nil
}

// redactRegistry is the registry URL as messages may show it.
func redactRegistry(reg string) string {
	u, err := url.Parse(reg)
	if err != nil {
		return "the registry"
	}
	return registry.RedactURL(u)
}
