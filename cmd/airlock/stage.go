package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/bytesize"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/tardiff"
	"github.com/airlockdev/airlock/stage"
)

const stageSubcommands = "list, view, download, approve or reject (and review, to check one before approving)"

func newStageCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stage SUBCOMMAND",
		Short: "Review staged versions: list, view, download, review, approve or reject them",
		Long: `Review versions staged on the registry (npm stage publish) before they go live.

A staged version waits on the registry until a maintainer approves it with
a second factor, so a release job that was tricked or hijacked cannot make
a version live on its own. These commands are for that maintainer, run by
a human with their own npm token, and work as npm 11's 'npm stage' does:

  airlock stage list [PACKAGE]   staged versions, of one package or all
  airlock stage view ID          one staged version's record
  airlock stage download ID      its tarball, checked, to look at before approving
  airlock stage review ID        what it changes since the last release, its
                                 provenance, and a rebuild from source
  airlock stage approve ID       publish it (needs --otp, your 2FA code;
                                 --reviewed binds it to what you reviewed)
  airlock stage reject ID        delete it and its tarball (needs --otp)

IDs are the UUIDs 'airlock stage list' shows. Configuration and
credentials come from .npmrc files and npm_config_* variables as npm
reads them, except how to connect: a proxy or trust roots only from
--proxy, --noproxy, --cafile or the user's npmrc, never from variables
such as HTTPS_PROXY or SSL_CERT_FILE (airlock says which it ignored), and
strict-ssl=false is refused. airlock never prompts: give the one-time
password with --otp.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("stage needs a subcommand: %s", stageSubcommands)}
			}
			return usageError{fmt.Errorf("unknown stage subcommand %q: want %s", args[0], stageSubcommands)}
		},
		// Args refuses every call that reaches here; without a RunE cobra
		// would print the help and exit 0 for "stage foo".
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(newStageListCmd(e), newStageViewCmd(e), newStageDownloadCmd(e), newStageReviewCmd(e), newStageApproveCmd(e), newStageRejectCmd(e))
	return cmd
}

// reviewFlags are the flags every stage subcommand has.
type reviewFlags struct {
	registry string
	otp      string
	json     bool
	verbose  bool
	net      netFlags
}

func (f *reviewFlags) add(cmd *cobra.Command, json, otp bool) {
	cmd.Flags().StringVar(&f.registry, "registry", "", "registry URL (default: from npm configuration)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log each step to stderr")
	f.net.register(cmd.Flags())
	if json {
		cmd.Flags().BoolVar(&f.json, "json", false, "print the registry's JSON")
	}
	if otp {
		cmd.Flags().StringVar(&f.otp, "otp", "", "one-time password from your authenticator app (2FA)")
	}
}

// options loads npm's configuration with the flags on top, as publish does.
func (f *reviewFlags) options(e *env) (stage.ReviewOptions, error) {
	cfg, err := loadConfig(e, map[string]string{"registry": f.registry, "otp": f.otp})
	if err != nil {
		return stage.ReviewOptions{}, err
	}
	log := newLogger(e, f.verbose)
	logConfigFiles(log, cfg)
	pol, err := networkPolicy(e, f.net, cfg, credentials)
	if err != nil {
		return stage.ReviewOptions{}, err
	}
	return stage.ReviewOptions{
		Config: cfg,
		Client: &registry.Client{UserAgent: "airlock/" + toolVersion(), HTTP: pol.Client(), Logger: log},
	}, nil
}

// oneID is the Args check of the subcommands that take a stage ID.
func oneID(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usageError{fmt.Errorf("stage %s needs a stage ID (from 'airlock stage list')", name)}
		case len(args) > 1:
			return usageError{fmt.Errorf("stage %s takes one stage ID, not %d arguments", name, len(args))}
		}
		if err := stage.ValidateID(args[0]); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func newStageListCmd(e *env) *cobra.Command {
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "list [PACKAGE]",
		Short: "List staged versions, of one package or of all you can see",
		Long: `List the versions staged on the registry that your credentials can see,
