// Package scaffold writes the hardened release workflow airlock init
// generates: a pack job that runs the package's code with no credential,
// and a publish job that holds the only OIDC identity and runs no code of
// the package, for GitHub Actions or GitLab CI. The output is
// deterministic: the same package and options give the same bytes.
package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/workspace"
)

// CI is the CI system a workflow is written for.
type CI string

const (
	GitHub CI = "github"
	GitLab CI = "gitlab"
)

// Defaults of the options.
const (
	DefaultEnvironment = "release"
	DefaultTagPattern  = "v*"
	// DefaultNodeVersion is the Node.js the pack job runs. The pack job
	// never publishes, so npm's trusted-publishing minimum (11.5.1) does
	// not apply; 24 is an LTS line until April 2028, ships npm 11, and is
	// the last line that ships corepack, which installs pnpm and yarn.
	DefaultNodeVersion = "24"
	// DefaultRegistry is where packages go without publishConfig.registry
	// or --registry.
	DefaultRegistry = "https://registry.npmjs.org/"
)

// Options are the choices airlock init's flags make. Zero values mean the
// default, or what the package says.
type Options struct {
	CI CI
	// Stage sends the version to the registry's staging area, where it
	// waits for a maintainer's approval with 2FA.
	Stage bool
	// Environment is the CI environment of the publish job, which the
	// trusted publisher names.
	Environment string
	// NodeVersion is the Node.js the pack job runs (a major version, or a
	// full one: 24, 24.11, 24.11.1).
	NodeVersion string
	// PackageManager is npm, pnpm or yarn; "" detects it.
	PackageManager string
	// TestCommand runs after the install; nil runs the package manager's
	// test when package.json has a test script, "" runs none.
	TestCommand *string
	// BuildCommand runs after the tests; "" runs none (airlock pack runs
	// the prepack and prepare scripts anyway).
	BuildCommand string
	// TagPattern is the tags that start a release, as a GitHub filter
	// pattern restricted to letters, digits, . _ / - and * or **.
	TagPattern string
	// Registry is the registry to publish to; "" means publishConfig's, or
	// npm's.
	Registry string
	// AirlockRef is the commit of github.com/airlockdev/airlock whose
	// release/SHA256SUMS records AirlockVersion: 40 hex digits.
	AirlockRef string
	// AirlockVersion is the airlock release the jobs install, vX.Y.Z.
	AirlockVersion string
	// Workspaces releases every public package of the workspace whose
	// version the registry does not have yet (airlock pack --workspaces
	// --only-unpublished, airlock publish --manifest).
	Workspaces bool
	// Branch, with Workspaces, starts a release on every push to this
	// branch instead of on tags: the changesets flow, where a merged
	// "Version Packages" pull request bumps the versions.
	Branch string
}

// Package is what airlock init reads from the package folder.
type Package struct {
	// PackageManager is npm, pnpm or yarn, and PackageManagerSource what
	// said so ("the packageManager field", "pnpm-lock.yaml", …).
	PackageManager, PackageManagerSource string
	// YarnClassic is true for Yarn 1, whose frozen install is
	// --frozen-lockfile rather than --immutable.
	YarnClassic bool
	// Lockfiles are the lock files present, by package manager.
	Lockfiles map[string]string
	// Candidates are the lock files that said which package manager to
	// use; several leave PackageManager "".
	Candidates []string
	// HasTest is true when package.json has a test script.
	HasTest bool
	// Registry is publishConfig.registry, or "".
	Registry string
	// Private is package.json's "private": true, which publish refuses.
	Private bool
	// Workspace is true for a workspace root read by InspectWorkspace;
	// Packages are then its public packages, and Registries the distinct
	// registries their publishConfig names ("" for the configured one).
	Workspace  bool
	Packages   []string
	Registries []string
}

// Workflow is a generated file.
type Workflow struct {
	// Path is where the file goes, relative to the repository root:
	// .github/workflows/release.yml or .gitlab-ci.yml.
	Path    string
	Content []byte
	// What was decided, for the command to report.
	PackageManager, PackageManagerSource string
	Install, NodeVersion                 string
	Registry, Environment                string
	// Workspaces is a release of the whole workspace; Packages are its
	// public packages.
	Workspaces bool
	Packages   []string
	// Warnings are things the release will trip over, as sentences.
	Warnings []string
}

