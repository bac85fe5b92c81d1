package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/manifest"
	"github.com/airlockdev/airlock/internal/network"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/oidcauth"
	"github.com/airlockdev/airlock/internal/registry"
)

type doctorFlags struct {
	registry string
	pkg      string
	auth     string
	json     bool
	net      netFlags
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

A configured token is checked with the registry (GET /-/whoami, as npm
whoami does): the report names its user, or says that the registry does
not accept it or cannot be reached. With --package NAME the ID token is
also exchanged with the registry for a publish token for that package
(the token is thrown away at once), which shows whether the package's
trusted publisher accepts this job.

It also lists the npmrc files read, and those npm's rules lead to but
that were not read, with why; and how publish would connect: the proxy
and trust roots (only from --proxy, --cafile and npmrc files; variables
such as HTTPS_PROXY and SSL_CERT_FILE are ignored, and said so), and
strict-ssl=false, which publish refuses.

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
	f.net.register(fl)
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
	cfg, err := loadConfig(e, map[string]string{"registry": f.registry})
	if err != nil {
		return err
	}
	pol, err := networkPolicy(e, f.net, cfg, diagnosis)
	if err != nil {
		return err
	}
	hc := pol.Client()
	// A diagnosis tries twice, not four times: it reports, it does not wait out an outage.
	client := &registry.Client{UserAgent: "airlock/" + toolVersion(), HTTP: hc, Retry: registry.RetryPolicy{MaxAttempts: 2}}
	r := oidcauth.Diagnose(cmd.Context(), oidcauth.Check{
		Options:  oidcauth.Options{Mode: mode, Env: idtoken.Detect(e.lookup), Config: cfg, Client: client, HTTP: hc},
		Registry: cfg.RegistryFor(f.pkg),
		Package:  f.pkg,
	})
	d := doctorReport{Report: r, Config: configFiles(cfg), Network: networkReport(pol)}
	// The ignored settings first: hints further down refer to them.
	var ignored []oidcauth.Finding
	for _, i := range pol.Ignored {
		ignored = append(ignored, oidcauth.Finding{Level: oidcauth.Warning, Message: "publish would be " + i.String()})
	}
	r.Findings = append(ignored, r.Findings...)
	if err := pol.Insecure(); err != nil {
		r.Findings = append(r.Findings, oidcauth.Finding{Level: oidcauth.Problem, Message: "publish would refuse to run: " + err.Error(), Fix: hint.Of(err)})
	}
	if f.json {
		out, _ := json.MarshalIndent(d, "", "  ")
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		printDoctor(e, d)
	}
	if !r.OK() {
		return errDoctor
	}
	return nil
}

// doctorReport is the diagnosis with the configuration and connections.
type doctorReport struct {
	*oidcauth.Report
	Config  []configFile  `json:"npmrc"`
	Network networkStatus `json:"network"`
}

// configFile is one npmrc file doctor lists.
type configFile struct {
	Layer  string `json:"layer"`
	Path   string `json:"path,omitempty"`
	Read   bool   `json:"read"`
	Reason string `json:"reason,omitempty"`
	Text   string `json:"-"`
}

func configFiles(cfg *npmrc.Config) []configFile {
	out := []configFile{}
	for _, f := range cfg.Files() {
		out = append(out, configFile{Layer: f.Layer, Path: f.Path, Read: f.Read, Reason: f.Reason, Text: describeFile(f)})
	}
	return out
}

// networkStatus is how publish would connect.
type networkStatus struct {
	Proxy   string   `json:"proxy"`
	Roots   string   `json:"trustRoots"`
	Ignored []string `json:"ignored"`
}

func networkReport(p *network.Policy) networkStatus {
	n := networkStatus{Ignored: []string{}}
	n.Proxy, n.Roots = describeNetwork(p)
	for _, i := range p.Ignored {
		n.Ignored = append(n.Ignored, i.String())
	}
	return n
}

func printDoctor(e *env, d doctorReport) {
	w := e.stdout
	r := d.Report
	providers := "none detected"
	if len(r.Providers) > 0 {
		names := make([]string, len(r.Providers))
		for i, p := range r.Providers {
			names[i] = string(p)
		}
		providers = strings.Join(names, ", ")
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
	fmt.Fprintf(w, "npm configuration:\n")
	for _, f := range d.Config {
		fmt.Fprintf(w, "  %s\n", f.Text)
	}
	fmt.Fprintf(w, "proxy:            %s\n", d.Network.Proxy)
	fmt.Fprintf(w, "trust roots:      %s\n", d.Network.Roots)

	fmt.Fprintf(w, "credentials:      %d found\n", len(r.AuthSources))
	for _, s := range r.AuthSources {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if r.User != "" {
		fmt.Fprintf(w, "registry user:    %s\n", r.User)
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
