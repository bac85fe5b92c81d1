package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/network"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/tardiff"
	"github.com/airlockdev/airlock/stage"
)

type diffFlags struct {
	patch, nameOnly, json bool
	failOn                string
	trustedRoot           string
	noProvenance          bool
	source                sourceFlags
}

// sourceFlags are the flags of commands that read a tarball named as a
// file, name@version or stage:ID.
type sourceFlags struct {
	registry string
	maxSize  int64
	verbose  bool
	net      netFlags

	loaders func(tardiff.Source) *tardiff.Loader
	cfg     *npmrc.Config
	pol     *network.Policy
}

func (f *sourceFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.registry, "registry", "", "registry URL (default: from npm configuration)")
	fl.Int64Var(&f.maxSize, "max-size", 0, "most bytes a tarball may have (default 256 MiB)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each request to stderr")
	f.net.register(fl)
}

// loaderOf returns what reads src: for a file, nothing but the file;
// else see loader.
func (f *sourceFlags) loaderOf(ctx context.Context, e *env, src tardiff.Source, trustedRoot string, provenance bool) (*tardiff.Loader, error) {
	if src.Kind == tardiff.SourceFile {
		return &tardiff.Loader{MaxSize: f.maxSize, Limits: tardiff.DefaultLimits()}, nil
	}
	if f.loaders == nil {
		l, err := f.loader(ctx, e, trustedRoot, provenance)
		if err != nil {
			return nil, err
		}
		f.loaders = l
	}
	return f.loaders(src), nil
}

// connect reads npm's configuration and the connection policy, once.
func (f *sourceFlags) connect(e *env) (*npmrc.Config, *network.Policy, error) {
	if f.cfg != nil {
		return f.cfg, f.pol, nil
	}
	cfg, err := loadConfig(e, map[string]string{"registry": f.registry})
	if err != nil {
		return nil, nil, err
	}
	logConfigFiles(newLogger(e, f.verbose), cfg)
	pol, err := networkPolicy(e, f.net, cfg, credentials)
	if err != nil {
		return nil, nil, err
	}
	f.cfg, f.pol = cfg, pol
	return cfg, pol, nil
}

// loader builds what reads name@version and stage:ID: npm's
// configuration, the connection policy, and the maintainer's token
// where one is configured (private packages, staged versions).
func (f *sourceFlags) loader(ctx context.Context, e *env, trustedRoot string, provenance bool) (func(tardiff.Source) *tardiff.Loader, error) {
	cfg, pol, err := f.connect(e)
	if err != nil {
		return nil, err
	}
	log := newLogger(e, f.verbose)
	client := &registry.Client{UserAgent: "airlock/" + toolVersion(), HTTP: pol.Client(), Logger: log}
	var verify attest.VerifyOptions
	if trustedRoot != "" {
		if verify.TrustedRoot, err = os.ReadFile(trustedRoot); err != nil {
			return nil, fmt.Errorf("reading the trusted root: %w", err)
		}
	}
	review := stage.ReviewOptions{Config: cfg, Client: client}
	lim := tardiff.DefaultLimits()
	return func(src tardiff.Source) *tardiff.Loader {
		reg := cfg.RegistryFor(src.Name)
		var auth registry.Auth
		if header, _, err := (npmrc.ConfigAuth{Config: cfg}).Authorization(ctx, reg, src.Name); err == nil {
			auth = func(_ context.Context, req *http.Request) error {
				req.Header.Set("Authorization", header.Reveal())
				return nil
			}
		}
		return &tardiff.Loader{
			Client: client, Registry: reg, Auth: auth, MaxSize: f.maxSize, Limits: lim,
			Staged: func(ctx context.Context, id string) ([]byte, error) {
				_, data, err := stage.Fetch(ctx, id, review, f.maxSize, lim.Inspect)
				return data, err
			},
			Provenance: provenance, Verify: verify, HTTP: pol.Client(), UserAgent: "airlock/" + toolVersion(),
		}
	}, nil
}

