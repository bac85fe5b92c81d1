package main

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/reproduce"
	"github.com/airlockdev/airlock/internal/tardiff"
	"github.com/airlockdev/airlock/stage"
)

func newVerifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify what a package says about where it came from",
	}
	cmd.AddCommand(newVerifyProvenanceCmd(e), newVerifyReproduceCmd(e))
	return cmd
}

type verifyProvenanceFlags struct {
	bundle, trustedRoot, registry string
	policy                        attest.Policy
	json                          bool
}

func newVerifyProvenanceCmd(e *env) *cobra.Command {
	var f verifyProvenanceFlags
	cmd := &cobra.Command{
		Use:   "provenance TARBALL --repository OWNER/REPO",
		Short: "Verify a tarball's npm provenance and who built it",
		Long: `Verify the npm provenance of TARBALL: the Sigstore bundle npm publishes
with 'npm publish --provenance' (or airlock publish).

The bundle comes from --bundle FILE, or else from the registry the npm
configuration names for the package (--registry overrides), at
/-/npm/v1/attestations/NAME@VERSION.

The checks, each of which must pass:
  transparency log  a Rekor entry vouches for the signature
  certificate       it chains to Sigstore's Fulcio when it was logged
  signature         the DSSE envelope verifies with the certificate's key
  subject           the statement is about this package and version
  digest            ... and about this tarball (sha512)
  identity          the certificate names the --issuer (GitHub Actions by
                    default), the --repository, and --workflow and --ref
                    when given

The trusted root is Sigstore's public-good root, built into airlock;
--trusted-root FILE uses another trusted_root.json.

On success it prints one line (or JSON with --json) saying who built the
package from what. Any failed check exits 1 and names the check.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("verify provenance needs exactly one tarball, got %d arguments", len(args))}
			}
			if f.policy.Repository == "" {
				return usageError{errors.New("verify provenance needs --repository OWNER/REPO: the repository that must have built the package")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyProvenance(cmd, e, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bundle, "bundle", "", "the Sigstore bundle file (default: fetch it from the registry)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "a Sigstore trusted_root.json (default: the public-good root)")
	fl.StringVar(&f.registry, "registry", "", "registry URL (default: from npm configuration)")
	addPolicyFlags(fl, &f.policy, "the package", attest.GitHubIssuer)
	fl.BoolVar(&f.json, "json", false, "print the provenance as JSON")
	return cmd
}

func runVerifyProvenance(cmd *cobra.Command, e *env, path string, f verifyProvenanceFlags) error {
	ctx := cmd.Context()
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening the tarball: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fmt.Errorf("opening the tarball: %w", err)
	}
	subject, err := attest.ReadSubject(ctx, file, st.Size(), inspect.DefaultLimits())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	o := attest.VerifyOptions{Policy: f.policy}
	if f.trustedRoot != "" {
		if o.TrustedRoot, err = os.ReadFile(f.trustedRoot); err != nil {
			return fmt.Errorf("reading the trusted root: %w", err)
		}
	}
	var bundle []byte
	if f.bundle != "" {
		if bundle, err = os.ReadFile(f.bundle); err != nil {
			return fmt.Errorf("reading the bundle: %w", err)
		}
	} else {
		cfg, err := loadConfig(e, map[string]string{"registry": f.registry})
		if err != nil {
			return err
		}
		bundle, err = attest.FetchBundle(ctx, subject.Name, subject.Version, attest.FetchOptions{
			Registry: cfg.RegistryFor(subject.Name), UserAgent: "airlock/" + toolVersion(),
		})
		if err != nil {
			return err
		}
	}
	p, err := attest.VerifyBundle(bundle, subject, o)
	if err != nil {
		return err
	}
	if f.json {
		out, _ := json.MarshalIndent(provenanceJSON{
			Name: subject.Name, Version: subject.Version, Subject: p.SubjectName, PredicateType: p.PredicateType,
			Issuer: p.Issuer, Repository: p.Repository, Workflow: p.Workflow, Ref: p.Ref, Commit: p.Commit,
			RunURL: p.RunURL, RunnerEnvironment: p.RunnerEnvironment, LogIndex: p.LogIndex,
			IntegratedTime: p.IntegratedTime.Format(time.RFC3339),
		}, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", out)
		return nil
	}
	fmt.Fprintf(e.stdout, "verified: %s@%s built by %s in %s at %s (%s), run %s, logged in Rekor at index %d\n",
		subject.Name, subject.Version, p.Workflow, p.Repository, p.Commit, p.Ref, p.RunURL, p.LogIndex)
	return nil
}

type provenanceJSON struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	Subject           string `json:"subject"`
	PredicateType     string `json:"predicateType"`
	Issuer            string `json:"issuer"`
	Repository        string `json:"repository"`
	Workflow          string `json:"workflow"`
	Ref               string `json:"ref"`
	Commit            string `json:"commit"`
	RunURL            string `json:"runURL"`
	RunnerEnvironment string `json:"runnerEnvironment"`
	LogIndex          int64  `json:"logIndex"`
	IntegratedTime    string `json:"integratedTime"`
}

// addPolicyFlags adds the flags of an identity provenance must name, as
// verify provenance and stage review take them; issuer is --issuer's
// default.
func addPolicyFlags(fl *pflag.FlagSet, p *attest.Policy, what, issuer string) {
	fl.StringVar(&p.Repository, "repository", "", "OWNER/REPO (or repository URL) that must have built "+what)
	fl.StringVar(&p.Workflow, "workflow", "", "workflow file path or name that must have built it")
	fl.StringVar(&p.Ref, "ref", "", "git ref it must have been built from, e.g. refs/tags/v1.0.0")
	usage := "OIDC issuer the certificate must name"
	if issuer == "" {
		usage += " (default: GitHub Actions)"
	}
	fl.StringVar(&p.Issuer, "issuer", issuer, usage)
}

// reproduceFlags choose the source a package is rebuilt from.
type reproduceFlags struct {
	source, gitURL, commit, path string
	runScripts                   bool
}

func (f *reproduceFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.source, "source", "", "rebuild from this folder (default: the repository and commit the provenance names)")
	fl.StringVar(&f.gitURL, "git", "", "rebuild from this git repository, at --commit, cloned into a temporary folder")
	fl.StringVar(&f.commit, "commit", "", "the commit of --git to rebuild")
	fl.StringVar(&f.path, "path", "", "the package's folder in the source (default: the one whose package.json names it)")
	fl.BoolVar(&f.runScripts, "run-scripts", false, "install the source's dependencies and run its build scripts: this runs the package's code, and its dependencies', here")
}

func (f *reproduceFlags) check(bool) error {
	switch {
	case f.source != "" && (f.gitURL != "" || f.commit != ""):
		return usageError{errors.New("--source and --git/--commit are exclusive")}
	case (f.gitURL == "") != (f.commit == ""):
		return usageError{errors.New("--git and --commit go together: the repository and the commit to rebuild")}
	}
	return nil
}

func (f *reproduceFlags) options(e *env, verbose bool) reproduce.Options {
	return reproduce.Options{Dir: f.source, GitURL: f.gitURL, Commit: f.commit, Subdir: f.path, RunScripts: f.runScripts,
		Env: e.vars, Stdout: e.stderr, Stderr: e.stderr, Logger: newLogger(e, verbose), ToolVersion: toolVersion(), Limits: tardiff.DefaultLimits()}
}

// forReview is the rebuild stage review makes: from the flags, or else
// from the commit the staged version's verified provenance names; nil
// when there is neither.
func (f *reproduceFlags) forReview(e *env, verbose bool) func(context.Context, *tardiff.Package) (*stage.Reproduction, error) {
	return func(ctx context.Context, staged *tardiff.Package) (*stage.Reproduction, error) {
		o := f.options(e, verbose)
		if o.Dir == "" && o.GitURL == "" {
			p := staged.Provenance
			if p == nil || !p.Verified || !strings.HasPrefix(p.Repository, "https://") || p.Commit == "" {
				return nil, nil
			}
			o.GitURL, o.Commit = p.Repository, p.Commit
		}
		r, err := reproduce.Run(ctx, staged, o)
		if err != nil {
			return nil, err
		}
		var details strings.Builder
		reproduce.WriteText(&details, r)
		from := r.Source
		if r.Commit != "" {
			from = r.Commit
		}
		return &stage.Reproduction{Reproduced: r.Reproduced, Source: r.Source, Commit: from, Summary: r.Summary(), Details: details.String(), Report: r}, nil
	}
}

type verifyReproduceFlags struct {
	repro                          reproduceFlags
	bundle, trustedRoot, attestOut string
	json                           bool
	source                         sourceFlags

	sign                bool
	fulcioURL, rekorURL string
}

func newVerifyReproduceCmd(e *env) *cobra.Command {
	var f verifyReproduceFlags
	cmd := &cobra.Command{
		Use:   "reproduce TARBALL|NAME@VERSION|stage:ID [--source DIR | --git URL --commit SHA]",
		Short: "Rebuild a package from its source and compare it with the tarball",
		Long: `Rebuild the package from source and compare the rebuild with the tarball,
file by file: the check of the build that a digest pin cannot make.

The tarball is a file, a published version (checked against the
registry's dist.integrity) or a staged one (stage:ID). The source is
--source DIR, or --git URL --commit SHA (fetched into a temporary folder
with git), or by default the repository and commit the tarball's
provenance names (--bundle FILE, or the registry's attestations),
verified first (--trusted-root).

The package is packed as npm packs it and nothing from the source runs:
files a build step makes (prepack, prepare, a "files" list naming build
output) cannot be checked, and the report lists them. --run-scripts
installs the source's dependencies and runs its build scripts in the
clone: that runs the package's code, and its dependencies', on this
machine. Files of the tarball that git tracks with other contents
(edited or injected after checkout) are reported first: they are the
strongest sign of a tampered build.

The uncompressed contents are compared, so a tarball npm pack made
reproduces whatever its gzip. The exit status is 0 when it reproduces, 1
when not. --attest FILE writes an in-toto statement of the result (SLSA
verification summary v1, level AIRLOCK_REPRODUCED_FROM_SOURCE when it
reproduced), unsigned; with --sign, in CI, it is signed keylessly as
provenance is (a Fulcio certificate for the job's identity, an entry in
the public Rekor log) and FILE is the Sigstore bundle.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("verify reproduce needs exactly one tarball, name@version or stage:ID, got %d arguments", len(args))}
			}
			if _, err := tardiff.ParseSource(args[0]); err != nil {
				return usageError{err}
			}
			if f.bundle != "" && (f.repro.source != "" || f.repro.gitURL != "") {
				return usageError{errors.New("--bundle names the source through the provenance; --source and --git name it themselves")}
			}
			if f.sign && f.attestOut == "" {
				return usageError{errors.New("--sign signs the summary --attest writes: name its file with --attest FILE")}
			}
			return f.repro.check(false)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyReproduce(cmd.Context(), e, args[0], &f)
		},
	}
	fl := cmd.Flags()
	f.repro.add(fl)
	fl.StringVar(&f.bundle, "bundle", "", "the tarball's Sigstore provenance bundle, naming the source (default: the registry's)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "a Sigstore trusted_root.json (default: the public-good root)")
	fl.StringVar(&f.attestOut, "attest", "", "write an in-toto verification summary of the result to this file")
	fl.BoolVar(&f.sign, "sign", false, "with --attest: sign the summary keylessly, as provenance is signed (in CI), and write the Sigstore bundle")
	fl.StringVar(&f.fulcioURL, "fulcio-url", attest.DefaultFulcioURL, "Fulcio instance that certifies the signing key, with --sign")
	fl.StringVar(&f.rekorURL, "rekor-url", attest.DefaultRekorURL, "Rekor instance that logs the signature, with --sign")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	f.source.add(cmd)
	return cmd
}

