package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/scaffold"
)

type initFlags struct {
	stdout, force  bool
	stage          bool
	environment    string
	nodeVersion    string
	packageManager string
	testCommand    string
	buildCommand   string
	tagPattern     string
	registry       string
	airlockRef     string
	airlockVersion string
	workspaces     bool
	branch         string
}

func newInitCmd(e *env) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init github|gitlab",
		Short: "Write a hardened release workflow: a pack job without credentials, a publish job that runs no package code",
		Long: `Writes the release workflow for the package in the current folder, split
as airlock means it: a pack job that installs, tests and runs airlock pack
with no credential, and a publish job, the only one that can get an OIDC
ID token, that checks the tarball against pack's digest and runs airlock
publish with trusted publishing, and nothing else.

  airlock init github   writes .github/workflows/release.yml
  airlock init gitlab   writes .gitlab-ci.yml

A release starts when a tag matching --tag-pattern is pushed (on GitLab, a
protected one). An existing file is never replaced without --force;
--stdout prints the workflow instead. Comments in the file say why each
line is there and what to set up on npmjs.com (the trusted publisher) and
in the repository.

The package manager is the one package.json's packageManager (or
devEngines.packageManager) names, else the one whose lock file is there;
the pack job installs with npm ci, pnpm install --frozen-lockfile or
yarn install --immutable (--frozen-lockfile for Yarn 1), pnpm and yarn
through corepack. The tests run when package.json has a test script.

Both jobs install airlock pinned by the commit of its release: on GitHub
with the airlock action (uses: airlockdev/airlock@COMMIT, whose commit
holds the release's checksums), on GitLab with install.sh and
release/SHA256SUMS downloaded from that commit, install.sh run only if it
has the sha256 of the install.sh this airlock was built with. A binary
cannot know the commit of its own release (that commit records the
binary's checksum), so --airlock-ref is required. Find it with
  git ls-remote https://github.com/airlockdev/airlock refs/tags/vX.Y.Z 'refs/tags/vX.Y.Z^{}'
(the last line's id). --airlock-version defaults to this airlock's version
when it is a release.

With --workspaces, run in a workspace root (npm, pnpm or yarn 2+), the
workflow releases the whole monorepo: the pack job runs
airlock pack --workspaces --only-unpublished, which packs each public
package whose version the registry does not have yet and writes
release.json; the publish job runs airlock publish --manifest, pinned by
release.json's digest. When every version is on the registry already the
run ends with "nothing to release". --branch main releases on every push
to main instead of on tags, as after a changesets "Version Packages" pull
request is merged.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != string(scaffold.GitHub) && args[0] != string(scaffold.GitLab)) {
				return usageError{fmt.Errorf("init takes one argument, github or gitlab, got %q", strings.Join(args, " "))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd, e, scaffold.CI(args[0]), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.stdout, "stdout", false, "print the workflow instead of writing it")
	fl.BoolVar(&f.force, "force", false, "replace the file if it exists")
	fl.BoolVar(&f.stage, "stage", false, "stage the version on the registry, to be approved with 2FA (airlock publish --stage)")
	fl.StringVar(&f.environment, "environment", scaffold.DefaultEnvironment, "the CI environment of the publish job, which the trusted publisher names")
	fl.StringVar(&f.nodeVersion, "node-version", scaffold.DefaultNodeVersion, "the Node.js the pack job runs (the publish job runs none)")
	fl.StringVar(&f.packageManager, "package-manager", "", "npm, pnpm or yarn (default: from packageManager in package.json, else the lock file)")
	fl.StringVar(&f.testCommand, "test-command", "", `the command that tests the package ("" for none; default: the package manager's test, when package.json has a test script)`)
	fl.StringVar(&f.buildCommand, "build-command", "", "a command to run after the tests (default: none; airlock pack runs the prepack and prepare scripts)")
	fl.StringVar(&f.tagPattern, "tag-pattern", scaffold.DefaultTagPattern, "the tags that start a release (letters, digits, . _ / - and the wildcards * and **)")
	fl.StringVar(&f.registry, "registry", "", "the registry to publish to (default: publishConfig.registry, else "+scaffold.DefaultRegistry+")")
	fl.StringVar(&f.airlockRef, "airlock-ref", "", "the commit of github.com/airlockdev/airlock whose checksums the jobs install airlock by (40 hex digits)")
	fl.StringVar(&f.airlockVersion, "airlock-version", "", "the airlock release the jobs install, vX.Y.Z (default: this airlock's version, when it is a release)")
	fl.BoolVar(&f.workspaces, "workspaces", false, "release every public package of the workspace whose version the registry does not have (airlock pack --workspaces, airlock publish --manifest)")
	fl.StringVar(&f.branch, "branch", "", "with --workspaces: release on every push to this branch instead of on tags (the changesets flow)")
	return cmd
}

