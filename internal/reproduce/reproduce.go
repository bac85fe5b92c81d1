// Package reproduce rebuilds a package from its source and compares the
// rebuild with a published (or staged) tarball, file by file: the check
// of the build that a digest pin cannot make.
//
// The source is a folder or a git commit, cloned into a temporary folder.
// By default nothing from it runs: the package is packed as npm packs it,
// lifecycle scripts skipped, so the files a build step makes cannot be
// checked, and the report says which they are. Files of the tarball that
// git tracks with other contents (edited or injected after checkout) are
// the strongest sign of a tampered build, and are reported as such.
package reproduce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/tardiff"
	"github.com/airlockdev/airlock/internal/workspace"
	"github.com/airlockdev/airlock/pack"
)

// Options controls Run.
type Options struct {
	// Dir is a folder holding the source: the package itself, or a
	// checkout with the package somewhere in it.
	Dir string
	// GitURL and Commit, instead of Dir: the commit is fetched into a
	// temporary folder.
	GitURL, Commit string
	// Subdir is the package's folder below Dir or the checkout; "" finds
	// the folder whose package.json names the package.
	Subdir string
	// RunScripts installs the source's dependencies and runs its
	// lifecycle scripts while packing: the package's own code, and its
	// dependencies', run on this machine.
	RunScripts bool
	// Env is the environment of git, npm and the scripts; git and npm
	// are found on its PATH.
	Env            []string
	Stdout, Stderr io.Writer
	Logger         *slog.Logger
	// TempDir holds the clone and the rebuild; "" means os.TempDir.
	TempDir     string
	ToolVersion string
	Limits      tardiff.Limits
}

// Result is what the comparison found. Paths are the package's.
type Result struct {
	Reproduced bool   `json:"reproduced"`
	Name       string `json:"name"`
	Version    string `json:"version"`
	// Source is the folder or repository URL rebuilt from; Commit the
	// commit, when it is a git checkout; Subdir the package's folder.
	Source string `json:"source"`
	Commit string `json:"commit,omitempty"`
	Subdir string `json:"path,omitempty"`
	// Manager is the workspace's package manager when the package is in
	// one (npm, pnpm, yarn), and was packed as it publishes.
	Manager string `json:"workspaceManager,omitempty"`
	// Integrity and RebuildIntegrity are the two tarballs' sha512.
	// SameBytes: they are identical, compression included.
	Integrity        string `json:"integrity"`
	RebuildIntegrity string `json:"rebuildIntegrity"`
	SameBytes        bool   `json:"sameBytes"`
	// Scripts are the build scripts packing runs (prepack, prepare,
	// postpack) that package.json has; ScriptsRun says whether they ran.
	Scripts    []string `json:"buildScripts"`
	ScriptsRun bool     `json:"scriptsRun"`
	// Git is false when the source is not a git checkout: then no file
	// can be told to come from the build.
	Git bool `json:"git"`
	// Files differing: only in the tarball, only in the rebuild, or in
	// both with other contents or modes (the patch goes from the
	// rebuild to the tarball).
	OnlyInTarball []string `json:"onlyInTarball"`
	OnlyInRebuild []string `json:"onlyInRebuild"`
	Changed       []Change `json:"changed"`
	// FromBuild are files of the tarball that git does not track and
	// the rebuild did not make, with the build scripts not run: they
	// could not be checked. They are in OnlyInTarball or Changed too.
	FromBuild []string `json:"fromBuild"`
	// Tampered are files of the tarball that git tracks with other
	// contents: changed after checkout.
	Tampered []string `json:"tampered"`
	// PackageJSON are the top-level fields of package.json that differ.
	PackageJSON []Field `json:"packageJson"`
}

// Change is a file in both tarballs that differs.
type Change struct {
	Path        string `json:"path"`
	RebuildMode string `json:"rebuildMode"`
	TarballMode string `json:"tarballMode"`
	Binary      bool   `json:"binary,omitempty"`
	Patch       string `json:"patch,omitempty"`
}

// Field is a package.json field that differs.
type Field struct {
	Name    string `json:"name"`
	Rebuild string `json:"rebuild,omitempty"`
	Tarball string `json:"tarball,omitempty"`
}

// buildScripts are the scripts npm pack runs.
var buildScripts = []string{"prepack", "prepare", "postpack"}