// signSummary signs a verification summary as publish signs provenance:
// a Fulcio certificate for the CI job's "sigstore" ID token, logged in
// Rekor.
func (f *verifyReproduceFlags) signSummary(ctx context.Context, e *env, statement []byte) ([]byte, error) {
	_, pol, err := f.source.connect(e)
	if err != nil {
		return nil, err
	}
	hc := pol.Client()
	tok, err := idtoken.Fetcher{Env: idtoken.Detect(e.lookup), HTTP: hc}.Sigstore(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing the verification summary: %w", err)
	}
	return attest.Sign(ctx, statement, attest.SignOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, HTTP: hc,
		IDToken: func(context.Context) (string, error) { return tok.Value.Reveal(), nil }})
}

func runVerifyReproduce(ctx context.Context, e *env, arg string, f *verifyReproduceFlags) error {
	src, _ := tardiff.ParseSource(arg)
	l, err := f.source.loaderOf(ctx, e, src, f.trustedRoot, false)
	if err != nil {
		return err
	}
	data, src, err := l.Fetch(ctx, src)
	if err != nil {
		return err
	}
	pkg, err := tardiff.Read(ctx, src.String(), data, l.Limits)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	o := f.repro.options(e, f.source.verbose)
	var inputs []reproduce.Input
	if o.Dir == "" && o.GitURL == "" {
		bundle, where, err := f.provenanceBundle(ctx, e, pkg, src)
		if err != nil {
			return err
		}
		var root []byte
		if f.trustedRoot != "" {
			if root, err = os.ReadFile(f.trustedRoot); err != nil {
				return fmt.Errorf("reading the trusted root: %w", err)
			}
		}
		if o.GitURL, o.Commit, err = reproduce.VerifiedSource(bundle, attest.Subject{Name: pkg.Manifest.Name, Version: pkg.Manifest.Version, SHA512: pkg.SHA512}, root); err != nil {
			return err
		}
		sum := sha256.Sum256(bundle)
		inputs = append(inputs, reproduce.Input{URI: where, SHA256: sum[:]})
		fmt.Fprintf(e.stderr, "the provenance names %s at %s\n", o.GitURL, o.Commit)
	}
	r, err := reproduce.Run(ctx, pkg, o)
	if err != nil {
		return fmt.Errorf("rebuilding %s: %w", pkg.Manifest.ID(), err)
	}
	if f.attestOut != "" {
		sum := sha512.Sum512(data)
		st, err := reproduce.Summary(reproduce.SummaryInput{PackageURL: attest.PackageURL(pkg.Manifest.Name, pkg.Manifest.Version), SHA512: sum[:],
			Result: r, Time: time.Now(), ToolVersion: toolVersion(), Inputs: inputs})
		if err != nil {
			return err
		}
		if f.sign {
			if st, err = f.signSummary(ctx, e, st); err != nil {
				return err
			}
		}
		if err := os.WriteFile(f.attestOut, st, 0o644); err != nil {
			return fmt.Errorf("writing the verification summary: %w", err)
		}
	}
	if f.json {
		err = printJSON(e.stdout, r)
	} else {
		err = reproduce.WriteText(e.stdout, r)
	}
	if err != nil {
		return err
	}
	if !r.Reproduced {
		advice := "compare the differences above with the source; a release that does not reproduce is not proven to come from it"
		switch {
		case len(r.Tampered) > 0:
			advice = "a file git tracks was changed after checkout: treat the release as tampered until you know why"
		case len(r.FromBuild) > 0 && len(r.Scripts) > 0 && !r.ScriptsRun:
			advice = "rebuild with --run-scripts (in a sandbox: it runs the package's code) to check the files the build makes"
		}
		return hint.With(fmt.Errorf("%s does not reproduce from its source: %s", pkg.Manifest.ID(), r.Summary()), advice)
	}
	return nil
}