func runInit(cmd *cobra.Command, e *env, ci scaffold.CI, f initFlags) error {
	if f.stdout && f.force {
		return usageError{fmt.Errorf("--force and --stdout: --stdout writes no file")}
	}
	if f.branch != "" && !f.workspaces {
		return usageError{fmt.Errorf("--branch needs --workspaces: a release of one package starts on a tag")}
	}
	if f.branch != "" && cmd.Flags().Changed("tag-pattern") {
		return usageError{fmt.Errorf("--branch and --tag-pattern: a release starts on pushes to the branch or on tags, not both")}
	}
	opts := scaffold.Options{
		CI:             ci,
		Stage:          f.stage,
		Environment:    f.environment,
		NodeVersion:    f.nodeVersion,
		PackageManager: f.packageManager,
		BuildCommand:   f.buildCommand,
		TagPattern:     f.tagPattern,
		Registry:       f.registry,
		AirlockRef:     f.airlockRef,
		AirlockVersion: f.airlockVersion,
		Workspaces:     f.workspaces,
		Branch:         f.branch,
	}
	if f.branch != "" {
		opts.TagPattern = ""
	}
	if cmd.Flags().Changed("test-command") {
		opts.TestCommand = &f.testCommand
	}
	if opts.AirlockVersion == "" {
		opts.AirlockVersion = scaffold.ReleaseVersion(toolVersion())
	}
	if !f.stdout {
		if err := scaffold.CheckRoot(".", ci); err != nil {
			return err
		}
	}
	wf, err := scaffold.Generate(".", opts)
	if err != nil {
		return err
	}
	for _, w := range wf.Warnings {
		warnf(e, "%s", w)
	}
	if ci == scaffold.GitLab && opts.AirlockVersion != scaffold.ReleaseVersion(toolVersion()) {
		warnf(e, "the GitLab jobs run install.sh only if it has the sha256 of the install.sh this airlock (%s) was built with; if install.sh at %s differs, they stop before running it: to pin %s, run airlock init of %s",
			toolVersion(), opts.AirlockRef, opts.AirlockVersion, opts.AirlockVersion)
	}
	if f.stdout {
		printInitSummary(e, wf, f.stage)
		_, err := e.stdout.Write(wf.Content)
		return err
	}
	if _, err := scaffold.Write(".", wf, f.force); err != nil {
		return err
	}
	printInitSummary(e, wf, f.stage)
	fmt.Fprintf(e.stderr, "wrote %s\nnext: set up what its first comments say (the trusted publisher on npmjs.com, the environment, protected tags)\n", wf.Path)
	_, err = fmt.Fprintln(e.stdout, filepath.FromSlash(wf.Path))
	return err
}

func printInitSummary(e *env, wf *scaffold.Workflow, stage bool) {
	w := e.stderr
	fmt.Fprintf(w, "pack job:      %s (%s, from %s), Node.js %s\n", wf.Install, wf.PackageManager, wf.PackageManagerSource, wf.NodeVersion)
	publish := "publishes"
	if stage {
		publish = "stages (approve with airlock stage approve)"
	}
	if wf.Workspaces {
		fmt.Fprintf(w, "workspace:     %d public %s: %s\n", len(wf.Packages), plural(len(wf.Packages), "package", "packages"), strings.Join(wf.Packages, ", "))
	}
	fmt.Fprintf(w, "publish job:   %s to %s by trusted publishing, environment %s\n", publish, wf.Registry, wf.Environment)
}