func newDiffCmd(e *env) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two versions of a package, and what in it matters for security",
		Long: `Compare two package tarballs and report what changed: files added,
removed and changed, with sizes and modes, and the signals that matter
for security, each with a severity and a stable ID:

  install-time scripts added or changed (and node-gyp's implicit one)
  bin entries, dependencies added or re-ranged, specs that fetch from
    git, GitHub, URLs or local paths, bundled dependencies
  main, exports and files changes
  new native or WebAssembly binaries; new minified or obfuscated code,
    encoded data, eval; new uses of child_process, the network,
    process.env, credential files; new URLs and IP addresses;
    invisible or bidirectional Unicode
  a package much larger, a version that skips or goes backwards
  provenance: missing now, not verifying, or naming another repository,
    workflow or builder than before

OLD and NEW are each a .tgz file, a published version (name@version or
name@tag: fetched from the registry and checked against its
dist.integrity), or a staged one (stage:ID, checked against its staged
record; needs your token). Every tarball is read as hostile input, with
the inspection publish makes. The provenance of registry versions is
fetched and verified (--trusted-root, default Sigstore's public good
instance); files have none to compare.

The report goes to stdout; --json prints it as JSON (with each text
file's patch, with --patch), --name-only the changed paths, --patch a
git-style patch of the text files (control and invisible characters
shown as escapes). The exit status is 1 when a
signal is at or above --fail-on (default high), 0 otherwise.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("diff needs two tarballs (OLD NEW), got %d arguments", len(args))}
			}
			if f.nameOnly && (f.patch || f.json) {
				return usageError{errors.New("--name-only cannot be combined with --patch or --json")}
			}
			if f.failOn != "none" {
				if _, err := tardiff.ParseSeverity(f.failOn); err != nil {
					return usageError{fmt.Errorf("--fail-on: %w, or none", err)}
				}
			}
			for _, a := range args {
				if _, err := tardiff.ParseSource(a); err != nil {
					return usageError{err}
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runDiff(cmd.Context(), e, args, &f) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.patch, "patch", false, "print a git-style patch of the changed text files")
	fl.BoolVar(&f.nameOnly, "name-only", false, "print only the paths of the files that differ")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	fl.StringVar(&f.failOn, "fail-on", "high", "lowest signal severity that makes the exit status 1: info, low, medium, high, or none")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "a Sigstore trusted_root.json to verify provenance with (default: the public-good root)")
	fl.BoolVar(&f.noProvenance, "no-provenance", false, "do not fetch or compare the versions' provenance")
	f.source.add(cmd)
	return cmd
}

func runDiff(ctx context.Context, e *env, args []string, f *diffFlags) error {
	var pkgs [2]*tardiff.Package
	for i, a := range args {
		src, _ := tardiff.ParseSource(a)
		l, err := f.source.loaderOf(ctx, e, src, f.trustedRoot, !f.noProvenance)
		if err != nil {
			return err
		}
		if pkgs[i], err = l.Load(ctx, src); err != nil {
			return err
		}
	}
	var err error
	r := tardiff.Compare(pkgs[0], pkgs[1], tardiff.Options{Patch: f.patch})
	if (f.patch || f.nameOnly) && !f.json {
		// npm diff's order: the old tarball's, then what only the new has.
		r.Files = tardiff.TarOrder(r.Files, pkgs[0], pkgs[1])
	}
	switch {
	case f.json:
		err = printJSON(e.stdout, r)
	case f.nameOnly:
		err = tardiff.WriteNames(e.stdout, r)
	case f.patch:
		err = tardiff.WritePatch(e.stdout, r)
	default:
		err = tardiff.WriteText(e.stdout, r)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if (f.patch || f.nameOnly) && !f.json {
		// The signals still decide the exit status: say them where the
		// patch is not.
		fmt.Fprintf(e.stderr, "airlock diff: %s\n", tardiff.Summary(r.Signals))
		tardiff.WriteSignals(e.stderr, r.Signals)
	}
	if f.failOn == "none" {
		return nil
	}
	min, _ := tardiff.ParseSeverity(f.failOn)
	if tardiff.AtLeast(r.Signals, min) {
		n := 0
		for _, s := range r.Signals {
			if s.Severity >= min {
				n++
			}
		}
		return hint.With(fmt.Errorf("diff found %d %s at or above %s severity", n, plural(n, "signal", "signals"), min),
			"read each one before trusting the new version; --fail-on sets the severity that fails")
	}
	return nil
}