// Run rebuilds the package of the tarball pub (read, as hostile input,
// with tardiff.Read) from the source o names and compares.
func Run(ctx context.Context, pub *tardiff.Package, o Options) (*Result, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmp, err := os.MkdirTemp(o.TempDir, "airlock-reproduce-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r := &Result{Name: pub.Manifest.Name, Version: pub.Manifest.Version, Integrity: pub.Integrity,
		OnlyInTarball: []string{}, OnlyInRebuild: []string{}, Changed: []Change{}, FromBuild: []string{}, Tampered: []string{}, PackageJSON: []Field{}}

	g, gitErr := findGit(o.Env)
	root := o.Dir
	switch {
	case o.GitURL != "":
		if gitErr != nil {
			return nil, gitErr
		}
		root = filepath.Join(tmp, "source")
		if err := os.Mkdir(root, 0o700); err != nil {
			return nil, err
		}
		log.Debug("fetching the source", "url", o.GitURL, "commit", o.Commit)
		if r.Commit, err = g.checkout(ctx, root, o.GitURL, o.Commit); err != nil {
			return nil, err
		}
		r.Source = o.GitURL
	case o.Dir != "":
		if root, err = filepath.Abs(o.Dir); err != nil {
			return nil, err
		}
		r.Source = o.Dir
	default:
		return nil, errors.New("no source: a folder, or a git URL and commit")
	}
	dir, err := packageDir(root, o.Subdir, pub.Manifest.Name)
	if err != nil {
		return nil, err
	}
	if rel, _ := filepath.Rel(root, dir); rel != "." {
		r.Subdir = filepath.ToSlash(rel)
	}

	// What git holds, read before anything runs in the checkout.
	var blobs map[string]string
	if g != nil {
		var head string
		if blobs, head, r.Git = g.tree(ctx, dir); r.Git && r.Commit == "" {
			r.Commit = head
		}
	}

	rebuilt, err := rebuild(ctx, root, dir, tmp, o, r, log)
	if err != nil {
		return nil, err
	}
	r.RebuildIntegrity = rebuilt.Integrity
	r.SameBytes = rebuilt.Integrity == pub.Integrity
	compare(ctx, pub, rebuilt, blobs, g, dir, r)
	r.Reproduced = len(r.OnlyInTarball)+len(r.OnlyInRebuild)+len(r.Changed)+len(r.FromBuild)+len(r.Tampered) == 0
	return r, nil
}

// workspaceOf is the workspace, inside root, that has the package in
// dir, or nil.
func workspaceOf(root, dir, name string) *workspace.Workspace {
	ws, err := workspace.Find(dir, workspace.Options{})
	if err != nil {
		return nil
	}
	if rel, err := filepath.Rel(root, ws.Root); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil // above the source: not the source's workspace
	}
	if p, ok := ws.Lookup(name); ok && filepath.Clean(p.Dir) == filepath.Clean(dir) {
		return ws
	}
	return nil
}

// rebuild packs dir as its package manager would, into tmp.
func rebuild(ctx context.Context, root, dir, tmp string, o Options, r *Result, log *slog.Logger) (*tardiff.Package, error) {
	var m struct {
		Scripts         map[string]string `json:"scripts"`
		Dependencies    map[string]any    `json:"dependencies"`
		DevDependencies map[string]any    `json:"devDependencies"`
	}
	if data, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
		_ = json.Unmarshal(data, &m)
	}
	for _, s := range buildScripts {
		if m.Scripts[s] != "" {
			r.Scripts = append(r.Scripts, s)
		}
	}
	r.ScriptsRun = o.RunScripts && len(r.Scripts) > 0
	if o.RunScripts && len(m.Dependencies)+len(m.DevDependencies) > 0 {
		if err := install(ctx, dir, o); err != nil {
			return nil, err
		}
	}
	dest := filepath.Join(tmp, "rebuild")
	if err := os.Mkdir(dest, 0o700); err != nil {
		return nil, err
	}
	po := pack.Options{Destination: dest, IgnoreScripts: !o.RunScripts, Env: o.Env,
		Stdout: o.Stdout, Stderr: o.Stderr, Logger: log, ToolVersion: o.ToolVersion}
	var tarball string
	if ws := workspaceOf(root, dir, r.Name); ws != nil {
		// A workspace package is packed as its manager publishes it:
		// pnpm and yarn rewrite workspace: and catalog: specs.
		r.Manager = string(ws.Manager)
		res, err := pack.PackWorkspaces(ctx, ws.Root, pack.WorkspaceOptions{Options: po, Manager: ws.Manager, Select: []string{r.Name}})
		if err != nil {
			return nil, fmt.Errorf("packing the source: %w", err)
		}
		if len(res.Packed) != 1 {
			return nil, fmt.Errorf("packing the source: %d packages packed for %s", len(res.Packed), r.Name)
		}
		tarball = res.Packed[0].Tarball
	} else {
		res, err := pack.Pack(ctx, dir, po)
		if err != nil {
			return nil, fmt.Errorf("packing the source: %w", err)
		}
		tarball = res.Tarball
	}
	data, err := os.ReadFile(tarball)
	if err != nil {
		return nil, err
	}
	return tardiff.Read(ctx, "rebuild", data, o.Limits)
}

