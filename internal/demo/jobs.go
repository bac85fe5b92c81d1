package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/airlockdev/airlock/internal/frontdoor"
	"github.com/airlockdev/airlock/internal/registrytest"
)

// firstVersion is the version the maintainer publishes by hand to create
// the package.
const firstVersion = "0.1.0"

// checkTools finds what the jobs need besides airlock, and reads the
// example's name and version.
func (d *demo) checkTools(context.Context) error {
	var err error
	if d.npm, err = exec.LookPath("npm"); err != nil {
		return fmt.Errorf("npm is required (the user installs the package with it) but was not found on PATH: %w", err)
	}
	if _, err = exec.LookPath("node"); err != nil {
		return fmt.Errorf("node is required (Verdaccio and npm run on it) but was not found on PATH: %w", err)
	}
	var pkg struct{ Name, Version string }
	data, err := os.ReadFile(filepath.Join(d.example, "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil || pkg.Name == "" || pkg.Version == "" {
		return fmt.Errorf("reading the example's name and version: %v", orMissing(err))
	}
	if pkg.Version == firstVersion {
		return fmt.Errorf("the example's version is %s, which the demo publishes first: bump it", firstVersion)
	}
	d.res.Name, d.res.Version = pkg.Name, pkg.Version
	d.tell("", "airlock example: the split release of %s@%s (testdata/example), on local servers."+
		" Each job below is a separate process with only the environment it names; $WORK is %s.", pkg.Name, pkg.Version, d.work)
	d.say("")
	return nil
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("package.json has no name or version")
	}
	return err
}

// startBuild builds the binary every job runs, while the servers start;
// awaitBuild narrates it.
func (d *demo) startBuild(ctx context.Context) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go is required to build airlock but was not found on PATH: %w", err)
	}
	d.airlock = filepath.Join(d.work, "bin", "airlock")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	d.build.start = time.Now()
	go func() {
		defer close(done)
		// The build is the developer's, not a job: it gets this
		// environment, and is narrated when it is awaited.
		j := job{name: "build", dir: d.root, env: os.Environ(), silent: true}
		d.build.run, d.build.err = d.command(ctx, j, goBin, "build", "-o", d.airlock, "./cmd/airlock")
		d.build.took = time.Since(d.build.start)
	}()
	d.build.done = done
	d.onCleanup(func() { cancel(); <-done })
	return nil
}

func (d *demo) awaitBuild(ctx context.Context) error {
	select {
	case <-d.build.done:
	case <-ctx.Done():
		return fmt.Errorf("stopped: %w", context.Cause(ctx))
	}
	d.say("\nBuilt airlock once, for every job, while the servers started (%.1fs):", d.build.took.Seconds())
	d.say("   $ %s", d.commandLine(job{dir: d.root}, d.build.run.Args))
	d.show(d.build.run.Stderr + d.build.run.Stdout) // errors, or warnings
	return d.build.err
}

// maintainerJob is the maintainer's own machine: a folder with their
// token in its .npmrc (firstRelease writes it), and HOME alone in the
// environment.
func (d *demo) maintainerJob() job {
	dir := filepath.Join(d.work, "maintainer")
	return job{name: "maintainer", dir: dir, env: []string{"HOME=" + filepath.Join(dir, "home")}}
}

// firstRelease creates the package: the registry takes a trusted
// publisher only for a package that exists, so the maintainer publishes a
// first version by hand, and then trusts the release workflow to stage.
func (d *demo) firstRelease(ctx context.Context) error {
	j := d.maintainerJob()
	s := &d.servers
	host := strings.TrimSuffix(strings.TrimPrefix(s.frontURL, "http://"), "/")
	first := filepath.Join(j.dir, "first-release")
	manifest := fmt.Sprintf(`{"name": %q, "version": %q, "license": "MIT"}`+"\n", d.res.Name, firstVersion)
	err := errors.Join(
		d.mkdirs(filepath.Join(j.dir, "home"), first),
		writeFile(filepath.Join(j.dir, "package.json"), `{"name": "release-desk", "version": "0.0.0", "private": true}`+"\n", 0o644),
		writeFile(filepath.Join(j.dir, ".npmrc"), "registry="+s.frontURL+"\n//"+host+"/:_authToken="+s.maintainerToken+"\n", 0o600),
		writeFile(filepath.Join(first, "package.json"), manifest, 0o644),
	)
	if err != nil {
		return err
	}
	d.step(0, "The maintainer creates the package. npm accepts a trusted publisher only for a package"+
		" that exists, so they publish %s by hand, with their own token in $WORK/maintainer/.npmrc:", firstVersion)
	j.quiet = true
	if _, err := d.command(ctx, j, d.airlock, "pack", "first-release", "--dotenv", "first.env"); err != nil {
		return err
	}
	outs, err := readOutputs(filepath.Join(j.dir, "first.env"))
	if err != nil {
		return fmt.Errorf("maintainer: reading what airlock pack wrote: %w", err)
	}
	if _, err := d.command(ctx, j, d.airlock, "publish", "--auth", "token", "--integrity", outs["AIRLOCK_INTEGRITY"], "first-release/"+filepath.Base(outs["AIRLOCK_TARBALL"])); err != nil {
		return err
	}
	d.servers.trust(d.res.Name)
	d.tell("   ", "Then, on the registry, they make %s's .github/workflows/%s its trusted publisher,"+
		" allowed to stage versions and not to publish them.", repository, workflow)
	return nil
}