// Path of the file each CI reads.
const (
	GitHubPath = ".github/workflows/release.yml"
	GitLabPath = ".gitlab-ci.yml"
)

var lockfiles = []struct{ file, pm string }{
	{"package-lock.json", "npm"},
	{"npm-shrinkwrap.json", "npm"},
	{"pnpm-lock.yaml", "pnpm"},
	{"yarn.lock", "yarn"},
}

// Inspect reads what the workflow depends on from the package in dir:
// package.json (packageManager, devEngines.packageManager, scripts.test,
// publishConfig.registry) and the lock files.
func Inspect(dir string) (*Package, error) {
	m, err := manifest.Read(dir)
	if err != nil {
		return nil, err
	}
	p := &Package{Lockfiles: map[string]string{}}
	_, p.HasTest = m.Scripts["test"]
	p.Private = m.Raw["private"] == true
	if pc, ok := m.Raw["publishConfig"].(map[string]any); ok {
		if r, ok := pc["registry"].(string); ok {
			p.Registry = r
		}
	}
	for _, l := range lockfiles {
		if _, ok := p.Lockfiles[l.pm]; ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, l.file)); err == nil {
			p.Lockfiles[l.pm] = l.file
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	file := filepath.Join(dir, "package.json")
	name, version, field := declaredManager(m.Raw)
	switch {
	case field != "" && name == "":
		return nil, hint.With(fmt.Errorf("%s: %s %q names no package manager airlock init knows", file, field, version),
			"write npm@VERSION, pnpm@VERSION or yarn@VERSION there, or pass --package-manager")
	case field != "":
		p.PackageManager, p.PackageManagerSource = name, "the "+field+" field"
	default:
		for _, l := range lockfiles {
			if p.Lockfiles[l.pm] == l.file {
				p.Candidates = append(p.Candidates, l.file)
				p.PackageManager, p.PackageManagerSource = l.pm, l.file
			}
		}
		if len(p.Candidates) > 1 {
			p.PackageManager, p.PackageManagerSource = "", ""
		}
	}
	if name == "yarn" && version != "" {
		p.YarnClassic = strings.HasPrefix(version, "1.")
	} else if _, ok := p.Lockfiles["yarn"]; ok {
		p.YarnClassic = isYarnClassicLock(filepath.Join(dir, "yarn.lock"))
	}
	return p, nil
}

// declaredManager reads packageManager ("pnpm@9.1.0+sha512…"), else
// devEngines.packageManager ({"name": "pnpm"}). It returns the name when
// it is one init knows, the version as written, and the field it read.
func declaredManager(raw map[string]any) (name, version, field string) {
	var n string
	if s, ok := raw["packageManager"].(string); ok && s != "" {
		n, version, _ = strings.Cut(s, "@")
		field = "packageManager"
	} else if de, ok := raw["devEngines"].(map[string]any); ok {
		if pm, ok := de["packageManager"].(map[string]any); ok {
			n, _ = pm["name"].(string)
			version, _ = pm["version"].(string)
			field = "devEngines.packageManager"
		}
	}
	switch n {
	case "npm", "pnpm", "yarn":
		return n, version, field
	}
	if field != "" {
		version = n + "@" + version
	}
	return "", version, field
}

// isYarnClassicLock tells a Yarn 1 lock file from a Yarn 2+ one, which
// has a __metadata entry.
func isYarnClassicLock(file string) bool {
	data, err := os.ReadFile(file)
	return err == nil && !bytes.Contains(data, []byte("\n__metadata:"))
}

// Generate reads the package (with Workspaces, the workspace root) in dir
// and renders its release workflow.
func Generate(dir string, opts Options) (*Workflow, error) {
	inspect := Inspect
	if opts.Workspaces {
		inspect = func(dir string) (*Package, error) { return InspectWorkspace(dir, opts.PackageManager) }
	}
	p, err := inspect(dir)
	if err != nil {
		return nil, err
	}
	return Render(p, opts)
}

