package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/npmrc"
)

func newVerifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify what a package says about where it came from",
	}
	cmd.AddCommand(newVerifyProvenanceCmd(e))
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
	fl.StringVar(&f.policy.Repository, "repository", "", "OWNER/REPO (or repository URL) that must have built the package")
	fl.StringVar(&f.policy.Workflow, "workflow", "", "workflow file path or name that must have built it")
	fl.StringVar(&f.policy.Ref, "ref", "", "git ref it must have been built from, e.g. refs/tags/v1.0.0")
	fl.StringVar(&f.policy.Issuer, "issuer", attest.GitHubIssuer, "OIDC issuer the certificate must name")
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
		flags := map[string]string{}
		if f.registry != "" {
			flags["registry"] = f.registry
		}
		cwd, _ := os.Getwd()
		cfg, err := npmrc.Load(npmrc.Sources{Env: e.vars, Cwd: cwd, Flags: flags})
		if err != nil {
			return fmt.Errorf("reading npm configuration: %w", err)
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
