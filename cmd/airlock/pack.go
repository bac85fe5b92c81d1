package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/ciout"
	"github.com/airlockdev/airlock/pack"
)

type packFlags struct {
	destination   string
	dryRun        bool
	json          bool
	ignoreScripts bool
	dotenv        string
	verbose       bool
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
its commit.`,
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
	return cmd
}

func runPack(cmd *cobra.Command, e *env, args []string, f packFlags) error {
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	log := newLogger(e, f.verbose)
	res, err := pack.Pack(cmd.Context(), dir, pack.Options{
		Destination:   f.destination,
		DryRun:        f.dryRun,
		IgnoreScripts: f.ignoreScripts,
		Env:           e.vars,
		Stdout:        e.stderr, // stdout carries only the result
		Stderr:        e.stderr,
		Logger:        log,
		ToolVersion:   toolVersion(),
	})
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
		fmt.Fprintf(w, "%-7s %s\n", formatBytes(f.Size), f.Path)
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
	fmt.Fprintf(w, "package size:  %s\n", formatBytes(rep.Size))
	fmt.Fprintf(w, "unpacked size: %s\n", formatBytes(rep.UnpackedSize))
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