// ErrNotWorkspaceRoot is returned by InspectWorkspace for a folder that is
// not the root of its workspace.
var ErrNotWorkspaceRoot = errors.New("not the workspace root")

// InspectWorkspace reads the workspace whose root is dir as airlock pack
// --workspaces finds it (the manager, the public packages) and the root's
// package.json and lock files as Inspect reads them. manager is
// --package-manager, or "".
func InspectWorkspace(dir, manager string) (*Package, error) {
	var m workspace.Manager
	if manager != "" {
		var err error
		if m, err = workspace.ParseManager(manager); err != nil {
			return nil, err
		}
	}
	ws, err := workspace.Find(dir, workspace.Options{Manager: m})
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if ws.Root != abs {
		return nil, hint.With(fmt.Errorf("%s is in the workspace %s, %w", abs, ws.Root, ErrNotWorkspaceRoot),
			"run airlock init --workspaces in the workspace root")
	}
	p, err := Inspect(ws.Root)
	if err != nil {
		return nil, err
	}
	p.PackageManager, p.PackageManagerSource = string(ws.Manager), ws.Why
	p.Candidates, p.Private, p.Workspace, p.Registry = nil, false, true, ""
	seen := map[string]bool{}
	for _, wp := range ws.Packages {
		if wp.Private || wp.Name == "" || wp.Version == "" {
			continue
		}
		p.Packages = append(p.Packages, wp.Name)
		pm, err := manifest.Read(wp.Dir)
		if err != nil {
			return nil, err
		}
		reg := ""
		if pc, ok := pm.Raw["publishConfig"].(map[string]any); ok {
			reg, _ = pc["registry"].(string)
		}
		if !seen[reg] {
			seen[reg] = true
			p.Registries = append(p.Registries, reg)
		}
	}
	if len(p.Registries) == 1 {
		p.Registry = p.Registries[0]
	}
	return p, nil
}

// ErrNoAirlockRef is returned when the commit of the airlock release to
// install is not known.
var ErrNoAirlockRef = errors.New("no commit of airlock to pin: --airlock-ref is needed")

