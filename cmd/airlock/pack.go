package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/bytesize"
	"github.com/airlockdev/airlock/internal/ciout"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/workspace"
	"github.com/airlockdev/airlock/pack"
)

type packFlags struct {
	destination   string
	dryRun        bool
	json          bool
	ignoreScripts bool
	dotenv        string
	verbose       bool
	// Workspaces (monorepos).
	workspaces      bool
	workspace       []string
	packageManager  string
	onlyUnpublished bool
}

func newPackCmd(e *env) *cobra.Command {
	var f packFlags
	cmd := &cobra.Command{
		Use:   "pack [DIR]",
		Short: "Build the package tarball exactly as npm pack does, and record its digest",
		Long: `Pack the package in DIR (default: the current folder) into the tarball npm
would publish: the same files, the same tar bytes, the same name.

Before packing, airlock runs the package's prepublishOnly, prepack and
prepare scripts, and postpack after, as 'npm publish' would for a folder:
this is the job where package code may run, and 'airlock publish' runs
none. --ignore-scripts runs none here either.

Next to the tarball it writes <tarball>.receipt.json. stdout is the
tarball's path, so 'airlock publish "$(airlock pack)"' works: relative
when the destination (or DIR) was given relative, the bare file name when
neither was given. --dotenv writes the same path; when GITHUB_OUTPUT is set
it appends the outputs tarball (absolute), integrity, name and version;
pass the integrity to the publish job through job outputs.

Warnings (always shown) say what airlock publish would refuse, dependency
specs that only resolve in the source tree, a "main" or "bin" the tarball
lacks, earlier tarballs packed again, and a git checkout that differs from
its commit.

With --workspaces (or --workspace NAME, repeatable) airlock packs the
packages of the workspace DIR is in, each as its package manager (npm,
pnpm or yarn; --package-manager overrides the detected one) would publish
it, in dependency order, and writes release.json next to the tarballs
(default: the workspace root). stdout is release.json's path; with
GITHUB_OUTPUT set it appends manifest and manifest-integrity. Private
packages are skipped; --only-unpublished also skips the versions the
registry already has. When that leaves nothing, it is a release with
nothing in it: airlock says so, writes no release.json, appends
nothing-to-release=true to GITHUB_OUTPUT (AIRLOCK_NOTHING_TO_RELEASE=true
with --dotenv) and exits 0.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("pack takes at most one folder, got %d", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPack(cmd, e, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.destination, "pack-destination", "", "folder to write the tarball and receipt to (default: the package folder)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "report what would be packed without writing anything")
	fl.BoolVar(&f.json, "json", false, "print the report as npm pack --json does")
	fl.BoolVar(&f.ignoreScripts, "ignore-scripts", false, "run no lifecycle scripts")
	fl.StringVar(&f.dotenv, "dotenv", "", "also write AIRLOCK_* outputs to this dotenv file (GitLab artifacts:reports:dotenv)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each step to stderr")
	fl.BoolVar(&f.workspaces, "workspaces", false, "pack every public package of the workspace DIR is in, and write release.json")
	fl.StringArrayVar(&f.workspace, "workspace", nil, "pack this workspace package (a name or a folder; repeatable), and write release.json")
	fl.StringVar(&f.packageManager, "package-manager", "", "with --workspaces: pack as npm, pnpm or yarn (default: from packageManager or the lockfile)")
	fl.BoolVar(&f.onlyUnpublished, "only-unpublished", false, "with --workspaces: skip packages whose version the registry already has")
	return cmd
}

func runPack(cmd *cobra.Command, e *env, args []string, f packFlags) error {
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	if f.workspaces || len(f.workspace) > 0 {
		return runPackWorkspaces(cmd, e, dir, f)
	}
	switch {
	case f.packageManager != "":
		return usageError{fmt.Errorf("--package-manager needs --workspaces or --workspace")}
	case f.onlyUnpublished:
		return usageError{fmt.Errorf("--only-unpublished needs --workspaces or --workspace")}
	}
	res, err := pack.Pack(cmd.Context(), dir, packOptions(e, f))
	if err != nil {
		return err
	}
	rep := res.Report
	shown := tarballPath(args, f.destination, rep.Filename)
	if !f.dryRun {
		abs, err := filepath.Abs(res.Tarball)
		if err != nil {
			return err
		}
		outs := []ciout.Output{
			// Later steps of the job read this; actions resolve relative
			// paths against the workspace, not a run step's
			// working-directory, so it is absolute.
			{Name: "tarball", Value: abs},
			{Name: "integrity", Value: rep.Integrity},
			{Name: "name", Value: rep.Name},
			{Name: "version", Value: rep.Version},
		}
		if p, ok := e.lookup("GITHUB_OUTPUT"); ok && p != "" {
			if err := ciout.AppendGitHub(p, outs); err != nil {
				return fmt.Errorf("writing GitHub Actions outputs: %w", err)
			}
		}
		if f.dotenv != "" {
			// A later job reads this, in its own checkout, perhaps at
			// another absolute path: the path as stdout has it.
			outs[0].Value = shown
			env := make([]ciout.Output, len(outs))
			for i, o := range outs {
				env[i] = ciout.Output{Name: "AIRLOCK_" + strings.ToUpper(o.Name), Value: o.Value}
			}
			if err := ciout.WriteDotenv(f.dotenv, env); err != nil {
				return fmt.Errorf("writing dotenv report: %w", err)
			}
		}
	}
	if f.json {
		out, err := json.MarshalIndent([]pack.Report{rep}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	}
	printPackSummary(e, res, shown, f.dryRun)
	_, err = fmt.Fprintln(e.stdout, shown)
	return err
}

// tarballPath is the tarball's path as the user would write it: under the
// destination or the package folder as they were given, or the bare file
// name when neither was.
func tarballPath(args []string, destination, filename string) string {
	switch {
	case destination != "":
		return filepath.Join(destination, filename)
	case len(args) == 1:
		return filepath.Join(args[0], filename)
	}
	return filename
}

func printPackSummary(e *env, res *pack.Result, shown string, dryRun bool) {
	rep := res.Report
	w := e.stderr
	fmt.Fprintf(w, "package: %s@%s\n", rep.Name, rep.Version)
	fmt.Fprintln(w, "Tarball Contents")
	for _, f := range rep.Files {
		if strings.HasPrefix(f.Path, "node_modules/") {
			continue
		}
		fmt.Fprintf(w, "%-7s %s\n", bytesize.String(f.Size), f.Path)
	}
	if len(rep.Bundled) > 0 {
		fmt.Fprintln(w, "Bundled Dependencies")
		for _, b := range rep.Bundled {
			fmt.Fprintln(w, b)
		}
	}
	fmt.Fprintln(w, "Tarball Details")
	fmt.Fprintf(w, "name:          %s\n", rep.Name)
	fmt.Fprintf(w, "version:       %s\n", rep.Version)
	fmt.Fprintf(w, "filename:      %s\n", rep.Filename)
	fmt.Fprintf(w, "package size:  %s\n", bytesize.String(rep.Size))
	fmt.Fprintf(w, "unpacked size: %s\n", bytesize.String(rep.UnpackedSize))
	fmt.Fprintf(w, "shasum:        %s\n", rep.Shasum)
	fmt.Fprintf(w, "integrity:     %s\n", rep.Integrity)
	fmt.Fprintf(w, "total files:   %d\n", rep.EntryCount)
	switch {
	case dryRun:
		fmt.Fprintf(w, "dry run: nothing written (would write %s)\n", shown)
	default:
		fmt.Fprintf(w, "wrote %s\n", shown)
		fmt.Fprintf(w, "wrote %s\n", shown+pack.ReceiptSuffix)
	}
}

// runPackWorkspaces packs the packages of a workspace and writes
// release.json; stdout is its path (or the reports, with --json).
// packOptions are the options every pack takes from the flags.
func packOptions(e *env, f packFlags) pack.Options {
	return pack.Options{
		Destination:   f.destination,
		DryRun:        f.dryRun,
		IgnoreScripts: f.ignoreScripts,
		Env:           e.vars,
		Stdout:        e.stderr, // stdout carries only the result
		Stderr:        e.stderr,
		Logger:        newLogger(e, f.verbose),
		ToolVersion:   toolVersion(),
	}
}

func runPackWorkspaces(cmd *cobra.Command, e *env, dir string, f packFlags) error {
	var pm workspace.Manager
	if f.packageManager != "" {
		var err error
		if pm, err = workspace.ParseManager(f.packageManager); err != nil {
			return usageError{err}
		}
	}
	opts := pack.WorkspaceOptions{
		Options:         packOptions(e, f),
		Manager:         pm,
		Select:          f.workspace,
		OnlyUnpublished: f.onlyUnpublished,
	}
	if f.onlyUnpublished {
		cfg, err := loadConfig(e, nil)
		if err != nil {
			return err
		}
		pol, err := networkPolicy(e, netFlags{}, cfg, diagnosis)
		if err != nil {
			return err
		}
		opts.Config = cfg
		opts.Registry = &registry.Client{UserAgent: "airlock/" + toolVersion(), Logger: opts.Logger, HTTP: pol.Client()}
	}
	res, err := pack.PackWorkspaces(cmd.Context(), dir, opts)
	if res != nil {
		for _, s := range res.Skipped {
			id := s.Name
			if s.Version != "" {
				id += "@" + s.Version
			}
			if id == "" {
				id = s.Path
			}
			fmt.Fprintf(e.stderr, "skipped %s (%s): %s\n", id, s.Path, s.Reason)
		}
	}
	if err != nil {
		return err
	}
	if res.NothingToRelease {
		return nothingToRelease(e, f)
	}
	shown := releasePath(f.destination, res.Workspace.Root)
	if !f.dryRun {
		abs, err := filepath.Abs(res.ReleasePath)
		if err != nil {
			return err
		}
		outs := []ciout.Output{
			{Name: "manifest", Value: abs},
			{Name: "manifest-integrity", Value: res.ReleaseIntegrity},
		}
		if p, ok := e.lookup("GITHUB_OUTPUT"); ok && p != "" {
			if err := ciout.AppendGitHub(p, outs); err != nil {
				return fmt.Errorf("writing GitHub Actions outputs: %w", err)
			}
		}
		if f.dotenv != "" {
			env := []ciout.Output{
				{Name: "AIRLOCK_MANIFEST", Value: shown},
				{Name: "AIRLOCK_MANIFEST_INTEGRITY", Value: res.ReleaseIntegrity},
			}
			if err := ciout.WriteDotenv(f.dotenv, env); err != nil {
				return fmt.Errorf("writing dotenv report: %w", err)
			}
		}
	}
	if f.json {
		reps := make([]pack.Report, len(res.Packed))
		for i, r := range res.Packed {
			reps[i] = r.Report
		}
		out, err := json.MarshalIndent(reps, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", out)
		return err
	}
	w := e.stderr
	fmt.Fprintf(w, "workspace: %s (%s, %s)\n", res.Workspace.Root, res.Workspace.Manager, res.Workspace.Why)
	for _, r := range res.Packed {
		fmt.Fprintf(w, "packed %s: %s, %d files, %s, %s\n", r.Report.ID, r.Report.Filename, r.Report.EntryCount, bytesize.String(r.Report.Size), r.Report.Integrity)
	}
	if f.dryRun {
		fmt.Fprintf(w, "dry run: nothing written (would write %s, integrity %s)\n", shown, res.ReleaseIntegrity)
	} else {
		fmt.Fprintf(w, "wrote %s (integrity %s)\n", shown, res.ReleaseIntegrity)
	}
	_, err = fmt.Fprintln(e.stdout, shown)
	return err
}

// releasePath is release.json's path as the user would write it: under
// the destination as given, else the workspace root relative to the
// current folder when it is inside it.
func releasePath(destination, root string) string {
	if destination != "" {
		return filepath.Join(destination, pack.ReleaseManifestName)
	}
	if cwd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(cwd, root); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.Join(rel, pack.ReleaseManifestName)
		}
	}
	return filepath.Join(root, pack.ReleaseManifestName)
}

// nothingToRelease reports a pack --only-unpublished that found every
// version on the registry: a release with nothing in it, which ends well
// and says so to the jobs after it.
func nothingToRelease(e *env, f packFlags) error {
	fmt.Fprintln(e.stderr, "nothing to release: the version of every package selected is on the registry already")
	if f.dryRun {
		return nil
	}
	if p, ok := e.lookup("GITHUB_OUTPUT"); ok && p != "" {
		if err := ciout.AppendGitHub(p, []ciout.Output{{Name: "nothing-to-release", Value: "true"}}); err != nil {
			return fmt.Errorf("writing GitHub Actions outputs: %w", err)
		}
	}
	if f.dotenv != "" {
		if err := ciout.WriteDotenv(f.dotenv, []ciout.Output{{Name: "AIRLOCK_NOTHING_TO_RELEASE", Value: "true"}}); err != nil {
			return fmt.Errorf("writing dotenv report: %w", err)
		}
	}
	if f.json {
		fmt.Fprintln(e.stdout, "[]")
	}
	return nil
}