// install installs the source's dependencies as its build needs them:
// npm ci with a lock file, npm install without.
func install(ctx context.Context, dir string, o Options) error {
	npm := ""
	for _, d := range filepath.SplitList(lookup(o.Env, "PATH")) {
		if p := filepath.Join(d, "npm"); filepath.IsAbs(d) {
			if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
				npm = p
				break
			}
		}
	}
	if npm == "" {
		return errors.New("installing the dependencies to build: npm is not on PATH")
	}
	args := []string{"install", "--no-audit", "--no-fund"}
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		args = []string{"ci", "--no-audit", "--no-fund"}
	}
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, o.Env, o.Stdout, o.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("installing the dependencies to build: npm %s: %w", args[0], err)
	}
	return nil
}

// packageDir finds the package in root: sub when given, root when its
// package.json names the package, else the one folder below that does.
func packageDir(root, sub, name string) (string, error) {
	if sub != "" {
		d := filepath.Join(root, filepath.FromSlash(sub))
		if rel, err := filepath.Rel(root, d); err != nil || strings.HasPrefix(rel, "..") {
			return "", fmt.Errorf("%s is outside the source", sub)
		}
		return d, nil
	}
	if pkgName(filepath.Join(root, "package.json")) == name {
		return root, nil
	}
	var found []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			if d.Name() == "node_modules" || d.Name() == ".git" || strings.Count(rel, string(filepath.Separator)) >= 5 {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "package.json" && d.Type().IsRegular() && pkgName(p) == name {
			found = append(found, filepath.Dir(p))
		}
		return nil
	})
	switch len(found) {
	case 0:
		return "", fmt.Errorf("the source has no package.json naming %s", name)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the source has %d package.json files naming %s; say which folder with --path", len(found), name)
}

func pkgName(file string) string {
	if st, err := os.Lstat(file); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	var m struct{ Name string }
	_ = json.Unmarshal(data, &m)
	return m.Name
}

// compare fills r with what differs between the tarball and the rebuild.
func compare(ctx context.Context, pub, rebuilt *tardiff.Package, blobs map[string]string, g *git, dir string, r *Result) {
	d := tardiff.Compare(rebuilt, pub, tardiff.Options{Patch: true})
	pubFiles := map[string]*tardiff.File{}
	for i := range pub.Files {
		pubFiles[pub.Files[i].Path] = &pub.Files[i]
	}
	for _, f := range d.Files {
		switch f.Status {
		case tardiff.Added: // in the tarball only
			r.OnlyInTarball = append(r.OnlyInTarball, f.Path)
		case tardiff.Removed:
			r.OnlyInRebuild = append(r.OnlyInRebuild, f.Path)
		default:
			r.Changed = append(r.Changed, Change{Path: f.Path, RebuildMode: f.OldMode, TarballMode: f.NewMode, Binary: f.Binary, Patch: f.Patch})
		}
		if f.Status == tardiff.Removed {
			continue
		}
		blob, tracked := blobs[f.Path]
		switch {
		case r.Git && !tracked && !r.ScriptsRun:
			r.FromBuild = append(r.FromBuild, f.Path)
		case tracked && f.Path != "package.json" && !sameAsBlob(ctx, pubFiles[f.Path], blob, g, dir):
			r.Tampered = append(r.Tampered, f.Path)
		}
	}
	if !bytes.Equal(pub.PackageJSON, rebuilt.PackageJSON) {
		r.PackageJSON = fieldChanges(rebuilt.PackageJSON, pub.PackageJSON)
	}
}

// sameAsBlob says whether f holds the contents of the git blob.
func sameAsBlob(ctx context.Context, f *tardiff.File, blob string, g *git, dir string) bool {
	if !f.Partial {
		return blobID(f.Data, len(blob)) == blob
	}
	data, err := g.run(ctx, dir, "cat-file", "blob", blob)
	if err != nil {
		return false
	}
	return blobID(data, len(blob)) == blob && int64(len(data)) == f.Size && sha256Equal(data, f.Digest)
}

func fieldChanges(rebuild, tarball []byte) []Field {
	var a, b map[string]json.RawMessage
	_ = json.Unmarshal(rebuild, &a)
	_ = json.Unmarshal(tarball, &b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	out := []Field{}
	for k := range keys {
		x, y := tardiff.CompactJSON(a[k]), tardiff.CompactJSON(b[k])
		if x != y {
			out = append(out, Field{Name: registry.Sanitize(k, nil), Rebuild: registry.Sanitize(x, nil), Tarball: registry.Sanitize(y, nil)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Summary says in one line what differs, or "identical contents".
func (r *Result) Summary() string {
	if r.Reproduced {
		if r.SameBytes {
			return "identical tarball"
		}
		return "identical contents"
	}
	var parts []string
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(len(r.Tampered), "file tracked by git with other contents", "files tracked by git with other contents")
	add(len(r.FromBuild), "file from the build, not checked", "files from the build, not checked")
	add(len(r.Changed), "file changed", "files changed")
	add(len(r.OnlyInTarball), "file only in the tarball", "files only in the tarball")
	add(len(r.OnlyInRebuild), "file only in the rebuild", "files only in the rebuild")
	return strings.Join(parts, ", ")
}