or only those of PACKAGE (a name alone: no version or range). Each shows
its ID, package, version, dist-tag, when and by whom it was staged, and
its tarball's shasum. With --json the registry's records are printed as
a JSON array, as npm stage list --json does.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("stage list takes at most one package name, not %d arguments", len(args))}
			}
			if len(args) == 1 {
				if _, err := stage.PackageFilter(args[0]); err != nil {
					return usageError{err}
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			pkg := ""
			if len(args) == 1 {
				pkg, _ = stage.PackageFilter(args[0])
			}
			opts, err := f.options(e)
			if err != nil {
				return err
			}
			items, err := stage.List(cmd.Context(), pkg, opts)
			if err != nil {
				return err
			}
			if f.json {
				raws := make([]json.RawMessage, len(items))
				for i, it := range items {
					raws[i] = it.Raw
				}
				return printJSON(e.stdout, raws)
			}
			switch {
			case len(items) == 0 && pkg != "":
				fmt.Fprintf(e.stdout, "No staged versions of package name %q.\n", pkg)
			case len(items) == 0:
				fmt.Fprintln(e.stdout, "No staged packages found.")
			}
			for i, it := range items {
				if i > 0 {
					fmt.Fprintln(e.stdout)
				}
				printStaged(e.stdout, it)
			}
			return nil
		},
	}
	f.add(cmd, true, false)
	return cmd
}

func newStageViewCmd(e *env) *cobra.Command {
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "view ID",
		Short: "Show one staged version",
		Long: `Show the record of the staged version ID: package, version, dist-tag,
when and by whom it was staged, its tarball's shasum, and whatever else
the registry records. With --json the record is printed as the registry
sent it.`,
		Args: oneID("view"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(e)
			if err != nil {
				return err
			}
			v, err := stage.View(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(e.stdout, v.Raw)
			}
			printStaged(e.stdout, *v)
			return nil
		},
	}
	f.add(cmd, true, false)
	return cmd
}

type approveFlags struct {
	reviewFlags
	reviewed string
	maxSize  int64
}

