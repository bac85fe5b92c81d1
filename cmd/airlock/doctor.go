package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/oidcauth"
	"github.com/airlockdev/airlock/internal/registry"
)

type doctorFlags struct {
	registry string
	pkg      string
	auth     string
	json     bool
}

// errDoctor is the exit status of a diagnosis that found a problem; the
// report has said what it is.
var errDoctor = errors.New("a publish from this job would fail (see the problems above)")

func newDoctorCmd(e *env) *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check how a publish from this job would authenticate, without publishing",
		Long: `Report, without publishing anything, what 'airlock publish' would find:
the CI provider, whether an OIDC ID token can be obtained (it is fetched,
never printed) and its claims, the registry, every credential configured
and which one publish would use, and the known traps of trusted
publishing: a job without 'id-token: write', a failing token endpoint, an
ID token with the wrong audience or already expired, a self-hosted runner,
a long-lived token (setup-node's NODE_AUTH_TOKEN) set up next to the ID
token.

With --package NAME the ID token is also exchanged with the registry for a
publish token for that package (the token is thrown away at once), which
shows whether the package's trusted publisher accepts this job.

Exits 1 when a publish would fail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd, e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.registry, "registry", "", "registry URL (default: from npm configuration)")
	fl.StringVar(&f.pkg, "package", "", "package to try a token exchange for")
	fl.StringVar(&f.auth, "auth", "auto", "the --auth policy publish would use: auto, oidc or token")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	return cmd
}

func runDoctor(cmd *cobra.Command, e *env, f doctorFlags) error {
	mode, err := oidcauth.ParseMode(f.auth)
	if err != nil {
		return usageError{err}
	}
	if f.pkg != "" {
		if err := manifest.ValidateName(f.pkg); err != nil {
			return usageError{fmt.Errorf("--package: %w", err)}
		}
	}
	flags := map[string]string{}
	if f.registry != "" {
		flags["registry"] = f.registry
	}
	cwd, _ := os.Getwd()
	cfg, err := npmrc.Load(npmrc.Sources{Env: e.vars, Cwd: cwd, Flags: flags})
	if err != nil {
		return fmt.Errorf("reading npm configuration: %w", err)
	}
	client := &registry.Client{UserAgent: "airlock/" + toolVersion()}
	r := oidcauth.Diagnose(cmd.Context(), oidcauth.Check{
		Options:  oidcauth.Options{Mode: mode, Env: idtoken.Detect(e.lookup), Config: cfg, Client: client},
		Registry: cfg.RegistryFor(f.pkg),
		Package:  f.pkg,
	})
	if f.json {
		out, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		printDoctor(e, r)
	}
	if !r.OK() {
		return errDoctor
	}
	return nil
}

func printDoctor(e *env, r *oidcauth.Report) {
	w := e.stdout
	providers := "none detected"
	if len(r.Providers) > 0 {
		providers = fmt.Sprint(r.Providers)
	}
	fmt.Fprintf(w, "CI provider:      %s\n", providers)
	fmt.Fprintf(w, "ID token source:  %s\n", r.IDTokenSource)
	fmt.Fprintf(w, "ID token:         %s\n", r.IDToken)
	for _, c := range r.Claims {
		fmt.Fprintf(w, "  %s: %s\n", c.Name, c.Value)
	}
	fmt.Fprintf(w, "registry:         %s (audience %s)\n", r.Registry, orDefault(r.Audience, "unknown"))
	if r.Package != "" {
		fmt.Fprintf(w, "package:          %s\n", r.Package)
	}
	fmt.Fprintf(w, "credentials:      %d found\n", len(r.AuthSources))
	for _, s := range r.AuthSources {
		fmt.Fprintf(w, "  %s\n", s)
	}
	fmt.Fprintf(w, "publish would use: %s\n  %s\n", r.Path, r.Why)
	for _, fd := range r.Findings {
		fmt.Fprintf(w, "%s: %s\n", fd.Level, fd.Message)
		if fd.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", fd.Fix)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "no problems found")
	}
}
