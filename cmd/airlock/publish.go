package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/oidcauth"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/pack"
	"github.com/airlockdev/airlock/stage"
)

type publishFlags struct {
	integrity     []string
	receipt       string
	manifest      string
	registry      string
	tag           string
	access        string
	otp           string
	auth          string
	stage         bool
	provenance    bool
	noProvenance  bool
	provFile      string
	provOut       string
	fulcioURL     string
	rekorURL      string
	trustedRoot   string
	dryRun        bool
	json          bool
	allowUnpinned bool
	verbose       bool
	maxEntries    int
	maxUnpacked   int64
	maxEntrySize  int64
	maxRatio      float64
	net           netFlags
}

func newPublishCmd(e *env) *cobra.Command {
	var f publishFlags
	cmd := &cobra.Command{
		Use:   "publish TARBALL...",
		Short: "Publish verified tarballs to the registry, running no package code",
		Long: `Publish tarballs made by 'airlock pack' (or npm pack) to an npm registry.

Before anything else each tarball's sha512 is compared with its pin
(--integrity, once per tarball in order, or --receipt). The tarball is then
read as hostile input: one root folder, no links, devices, absolute paths
or '..', bounded sizes, a valid package.json. npm's rules apply: private
packages are refused, a prerelease needs --tag, a tag may not be a semver
range, "latest" never moves to a lower version. A version the registry
already has with the same integrity is reported as already published and
exits 0, so a re-run release job is safe.

No lifecycle script runs and no process is started. Configuration and
credentials come from .npmrc files and npm_config_* variables as npm reads
them; publishConfig in the tarball's package.json is honoured, flags win.

Authentication (--auth):
  auto   trusted publishing when the CI offers an OIDC ID token (GitHub
         Actions with 'id-token: write', or NPM_ID_TOKEN on GitLab CI and
         CircleCI): the token is exchanged with the registry for a
         short-lived publish token, once per package, kept in memory only.
         The configured npm token is used only when no ID token is on
         offer, never as a fallback after a failed exchange.
  oidc   trusted publishing or fail.
  token  the npm configuration's token; any ID token is ignored.
airlock says which path it took, and why, on stderr. When trusted
publishing fails it says why (missing permission, no trusted publisher,
claims that do not match it); 'airlock doctor' checks all of this without
publishing.

Provenance (npm's --provenance): the statement npm builds from the CI
environment ('airlock attest statement' prints it) is signed with a
Fulcio certificate for the job's OIDC identity (audience "sigstore"),
logged in Rekor, and attached as <name>-<version>.sigstore. It is made
last, after every other check passed, so a failed release leaves no
transparency-log entry behind. Before signing airlock checks what the
registry would refuse: a CI other than GitHub Actions or GitLab CI, no
id-token permission, a version that is not public, a self-hosted runner,
a private source repository, a repository.url in package.json that names
another repository. As in npm, provenance is on by default under trusted
publishing (not on CircleCI) from a public repository for a package the
registry lists as public; --no-provenance turns it off.
--provenance-file attaches a bundle made elsewhere, after verifying its
signature and transparency-log entry, and that its one subject is this
package, version and tarball digest. --provenance-out DIR also writes
each bundle attached to DIR/<name>-<version>.sigstore (a scoped name as
npm names its tarball): keep it as an artifact of a staged release, since
the registry serves a staged version's provenance only once it is
approved, and give it to 'airlock stage review --bundle'.

Connections (the registry, the CI's ID-token endpoint, Fulcio, Rekor) take
a proxy and trust roots only from --proxy, --noproxy and --cafile, or from
the user's own npmrc: never from HTTPS_PROXY, SSL_CERT_FILE and the like,
which an earlier job can set (GitLab turns a dotenv report into
variables). Each such variable that is ignored is named on stderr.
strict-ssl=false is refused. An ID token is only ever sent to the
registry its audience names.

Nothing is published half-way: every pin, then every check of every
tarball (inspection, npm's rules, credentials and the token exchange, what
the registry already has, the provenance refusals) runs before the first
signature and the first upload. --dry-run runs all of them, so it fails
where the real run would.

--stage sends each version to the registry's staged-publish endpoint
instead (npm stage publish): it waits there until a maintainer approves it
with 2FA ('airlock stage approve ID'). The stage id is printed.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.manifest == "" {
				return usageError{fmt.Errorf("publish needs at least one tarball, or --manifest")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPublish(cmd, e, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.integrity, "integrity", nil, "sha512 integrity each tarball must have (repeat once per tarball, in order)")
	fl.StringVar(&f.manifest, "manifest", "", "publish every tarball of this release manifest (airlock pack --workspaces), pinned by --integrity of the manifest")
	fl.StringVar(&f.receipt, "receipt", "", "take the pin from a pack receipt (less safe than --integrity: the receipt travels with the tarball)")
	fl.StringVar(&f.registry, "registry", "", "registry URL (default: from npm configuration)")
	fl.StringVar(&f.tag, "tag", "", "dist-tag to publish under (default: latest)")
	fl.StringVar(&f.access, "access", "", "public or restricted")
	fl.StringVar(&f.otp, "otp", "", "one-time password for registries that require 2FA on publish")
	fl.StringVar(&f.auth, "auth", "auto", "how to authenticate: auto, oidc (trusted publishing only) or token (npm configuration only)")
	fl.BoolVar(&f.stage, "stage", false, "stage the versions for a maintainer's approval instead of publishing them")
	fl.BoolVar(&f.provenance, "provenance", false, "sign and attach npm provenance (GitHub Actions or GitLab CI)")
	fl.BoolVar(&f.noProvenance, "no-provenance", false, "attach no provenance, even where npm would by default")
	fl.StringVar(&f.provFile, "provenance-file", "", "attach this Sigstore bundle, after verifying it is for this tarball")
	fl.StringVar(&f.provOut, "provenance-out", "", "also write each attached provenance bundle to this folder, for 'airlock stage review --bundle'")
	fl.StringVar(&f.fulcioURL, "fulcio-url", "https://fulcio.sigstore.dev", "Fulcio instance that certifies the signing key")
	fl.StringVar(&f.rekorURL, "rekor-url", "https://rekor.sigstore.dev", "Rekor instance that logs the signature")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json to verify --provenance-file with (default: the public-good instance)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "do every check and print the document, upload nothing")
	fl.BoolVar(&f.json, "json", false, "print one JSON result per tarball")
	fl.BoolVar(&f.allowUnpinned, "allow-unpinned", false, "publish tarballs that have no integrity pin (prints a warning)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each step to stderr")
	fl.IntVar(&f.maxEntries, "max-entries", 0, "most entries a tarball may have (default 100000)")
	fl.Int64Var(&f.maxUnpacked, "max-unpacked-size", 0, "most bytes a tarball may unpack to (default 1 GiB)")
	fl.Int64Var(&f.maxEntrySize, "max-entry-size", 0, "most bytes one file in a tarball may have (default 512 MiB)")
	fl.Float64Var(&f.maxRatio, "max-ratio", 0, "most unpacked bytes per compressed byte, past the first 4 MiB (default 200)")
	f.net.register(fl)
	return cmd
}

func runPublish(cmd *cobra.Command, e *env, args []string, f publishFlags) error {
	tarballs, err := pins(args, f)
	if err != nil {
		return err
	}
	mode, err := oidcauth.ParseMode(f.auth)
	if err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(e, map[string]string{"registry": f.registry, "tag": f.tag, "access": f.access, "otp": f.otp})
	if err != nil {
		return err
	}
	log := newLogger(e, f.verbose)
	logConfigFiles(log, cfg)
	limits := inspect.DefaultLimits()
	if f.maxEntries > 0 {
		limits.MaxEntries = f.maxEntries
	}
	if f.maxUnpacked > 0 {
		limits.MaxUnpackedSize = f.maxUnpacked
	}
	if f.maxEntrySize > 0 {
		limits.MaxEntrySize = f.maxEntrySize
	}
	if f.maxRatio > 0 {
		limits.MaxRatio = f.maxRatio
	}
	pol, err := networkPolicy(e, f.net, cfg, credentials)
	if err != nil {
		return err
	}
	client := &registry.Client{UserAgent: "airlock/" + toolVersion(), Logger: log, HTTP: pol.Client()}
	choice, err := oidcauth.Choose(oidcauth.Options{Mode: mode, Env: idtoken.Detect(e.lookup), Config: cfg, Client: client, HTTP: pol.Client(), Logger: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "airlock: %s\n", choice.Why)
	prov, err := provenanceSource(e, f, choice.Path == "oidc", pol.Client())
	if err != nil {
		return err
	}
	cwd, _ := os.Getwd()
	results, err := stage.Publish(cmd.Context(), tarballs, stage.Options{
		Config:        cfg,
		Auth:          choice.Auth,
		Stage:         f.stage,
		Provenance:    prov,
		ProvenanceDir: f.provOut,
		DryRun:        f.dryRun,
		AllowUnpinned: f.allowUnpinned,
		Limits:        limits,
		Client:        client,
		ToolVersion:   toolVersion(),
		Cwd:           cwd,
		Logger:        log,
	})
	for _, r := range results {
		printPublishResult(e, r, f)
	}
	if err != nil && len(results) > 0 {
		printUnfinished(e, tarballs, results)
		again := "run the same command again once the cause is fixed: what is already on the registry is skipped, and the rest is published"
		if h := hint.Of(err); h != "" {
			again = h + "; then " + again
		}
		err = hint.With(err, again)
	}
	return err
}

// printUnfinished says, after an upload failed, what was done and what
// was not: a release of several packages must say where it stopped.
func printUnfinished(e *env, tarballs []stage.Tarball, results []stage.Result) {
	fmt.Fprintf(e.stderr, "airlock: every check of every tarball passed, but an upload failed; the release stopped there:\n")
	for _, r := range results {
		fmt.Fprintf(e.stderr, "  %-18s %s\n", r.Outcome, r.ID)
	}
	for i, tb := range tarballs[len(results):] {
		what := "not attempted"
		if i == 0 {
			what = "failed"
		}
		fmt.Fprintf(e.stderr, "  %-18s %s\n", what, tb.Path)
	}
}

func printPublishResult(e *env, r stage.Result, f publishFlags) {
	if f.json {
		out, _ := json.Marshal(r)
		fmt.Fprintf(e.stdout, "%s\n", out)
		return
	}
	for _, n := range r.Notes {
		fmt.Fprintf(e.stderr, "airlock: %s\n", n)
	}
	auth := orDefault(r.AuthSource, "no credentials")
	switch r.Outcome {
	case "dry run":
		fmt.Fprintf(e.stderr, "dry run: every check passed; would publish %s to %s with tag %s (auth: %s). The document it would send, tarball data summarised:\n%s\n", r.ID, r.Registry, r.Tag, auth, r.Document)
	case "staged":
		fmt.Fprintf(e.stderr, "staged %s on %s with tag %s (auth: %s); a maintainer reviews it with 'airlock stage review %s', then approves it with: airlock stage approve %s --otp CODE --reviewed SHA512\n", r.ID, r.Registry, r.Tag, auth, r.StageID, r.StageID)
		if r.Provenance != "" {
			fmt.Fprintf(e.stderr, "provenance: %s\n", r.Provenance)
		}
		if r.ProvenanceFile != "" {
			fmt.Fprintf(e.stderr, "provenance bundle written to %s (the review reads it with --bundle)\n", r.ProvenanceFile)
		}
		fmt.Fprintf(e.stdout, "%s %s\n", r.ID, r.StageID)
		return
	case "already published":
		fmt.Fprintf(e.stderr, "%s is already on %s with the same integrity: nothing to do\n", r.ID, r.Registry)
	case "already published (same contents)":
		fmt.Fprintf(e.stderr, "%s is already on %s with the same contents: nothing to do\n", r.ID, r.Registry)
	case "tagged":
		fmt.Fprintf(e.stderr, "%s was already on %s with the same integrity; pointed the %s tag at it (auth: %s)\n", r.ID, r.Registry, r.Tag, auth)
	default:
		fmt.Fprintf(e.stderr, "published %s to %s with tag %s (auth: %s)\n", r.ID, r.Registry, r.Tag, auth)
	}
	if r.Provenance != "" {
		fmt.Fprintf(e.stderr, "provenance: %s\n", r.Provenance)
	}
	if r.ProvenanceFile != "" {
		fmt.Fprintf(e.stderr, "provenance bundle written to %s\n", r.ProvenanceFile)
	}
	fmt.Fprintf(e.stdout, "%s\n", r.ID)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// pins pairs each tarball with its pin.
func pins(args []string, f publishFlags) ([]stage.Tarball, error) {
	if f.manifest != "" {
		switch {
		case len(args) > 0:
			return nil, usageError{fmt.Errorf("--manifest names the tarballs; give no tarball arguments with it")}
		case f.receipt != "":
			return nil, usageError{fmt.Errorf("--manifest and --receipt are exclusive")}
		case len(f.integrity) != 1:
			return nil, usageError{fmt.Errorf("--manifest needs one --integrity, the manifest's own (the manifest-integrity output of airlock pack --workspaces); got %d", len(f.integrity))}
		}
		return stage.ReleaseTarballs(f.manifest, f.integrity[0])
	}
	if len(f.integrity) > 0 && f.receipt != "" {
		return nil, usageError{fmt.Errorf("--integrity and --receipt are exclusive")}
	}
	if len(f.integrity) > 0 && len(f.integrity) != len(args) {
		return nil, usageError{fmt.Errorf("%d tarballs but %d --integrity values: give one per tarball, in the same order", len(args), len(f.integrity))}
	}
	out := make([]stage.Tarball, len(args))
	for i, a := range args {
		out[i].Path = a
		if len(f.integrity) > 0 {
			out[i].Integrity = f.integrity[i]
		}
	}
	if f.receipt != "" {
		if len(args) != 1 {
			return nil, usageError{fmt.Errorf("--receipt pins one tarball; use --integrity for several")}
		}
		r, err := pack.ReadReceipt(f.receipt)
		if err != nil {
			return nil, err
		}
		out[0].Integrity = r.Integrity
	}
	return out, nil
}

// provenanceSource reads the provenance flags.
func provenanceSource(e *env, f publishFlags, trustedOIDC bool, hc *http.Client) (attest.Source, error) {
	c := attest.Choice{
		On: f.provenance, Off: f.noProvenance, TrustedOIDC: trustedOIDC,
		Env:  idtoken.Detect(e.lookup),
		Sign: attest.SignOptions{FulcioURL: f.fulcioURL, RekorURL: f.rekorURL, HTTP: hc},
		HTTP: hc,
	}
	if f.provFile != "" {
		data, err := os.ReadFile(f.provFile)
		if err != nil {
			return nil, fmt.Errorf("reading --provenance-file: %w", err)
		}
		c.File = data
	}
	if f.trustedRoot != "" {
		root, err := os.ReadFile(f.trustedRoot)
		if err != nil {
			return nil, fmt.Errorf("reading --trusted-root: %w", err)
		}
		c.Verify.TrustedRoot = root
	}
	src, err := attest.Choose(c)
	if err != nil {
		return nil, usageError{err}
	}
	return src, nil
}