func newStageApproveCmd(e *env) *cobra.Command {
	var f approveFlags
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Publish a staged version (needs your 2FA code)",
		Long: `Approve the staged version ID: the registry publishes it, and it is live.

The registry asks for the maintainer's second factor: pass the one-time
password from your authenticator app with --otp. Look at the version
first, with 'airlock stage review'.

--reviewed DIGEST binds the approval to what you reviewed: the staged
tarball is fetched and checked again, and the approval is refused unless
its sha512 is DIGEST (the sha512-... line 'airlock stage review' prints,
or 128 hexadecimal digits). A review of one tarball then cannot approve
another.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := oneID("approve")(cmd, args); err != nil {
				return err
			}
			if f.reviewed != "" {
				if _, err := stage.ParseDigest(f.reviewed); err != nil {
					return usageError{fmt.Errorf("--reviewed: %w", err)}
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(e)
			if err != nil {
				return err
			}
			if f.reviewed != "" {
				sum, _ := stage.ParseDigest(f.reviewed)
				err = stage.ApproveReviewed(cmd.Context(), args[0], sum, opts, f.maxSize, inspect.DefaultLimits())
			} else {
				warnf(e, "approving %s without --reviewed: nothing ties this approval to a tarball you looked at; 'airlock stage review %s' prints the digest to pass", args[0], args[0])
				err = stage.Approve(cmd.Context(), args[0], opts)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Staged package %s approved and published successfully.\n", args[0])
			return nil
		},
	}
	f.add(cmd, false, true)
	cmd.Flags().StringVar(&f.reviewed, "reviewed", "", "approve only if the staged tarball's sha512 is this one (from 'airlock stage review')")
	cmd.Flags().Int64Var(&f.maxSize, "max-size", 0, "most bytes the tarball may have, with --reviewed (default 256 MiB)")
	return cmd
}

func newStageRejectCmd(e *env) *cobra.Command {
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "reject ID",
		Short: "Delete a staged version and its tarball (needs your 2FA code)",
		Long: `Reject the staged version ID: the registry deletes the staged record and
its tarball for good. Nothing is published.

The registry asks for the maintainer's second factor: pass the one-time
password from your authenticator app with --otp.`,
		Args: oneID("reject"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(e)
			if err != nil {
				return err
			}
			if err := stage.Reject(cmd.Context(), args[0], opts); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Staged package %s has been rejected.\n", args[0])
			return nil
		},
	}
	f.add(cmd, false, true)
	return cmd
}

type downloadFlags struct {
	reviewFlags
	dir     string
	force   bool
	maxSize int64
}

func newStageDownloadCmd(e *env) *cobra.Command {
	var f downloadFlags
	cmd := &cobra.Command{
		Use:   "download ID",
		Short: "Download a staged version's tarball, checked, to look at before approving",
		Long: `Download the tarball of the staged version ID into the current folder (or
--dir), named as npm names it: NAME-VERSION-ID.tgz, with a scope's @
dropped and its / made a -.

The tarball is read as hostile input before anything is written: its
sha1 must be the shasum in the staged record, it is inspected as publish
inspects tarballs (one root folder, no links, devices, absolute paths or
'..', bounded sizes, a valid package.json), and its package.json must
name the record's package and version. An existing file with other
contents is replaced only with --force. The file name is printed; with
--json a JSON summary with its integrity.`,
		Args: oneID("download"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(e)
			if err != nil {
				return err
			}
			dir := f.dir
			if dir == "" {
				dir, err = os.Getwd()
				if err != nil {
					return err
				}
			}
			d, err := stage.Download(cmd.Context(), args[0], stage.DownloadOptions{
				ReviewOptions: opts,
				Dir:           dir,
				Force:         f.force,
				MaxSize:       f.maxSize,
				Limits:        inspect.DefaultLimits(),
			})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(e.stdout, d)
			}
			if d.Existed {
				fmt.Fprintf(e.stderr, "%s is already there with the same contents\n", d.Filename)
			}
			fmt.Fprintf(e.stderr, "%s@%s: %d files, %s, shasum matches the staged record\n", d.Name, d.Version, d.Files, bytesize.String(d.Size))
			if f.dir != "" {
				fmt.Fprintln(e.stdout, filepath.Join(f.dir, d.Filename))
			} else {
				fmt.Fprintln(e.stdout, d.Filename)
			}
			return nil
		},
	}
	f.add(cmd, true, false)
	cmd.Flags().StringVar(&f.dir, "dir", "", "folder to write the tarball to (default: the current folder)")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace an existing file with different contents")
	cmd.Flags().Int64Var(&f.maxSize, "max-size", 0, "most bytes the tarball may have (default 256 MiB)")
	return cmd
}

// printStaged prints a staged version as npm does: "label: value" lines.
func printStaged(w io.Writer, v registry.StagedVersion) {
	var b strings.Builder
	for _, f := range stage.Describe(v) {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Value)
	}
	io.WriteString(w, b.String())
}

// printJSON prints v indented by two spaces, as npm's JSON.stringify(v,
// null, 2), without Go's escaping of <, > and &.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type stageReviewFlags struct {
	reviewFlags
	against, bundle, trustedRoot string
	policy                       attest.Policy
	maxSize                      int64
	repro                        reproduceFlags
	noReproduce                  bool
}

func newStageReviewCmd(e *env) *cobra.Command {
	var f stageReviewFlags
	cmd := &cobra.Command{
		Use:   "review ID",
		Short: "Review a staged version: what changed, its provenance, a rebuild from source",
		Long: `Gather what an approver needs to judge the staged version ID, and print
a verdict first ("review: 2 high signals", or "review: nothing unusual;
reproduces from <commit>"), then the details:

  the tarball     fetched and checked as 'stage download' does (shasum of
                  the staged record, inspection, package name and version)
  provenance      verified when the version has any: --bundle FILE, or the
                  registry's attestations; the repository and workflow are
                  compared with those of the version it is compared with,
                  and --repository, --workflow, --ref and --issuer demand
                  an identity as 'airlock verify provenance' does
  diff            against the version tagged latest (or --against VERSION),
                  with every signal 'airlock diff' reports
  reproduce       a rebuild from --source DIR, or --git URL --commit SHA, or
                  the repository and commit the provenance names (cloned;
                  nothing from it is run unless --run-scripts), compared
                  file by file; --no-reproduce skips it

It ends with the staged tarball's sha512: approve with
'airlock stage approve ID --otp CODE --reviewed <sha512>' so that the
approval is refused if the tarball is not the one reviewed. --json prints
the report as JSON. The exit status is 1 when any signal is high.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := oneID("review")(cmd, args); err != nil {
				return err
			}
			return f.repro.check(true)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runStageReview(cmd.Context(), e, args[0], &f) },
	}
	f.add(cmd, false, false)
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	fl.StringVar(&f.against, "against", "", "published version to compare with (default: the one tagged latest)")
	fl.StringVar(&f.bundle, "bundle", "", "the staged version's Sigstore provenance bundle (default: ask the registry)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "a Sigstore trusted_root.json (default: the public-good root)")
	addPolicyFlags(fl, &f.policy, "the staged version", "")
	fl.Int64Var(&f.maxSize, "max-size", 0, "most bytes a tarball may have (default 256 MiB)")
	fl.BoolVar(&f.noReproduce, "no-reproduce", false, "do not rebuild the version from source")
	f.repro.add(fl)
	return cmd
}