// provenanceBundle is the tarball's provenance: --bundle, or the
// registry's for its name and version.
func (f *verifyReproduceFlags) provenanceBundle(ctx context.Context, e *env, pkg *tardiff.Package, src tardiff.Source) ([]byte, string, error) {
	if f.bundle != "" {
		b, err := os.ReadFile(f.bundle)
		if err != nil {
			return nil, "", fmt.Errorf("reading the bundle: %w", err)
		}
		return b, f.bundle, nil
	}
	cfg, pol, err := f.source.connect(e)
	if err != nil {
		return nil, "", err
	}
	reg := cfg.RegistryFor(pkg.Manifest.Name)
	b, err := attest.FetchBundle(ctx, pkg.Manifest.Name, pkg.Manifest.Version, attest.FetchOptions{Registry: reg, HTTP: pol.Client(), UserAgent: "airlock/" + toolVersion()})
	if errors.Is(err, attest.ErrNoProvenance) {
		return nil, "", hint.With(fmt.Errorf("no source to rebuild %s from: %w", pkg.Manifest.ID(), err),
			"name the source with --source DIR, or --git URL --commit SHA")
	}
	if err != nil {
		return nil, "", err
	}
	where, _ := registry.AttestationsURL(reg, pkg.Manifest.Name, pkg.Manifest.Version)
	return b, where, nil
}