// packJob runs the package's scripts and packs it, holding no credential.
func (d *demo) packJob(ctx context.Context) error {
	dir := filepath.Join(d.work, "pack-job")
	artifact := filepath.Join(dir, "artifact")
	outputs := filepath.Join(dir, "github_output")
	if err := errors.Join(d.mkdirs(filepath.Join(dir, "home"), artifact), writeFile(outputs, "", 0o644)); err != nil {
		return err
	}
	j := job{name: "pack job", dir: d.root, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"),
		"GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + outputs,
	}}
	d.step(1, "The pack job runs in the checkout, where the package's own scripts run (prepack here)."+
		" It has no id-token permission and no registry credential: its environment is PATH, HOME,"+
		" GITHUB_ACTIONS and GITHUB_OUTPUT.")
	if _, err := d.command(ctx, j, d.airlock, "pack", "testdata/example", "--pack-destination", artifact); err != nil {
		return err
	}
	outs, err := readOutputs(outputs)
	if err != nil {
		return fmt.Errorf("pack job: reading its outputs: %w", err)
	}
	if outs["name"] != d.res.Name || outs["version"] != d.res.Version || !strings.HasPrefix(outs["integrity"], "sha512-") {
		return fmt.Errorf("pack job: its outputs are name=%q version=%q integrity=%q, want %s, %s and a sha512 integrity",
			outs["name"], outs["version"], outs["integrity"], d.res.Name, d.res.Version)
	}
	d.tarball = filepath.Join(artifact, filepath.Base(outs["tarball"]))
	if _, err := os.Stat(d.tarball); err != nil {
		return fmt.Errorf("pack job: the tarball it named: %w", err)
	}
	d.res.Integrity = outs["integrity"]
	d.tell("   ", "Its job outputs (GITHUB_OUTPUT) carry the pin to the publish job, and the tarball goes"+
		" as an artifact:")
	d.say("   integrity=%s", d.res.Integrity)
	return nil
}