func runStageReview(ctx context.Context, e *env, id string, f *stageReviewFlags) error {
	opts, err := f.options(e)
	if err != nil {
		return err
	}
	c := stage.ReviewConfig{ReviewOptions: opts, Against: f.against, Policy: f.policy, MaxSize: f.maxSize,
		Limits: tardiff.DefaultLimits(), HTTP: opts.Client.HTTP, UserAgent: "airlock/" + toolVersion()}
	if f.trustedRoot != "" {
		if c.Verify.TrustedRoot, err = os.ReadFile(f.trustedRoot); err != nil {
			return fmt.Errorf("reading the trusted root: %w", err)
		}
	}
	if f.bundle != "" {
		if c.Bundle, err = os.ReadFile(f.bundle); err != nil {
			return fmt.Errorf("reading the bundle: %w", err)
		}
	}
	if !f.noReproduce {
		c.Reproduce = f.repro.forReview(e, f.verbose)
	}
	r, err := stage.Review(ctx, id, c)
	if err != nil {
		return err
	}
	if f.json {
		if err := printJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		printReview(e.stdout, r)
	}
	fmt.Fprintf(e.stderr, "to approve exactly this tarball: airlock stage approve %s --otp CODE --reviewed %s\n", id, r.Integrity)
	if n := r.High(); n > 0 {
		return hint.With(fmt.Errorf("review found %d high %s", n, plural(n, "signal", "signals")),
			"do not approve before you know why each one is there; reject the version with 'airlock stage reject "+id+" --otp CODE' if you do not")
	}
	return nil
}

func printReview(w io.Writer, r *stage.ReviewReport) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Verdict)
	fmt.Fprintf(&b, "staged: %s@%s", r.Name, r.Version)
	if r.Tag != "" {
		fmt.Fprintf(&b, ", tag %s", r.Tag)
	}
	if r.Actor != "" {
		fmt.Fprintf(&b, ", staged by %s", r.Actor)
	}
	fmt.Fprintf(&b, "\nsha512: %s\n", r.Integrity)
	if r.Against != "" {
		fmt.Fprintf(&b, "compared with: %s@%s\n", r.Name, r.Against)
	} else {
		b.WriteString("compared with: nothing (no version is published yet)\n")
	}
	p := r.Provenance
	switch {
	case !p.Found:
		b.WriteString("provenance: none (the registry serves none for a staged version; pass --bundle FILE, the bundle 'airlock publish --provenance-out' wrote, if it was signed)\n")
	case !p.Verified:
		fmt.Fprintf(&b, "provenance: does not verify: %s\n", registry.Sanitize(p.Error, nil))
	default:
		fmt.Fprintf(&b, "provenance: verified: built in %s by %s at %s (%s), logged in Rekor at index %d\n",
			registry.Sanitize(p.Repository, nil), registry.Sanitize(p.Workflow, nil), registry.Sanitize(p.Commit, nil), registry.Sanitize(p.Ref, nil), p.LogIndex)
	}
	if rep := r.Reproduce; rep != nil {
		if rep.Reproduced {
			fmt.Fprintf(&b, "reproduce: reproduces from %s\n", rep.Source)
		} else {
			fmt.Fprintf(&b, "reproduce: does not reproduce from %s: %s\n", rep.Source, rep.Summary)
		}
	}
	if len(r.Signals) > 0 {
		b.WriteString("\nsignals:\n")
		tardiff.WriteSignals(&b, r.Signals)
	}
	if r.Diff != nil {
		b.WriteString("\n")
		tardiff.WriteFiles(&b, r.Diff)
	}
	if rep := r.Reproduce; rep != nil && rep.Details != "" {
		b.WriteString("\n" + rep.Details)
	}
	io.WriteString(w, b.String())
}