var (
	refRE     = regexp.MustCompile(`^[0-9a-f]{40}$`)
	releaseRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)
	envRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	nodeRE    = regexp.MustCompile(`^([1-9][0-9]*)(\.(0|[1-9][0-9]*)){0,2}$`)
	tagRE     = regexp.MustCompile(`^[A-Za-z0-9._/*-]+$`)
	branchRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)
	// registryRE keeps the URL plain: it is written into YAML and shell.
	registryRE = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$`)
	pseudoRE   = regexp.MustCompile(`[0-9]{14}-[0-9a-f]{12}$`)
)

// ReleaseVersion returns v as a release tag (vX.Y.Z), or "" when it is
// not one: "devel", a Go pseudo-version, a build with local changes.
func ReleaseVersion(v string) string {
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !releaseRE.MatchString(v) || pseudoRE.MatchString(v) {
		return ""
	}
	return v
}

// plan is the template's input: the options resolved against the
// package and checked.
type plan struct {
	CI                             CI
	Stage                          bool
	Environment, NodeVersion       string
	PackageManager, Install        string
	PackageManagerSource           string
	Corepack                       bool
	Test, Build                    string
	TagPattern, TagRegexp          string
	Workspaces                     bool
	Branch                         string
	PackageManagerFlag             string
	Registry, RegistryFlag         string
	Audience                       string
	AirlockRef, AirlockVersion     string
	Checkout, SetupNode            action
	UploadArtifact, DownloadArtift action
	InstallScriptSHA256            string
	PackImage, PublishImage        image
}

// Render writes the workflow for p with opts. It reads no files.
func Render(p *Package, opts Options) (*Workflow, error) {
	pl, err := resolve(p, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	name, path := "github.yml.tmpl", GitHubPath
	if pl.CI == GitLab {
		name, path = "gitlab-ci.yml.tmpl", GitLabPath
	}
	if err := templates.ExecuteTemplate(&buf, name, pl); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", path, err)
	}
	var warnings []string
	if opts.Workspaces && len(p.Packages) == 0 && p.Workspace {
		warnings = append(warnings, "the workspace has no public package with a name and a version: airlock pack --workspaces will find nothing to release")
	}
	if p.Private && !opts.Workspaces {
		warnings = append(warnings, `package.json has "private": true, and airlock publish refuses private packages: remove it before the first release`)
	}
	return &Workflow{
		Warnings:             warnings,
		Path:                 path,
		Content:              buf.Bytes(),
		PackageManager:       pl.PackageManager,
		PackageManagerSource: pl.PackageManagerSource,
		Install:              pl.Install,
		NodeVersion:          pl.NodeVersion,
		Registry:             pl.Registry,
		Environment:          pl.Environment,
		Workspaces:           pl.Workspaces,
		Packages:             p.Packages,
	}, nil
}

func resolve(p *Package, opts Options) (*plan, error) {
	pl := &plan{
		CI:                  opts.CI,
		Stage:               opts.Stage,
		Environment:         or(opts.Environment, DefaultEnvironment),
		NodeVersion:         or(opts.NodeVersion, DefaultNodeVersion),
		TagPattern:          or(opts.TagPattern, DefaultTagPattern),
		AirlockRef:          strings.ToLower(opts.AirlockRef),
		AirlockVersion:      opts.AirlockVersion,
		Checkout:            checkout,
		SetupNode:           setupNode,
		UploadArtifact:      uploadArtifact,
		DownloadArtift:      downloadArtifact,
		InstallScriptSHA256: InstallScriptSHA256,
		PublishImage:        publishImage,
		Workspaces:          opts.Workspaces,
		Branch:              opts.Branch,
	}
	if pl.CI != GitHub && pl.CI != GitLab {
		return nil, fmt.Errorf("unknown CI %q: want github or gitlab", pl.CI)
	}
	if !envRE.MatchString(pl.Environment) {
		return nil, hint.With(fmt.Errorf("environment name %q: want letters, digits, '.', '_' and '-', starting with a letter or digit", pl.Environment),
			"pick a name such as release or npm; the trusted publisher on npmjs.com names the same environment")
	}
	m := nodeRE.FindStringSubmatch(pl.NodeVersion)
	if m == nil {
		return nil, hint.With(fmt.Errorf("--node-version %q: want a version number such as 24 or 24.11.1", pl.NodeVersion),
			"give a major version (it picks the newest release of that line): "+DefaultNodeVersion)
	}
	pl.PackImage = nodeImage(pl.NodeVersion)
	if err := checkTagPattern(pl.TagPattern); err != nil {
		return nil, err
	}
	pl.TagRegexp = tagRegexp(pl.TagPattern)
	if pl.Branch != "" {
		if !pl.Workspaces {
			return nil, hint.With(errors.New("--branch needs --workspaces"),
				"a release of one package starts on a tag; --workspaces releases on every push the versions the registry does not have yet")
		}
		if opts.TagPattern != "" {
			return nil, errors.New("--branch and --tag-pattern: a release starts on pushes to the branch or on tags, not both")
		}
		if !branchRE.MatchString(pl.Branch) || strings.Contains(pl.Branch, "..") || strings.HasSuffix(pl.Branch, "/") {
			return nil, hint.With(fmt.Errorf("--branch %q: want a branch name of letters, digits, '.', '_', '/' and '-'", pl.Branch),
				"for example main")
		}
	}

	pl.PackageManager, pl.PackageManagerSource = p.PackageManager, p.PackageManagerSource
	if opts.PackageManager != "" {
		pl.PackageManager, pl.PackageManagerSource = opts.PackageManager, "--package-manager"
		if pl.Workspaces {
			pl.PackageManagerFlag = opts.PackageManager
		}
	}
	switch pl.PackageManager {
	case "npm":
		pl.Install = "npm ci"
	case "pnpm":
		pl.Install, pl.Corepack = "pnpm install --frozen-lockfile", true
	case "yarn":
		pl.Install, pl.Corepack = "yarn install --immutable", true
		if p.YarnClassic {
			pl.Install = "yarn install --frozen-lockfile"
		}
	case "":
		if len(p.Candidates) > 1 {
			return nil, hint.With(fmt.Errorf("lock files of several package managers (%s): cannot tell which one installs this package", strings.Join(p.Candidates, ", ")),
				"pass --package-manager npm, pnpm or yarn, or set packageManager in package.json (and remove the other lock files)")
		}
		return nil, hint.With(errors.New("no lock file, no packageManager field: cannot tell which package manager installs this package"),
			"commit the lock file (npm install, pnpm install or yarn install writes it), or pass --package-manager")
	default:
		return nil, fmt.Errorf("--package-manager %q: want npm, pnpm or yarn", pl.PackageManager)
	}
	if pl.Workspaces && pl.PackageManager == "yarn" && p.YarnClassic {
		return nil, hint.With(errors.New("a Yarn 1 workspace: airlock pack --workspaces packs Yarn 2 and later workspaces only"),
			"move the workspace to Yarn 4 (corepack use yarn@4), or release its packages one by one")
	}
	if _, ok := p.Lockfiles[pl.PackageManager]; !ok {
		want := map[string]string{"npm": "package-lock.json", "pnpm": "pnpm-lock.yaml", "yarn": "yarn.lock"}[pl.PackageManager]
		return nil, hint.With(fmt.Errorf("no %s: the pack job installs with %s, which needs the lock file", want, pl.Install),
			"run "+pl.PackageManager+" install and commit "+want+": a release installs exactly what was tested")
	}
	if major, _ := strconv.Atoi(m[1]); pl.Corepack && major > 24 {
		return nil, hint.With(fmt.Errorf("--node-version %s: the pack job gets %s from corepack, which Node.js ships up to version 24 only", pl.NodeVersion, pl.PackageManager),
			"use --node-version 24 (the pack job only builds; it never publishes)")
	}

	switch {
	case opts.TestCommand != nil:
		pl.Test = *opts.TestCommand
	case p.HasTest:
		pl.Test = pl.PackageManager + " test"
	}
	pl.Build = opts.BuildCommand
	for _, c := range []struct{ flag, cmd string }{{"--test-command", pl.Test}, {"--build-command", pl.Build}} {
		if err := checkCommand(c.flag, c.cmd); err != nil {
			return nil, err
		}
	}

	pl.Registry = or(p.Registry, DefaultRegistry)
	if len(p.Registries) > 1 && opts.Registry == "" && pl.CI == GitLab {
		return nil, hint.With(fmt.Errorf("the workspace's packages publish to different registries (publishConfig.registry: %s), and the publish job's ID token has one audience", quoteRegistries(p.Registries)),
			"publish them to one registry, or pass --registry")
	}
	if opts.Registry != "" {
		pl.Registry, pl.RegistryFlag = opts.Registry, opts.Registry
	}
	if !registryRE.MatchString(pl.Registry) {
		return nil, hint.With(fmt.Errorf("registry URL %q: want http(s)://host[:port]/path with no other characters", pl.Registry),
			"give the registry as npm writes it, such as "+DefaultRegistry)
	}
	aud, err := idtoken.Audience(pl.Registry)
	if err != nil {
		return nil, err
	}
	pl.Audience = aud

	if pl.AirlockVersion == "" {
		return nil, hint.With(errors.New("no airlock version to install: this airlock is not a release build"),
			"pass --airlock-version vX.Y.Z (and --airlock-ref, the commit of that release)")
	}
	if !releaseRE.MatchString(pl.AirlockVersion) {
		return nil, hint.With(fmt.Errorf("--airlock-version %q is not a release tag", pl.AirlockVersion), "give it as vX.Y.Z, for example v1.2.3")
	}
	if pl.AirlockRef == "" {
		return nil, hint.With(ErrNoAirlockRef, refAdvice(pl.AirlockVersion))
	}
	if !refRE.MatchString(pl.AirlockRef) {
		return nil, hint.With(fmt.Errorf("--airlock-ref %q is not a commit id (40 hex digits)", opts.AirlockRef), refAdvice(pl.AirlockVersion))
	}
	return pl, nil
}

func refAdvice(version string) string {
	return fmt.Sprintf("the workflow pins airlock by the commit that records %[1]s's checksums, which a binary cannot know of itself; "+
		"find it with: git ls-remote https://github.com/airlockdev/airlock refs/tags/%[1]s 'refs/tags/%[1]s^{}' "+
		"(the last line's id: the ^{} line of an annotated tag is its commit) and pass it as --airlock-ref", version)
}

func quoteRegistries(regs []string) string {
	q := make([]string, len(regs))
	for i, r := range regs {
		q[i] = strconv.Quote(or(r, "none"))
	}
	return strings.Join(q, ", ")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkTagPattern(p string) error {
	if !tagRE.MatchString(p) || strings.Contains(p, "***") || strings.HasPrefix(p, "/") {
		return hint.With(fmt.Errorf("--tag-pattern %q: want letters, digits, '.', '_', '/', '-' and the wildcards * and **", p),
			"for example v* (every tag starting with v) or release/v*; other pattern syntax means different things to GitHub and GitLab")
	}
	return nil
}

// tagRegexp is the GitLab regular expression for a tag pattern: * is any
// run of characters but '/', ** any run at all, as in GitHub's filters.
func tagRegexp(p string) string {
	var b strings.Builder
	b.WriteString("/^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString(`[^\/]*`)
		case c == '.':
			b.WriteString(`\.`)
		case c == '/':
			b.WriteString(`\/`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("$/")
	return b.String()
}

// checkCommand refuses what would change the workflow rather than run in
// it: several lines, and GitHub expressions, which Actions would expand
// before the shell sees the command.
func checkCommand(flag, cmd string) error {
	switch {
	case strings.ContainsAny(cmd, "\n\r"):
		return hint.With(fmt.Errorf("%s: one line, please", flag), "join commands with &&, or run a script from package.json")
	case strings.Contains(cmd, "${{"):
		return hint.With(fmt.Errorf("%s %q holds a GitHub expression (${{ … }}), which Actions would expand into the script", flag, cmd),
			"read the value from an environment variable in the command instead")
	case cmd != strings.TrimSpace(cmd):
		return fmt.Errorf("%s %q: remove the spaces around it", flag, cmd)
	}
	return nil
}

// ErrExists is returned by Write for a file that exists already.
var ErrExists = errors.New("already exists")

// Write writes w into the repository at root and returns the file's path.
// It never replaces a file unless force is set, and never leaves a partial
// file: the content goes to a temporary file renamed (or linked, to fail
// when the file appeared meanwhile) into place.
func Write(root string, w *Workflow, force bool) (string, error) {
	file := filepath.Join(root, filepath.FromSlash(w.Path))
	if _, err := os.Lstat(file); err == nil && !force {
		return "", existsError(file, w)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".airlock-init-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(w.Content); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	if force {
		err = os.Rename(tmp.Name(), file)
	} else if err = os.Link(tmp.Name(), file); errors.Is(err, fs.ErrExist) {
		return "", existsError(file, w)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	return file, nil
}

func existsError(file string, w *Workflow) error {
	advice := "pass --force to replace it, or --stdout to print the workflow instead"
	if w.Path == GitLabPath {
		advice = "pass --stdout to print the jobs and merge them into it, or --force to replace it"
	}
	return hint.With(fmt.Errorf("%s %w", file, ErrExists), advice)
}

// ErrNotRoot is returned by CheckRoot for a folder inside a git checkout
// but not at its top.
var ErrNotRoot = errors.New("not the top of the git checkout")

// CheckRoot checks that dir is where the CI reads its configuration from:
// the top of its git checkout (or a folder outside any checkout).
func CheckRoot(dir string, ci CI) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, ".git")); err == nil {
		return nil
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			where := GitHubPath
			if ci == GitLab {
				where = GitLabPath
			}
			return hint.With(fmt.Errorf("%s is inside the git checkout %s, %w: the CI reads %s from the top only", abs, d, ErrNotRoot, where),
				"run airlock init at the top of the checkout; for a package in a sub-folder, print the workflow with --stdout and run its commands in that folder")
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