// publishJob stages the tarball with trusted publishing: it holds the
// tarball, the pin, and the right to ask for an ID token.
func (d *demo) publishJob(ctx context.Context) error {
	dir := filepath.Join(d.work, "publish-job")
	workspace := filepath.Join(dir, "workspace")
	if err := d.mkdirs(filepath.Join(dir, "home"), workspace); err != nil {
		return err
	}
	name := filepath.Base(d.tarball)
	data, err := os.ReadFile(d.tarball)
	if err == nil {
		err = os.WriteFile(filepath.Join(workspace, name), data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("publish job: downloading the artifact: %w", err)
	}
	entries, err := os.ReadDir(workspace)
	if err != nil {
		return err
	}
	var held []string
	for _, e := range entries {
		held = append(held, e.Name())
	}
	env := append([]string{"HOME=" + filepath.Join(dir, "home"), "npm_config_registry=" + d.servers.frontURL},
		d.servers.githubJob("refs/tags/v"+d.res.Version)...)
	j := job{name: "publish job", dir: workspace, env: env}
	d.step(2, "The publish job downloads the artifact into an empty folder, which now holds only %s."+
		" It has no checkout, no npm, no Node, no npm token, not even PATH. It has id-token: write, so"+
		" it sees ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN (the issuer), with the run's GITHUB_*"+
		" variables and npm_config_registry (the front door). Provenance is off: the run's claims say"+
		" the repository is private, and npm makes provenance only for public ones, so the example"+
		" needs no Fulcio or Rekor (make test signs through real ones).", strings.Join(held, ", "))
	r, err := d.command(ctx, j, d.airlock, "publish", "--stage", "--integrity", d.res.Integrity, name)
	if err != nil {
		return err
	}
	id, ok := strings.CutPrefix(strings.TrimSpace(r.Stdout), d.res.Name+"@"+d.res.Version+" ")
	if !ok || !uuidLike(id) {
		return fmt.Errorf("publish job: reading the stage id: stdout is %q, want %q", r.Stdout, d.res.Name+"@"+d.res.Version+" ID")
	}
	d.res.StageID = id
	d.tell("   ", "The issuer gave it ID tokens for %s. It exchanged the npm one for a publish token that"+
		" may stage this one package, once, and the registry holds %s@%s as stage %s.",
		d.servers.audiences(), d.res.Name, d.res.Version, id)
	return nil
}

func uuidLike(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}

// versions lists the versions Verdaccio serves of the example.
func (d *demo) versions(ctx context.Context) (map[string]any, error) {
	doc, err := d.servers.verdaccio.FetchPackument(ctx, d.res.Name)
	if errors.Is(err, registrytest.ErrNoPackage) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	v, _ := doc["versions"].(map[string]any)
	return v, nil
}

// checkNotListed checks that the staged version cannot be installed.
func (d *demo) checkNotListed(ctx context.Context) error {
	versions, err := d.versions(ctx)
	if err != nil {
		return err
	}
	_, d.res.ListedWhileStaged = versions[d.res.Version]
	if d.res.ListedWhileStaged {
		return fmt.Errorf("the registry lists %s@%s before anyone approved it", d.res.Name, d.res.Version)
	}
	d.tell("   ", "Verdaccio lists only %s of it: %s cannot be installed yet.", strings.Join(sortedKeys(versions), ", "), d.res.Version)
	return nil
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// maintainer reviews the staged version and approves it with 2FA.
func (d *demo) maintainer(ctx context.Context) error {
	j := d.maintainerJob()
	id := d.res.StageID
	d.step(3, "The maintainer, on their own machine, with their own token in $WORK/maintainer/.npmrc"+
		" and HOME alone in their environment, sees what waits:")
	r, err := d.command(ctx, j, d.airlock, "stage", "list", d.res.Name)
	if err != nil {
		return err
	}
	if !strings.Contains(r.Stdout, "id: "+id+"\n") || !strings.Contains(r.Stdout, "version: "+d.res.Version+"\n") {
		return fmt.Errorf("maintainer: airlock stage list does not show stage %s of version %s", id, d.res.Version)
	}
	d.tell("   ", "reviews it: what it changes since the version published before, and a rebuild from"+
		" the source (the example's folder here; in a real release, the commit its provenance names):")
	r, err = d.command(ctx, j, d.airlock, "stage", "review", id, "--source", d.example)
	if err != nil {
		return err
	}
	reviewed := ""
	for _, line := range strings.Split(r.Stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "sha512: "); ok {
			reviewed = v
		}
	}
	verdict, _, _ := strings.Cut(r.Stdout, "\n")
	if !strings.HasPrefix(verdict, "review: ") || strings.Contains(verdict, " high") && !strings.Contains(verdict, "no high") ||
		!strings.Contains(verdict, "reproduces from ") || reviewed != d.res.Integrity {
		return fmt.Errorf("maintainer: airlock stage review says %q for sha512 %q; want no high signal and a rebuild that reproduces, for the tarball %s", verdict, reviewed, d.res.Integrity)
	}
	d.tell("   ", "No high signal: the new command, main and files fields are what this first real release adds,"+
		" and the rebuild from source is identical.")
	code := frontdoor.TOTP(d.servers.otpSecret, d.now())
	j.hide = []string{code}
	d.tell("   ", "and approves exactly the tarball reviewed, with the code their authenticator shows now (hidden here):")
	r, err = d.command(ctx, j, d.airlock, "stage", "approve", id, "--otp", code, "--reviewed", reviewed)
	if err != nil {
		return err
	}
	if !strings.Contains(r.Stdout, id) || !strings.Contains(r.Stdout, "approved") {
		return errors.New("maintainer: airlock stage approve did not say the stage was approved")
	}
	r, err = d.command(ctx, j, d.airlock, "stage", "list", d.res.Name)
	if err != nil {
		return err
	}
	if strings.Contains(r.Stdout, id) {
		return fmt.Errorf("maintainer: stage %s is still listed after approval", id)
	}
	versions, err := d.versions(ctx)
	if err != nil {
		return err
	}
	v, _ := versions[d.res.Version].(map[string]any)
	dist, _ := v["dist"].(map[string]any)
	d.res.RegistryIntegrity, _ = dist["integrity"].(string)
	if d.res.RegistryIntegrity != d.res.Integrity {
		return fmt.Errorf("after approval the registry has %s@%s with integrity %q, want the pin %s",
			d.res.Name, d.res.Version, d.res.RegistryIntegrity, d.res.Integrity)
	}
	d.res.Approved = true
	d.tell("   ", "Nothing is staged any more, and Verdaccio lists %s; dist.integrity of %s is the pin.",
		strings.Join(sortedKeys(versions), ", "), d.res.Version)
	return nil
}

// user installs the released version with npm and runs it.
func (d *demo) user(ctx context.Context) error {
	dir := filepath.Join(d.work, "user")
	project := filepath.Join(dir, "project")
	reg := d.servers.verdaccio.URL()
	err := errors.Join(
		d.mkdirs(project, filepath.Join(dir, "home")),
		writeFile(filepath.Join(project, "package.json"), `{"name": "a-user", "version": "0.0.0", "private": true}`+"\n", 0o644),
		writeFile(filepath.Join(dir, "npmrc"), "registry="+reg+"\n", 0o644),
		writeFile(filepath.Join(dir, "globalnpmrc"), "", 0o644),
	)
	if err != nil {
		return err
	}
	j := job{name: "user", dir: project, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"),
		"npm_config_userconfig=" + filepath.Join(dir, "npmrc"),
		"npm_config_globalconfig=" + filepath.Join(dir, "globalnpmrc"),
		"npm_config_update_notifier=false",
	}}
	spec := d.res.Name + "@" + d.res.Version
	d.step(4, "A user installs it with npm, from Verdaccio into an empty project; npm checks the"+
		" tarball against dist.integrity:")
	if _, err := d.command(ctx, j, d.npm, "install", spec, "--registry", reg, "--cache", "../cache",
		"--fetch-retries=0", "--no-audit", "--no-fund"); err != nil {
		return err
	}
	var lock struct {
		Packages map[string]struct{ Version, Resolved, Integrity string }
	}
	data, err := os.ReadFile(filepath.Join(project, "package-lock.json"))
	if err == nil {
		err = json.Unmarshal(data, &lock)
	}
	if err != nil {
		return fmt.Errorf("user: reading npm's package-lock.json: %w", err)
	}
	locked := lock.Packages["node_modules/"+d.res.Name]
	var pkg struct{ Version string }
	data, err = os.ReadFile(filepath.Join(project, "node_modules", filepath.FromSlash(d.res.Name), "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil {
		return fmt.Errorf("user: reading the installed package.json: %w", err)
	}
	d.res.Installed = Installed{Version: pkg.Version, Integrity: locked.Integrity, Resolved: locked.Resolved}
	if pkg.Version != d.res.Version || locked.Version != d.res.Version || locked.Integrity != d.res.Integrity {
		return fmt.Errorf("user: npm installed version %q (locked %q, integrity %q), want %s with integrity %s",
			pkg.Version, locked.Version, locked.Integrity, d.res.Version, d.res.Integrity)
	}
	r, err := d.command(ctx, j, filepath.Join(project, "node_modules", ".bin", "greet"), "airlock")
	if err != nil {
		return err
	}
	d.res.Installed.Greeting = strings.TrimSpace(r.Stdout)
	d.tell("   ", "npm installed %s, and its package-lock.json records the integrity it checked: the pin"+
		" the pack job reported.", spec)
	return nil
}

// checkNoSecrets looks for every credential handed out in everything the
// processes printed and in the narration.
func (d *demo) checkNoSecrets(context.Context) error {
	secrets := d.secrets()
	for _, r := range d.res.Processes {
		if what := Leaked(r.Stdout+r.Stderr, secrets); what != "" {
			return fmt.Errorf("%s appears in what %s printed (%s)", what, r.Job, d.commandLine(job{}, r.Args))
		}
	}
	if what := Leaked(d.narration.String(), secrets); what != "" {
		return fmt.Errorf("%s appears in the narration", what)
	}
	s := &d.servers
	d.say("")
	d.tell("", "No credential appears in anything a process printed, nor here: %d looked for (registry"+
		" tokens and passwords, %d ID-token request token, %d ID tokens, %d exchanged publish token).",
		len(secrets), len(s.requestTokens), len(s.issuer.Minted()), len(s.exchanged))
	return nil
}
