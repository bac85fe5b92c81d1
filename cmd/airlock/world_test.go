package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/frontdoor"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/network/networktest"
	"github.com/airlockdev/airlock/internal/oidcissuer"
	"github.com/airlockdev/airlock/internal/registrytest"
	"github.com/airlockdev/airlock/internal/reproduce"
	"github.com/airlockdev/airlock/internal/sigstoretest"
)

// world is the simulated outside of a release job: a real Verdaccio, the
// registry front door that adds npm's trusted publishing, staging and
// attestation endpoints to it, and an OIDC issuer that plays GitHub
// Actions' token service.
type world struct {
	verdaccio *registrytest.Server
	issuer    *oidcissuer.Issuer
	// sigstore is a real Fulcio that trusts issuer, and a real Rekor.
	sigstore    *sigstoretest.Stack
	trustedRoot string // its trusted_root.json
	front       *frontdoor.Server
	frontURL    string
	// maintainer is a Verdaccio user's token: it seeds packages and
	// approves stages, as a human maintainer does.
	maintainer string
	otpSecret  []byte

	mu sync.Mutex
	// exchanged are the publish tokens the front door handed out, seen on
	// their way to the client, so tests can look for them in output.
	exchanged []string
}

const maintainerName = "alice"

func startWorld(t *testing.T) *world {
	t.Helper()
	w := &world{verdaccio: registrytest.Start(t), otpSecret: []byte("airlock-test-totp-secret")}
	w.maintainer = w.verdaccio.AddUser(t, maintainerName, "alice-password-1")
	iss, err := oidcissuer.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	w.issuer = iss
	w.sigstore = sigstoretest.Start(t, iss.URL())
	root, err := w.sigstore.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	w.trustedRoot = filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(w.trustedRoot, root, 0o644); err != nil {
		t.Fatal(err)
	}
	w.front, err = frontdoor.New(frontdoor.Config{
		Upstream:     w.verdaccio.URL(),
		UpstreamAuth: "Bearer " + w.maintainer,
		Issuers:      map[string]string{iss.URL(): "github"},
		OTPSecrets:   map[string][]byte{maintainerName: w.otpSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.recordExchanges(w.front))
	t.Cleanup(srv.Close)
	w.frontURL = srv.URL + "/"
	return w
}

// recordExchanges notes the tokens in exchange answers.
func (w *world) recordExchanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/-/npm/v1/oidc/token/exchange/") {
			next.ServeHTTP(rw, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var answer struct{ Token string }
		if json.Unmarshal(rec.Body.Bytes(), &answer) == nil && answer.Token != "" {
			w.mu.Lock()
			w.exchanged = append(w.exchanged, answer.Token)
			w.mu.Unlock()
		}
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	})
}

// secrets are every credential the world has handed out.
func (w *world) secrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string{w.maintainer}, w.exchanged...)
	return append(out, w.issuer.Minted()...)
}

// setup gives a script the world's addresses.
func (w *world) setup(env *testscript.Env) {
	env.Setenv("REGISTRY", w.frontURL)
	env.Setenv("REGISTRY_HOST", strings.TrimSuffix(strings.TrimPrefix(w.frontURL, "http://"), "/"))
	env.Setenv("VERDACCIO", w.verdaccio.URL())
	env.Setenv("MAINTAINER_TOKEN", w.maintainer)
	env.Setenv("npm_config_registry", w.frontURL)
	env.Setenv("ISSUER_URL", w.issuer.URL())
	env.Setenv("FULCIO_URL", w.sigstore.FulcioURL())
	env.Setenv("REKOR_URL", w.sigstore.RekorURL())
	env.Setenv("TRUSTED_ROOT", w.trustedRoot)
}

// commands are the script commands that act on the world.
func (w *world) commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"github-oidc": w.cmdGitHubOIDC,
		"id-token":    w.cmdIDToken,
		"id-token-endpoint-fails": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 {
				ts.Fatalf("usage: id-token-endpoint-fails STATUS [BODY]")
			}
			var status int
			fmt.Sscan(args[0], &status)
			w.issuer.FailRequests(ts.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), status, strings.Join(args[1:], " "))
		},
		"trust": w.cmdTrust,
		"otp": func(ts *testscript.TestScript, neg bool, args []string) {
			ts.Setenv("OTP", frontdoor.TOTP(w.otpSecret, time.Now()))
		},
		"no-secrets":   w.cmdNoSecrets,
		"tls-registry": w.cmdTLSRegistry,
		"proxy":        cmdProxy,
		"dotenv":       cmdDotenv,
		"capture":      cmdCapture,
		"npm-install": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: npm-install NAME VERSION")
			}
			w.npmInstall(ts, args[0], args[1])
		},
		"sign-provenance": w.cmdSignProvenance,
		"verify-summary":  w.cmdVerifySummary,
		"rekor-logged":    w.cmdRekorLogged,
	}
}

// runClaims turns key=value arguments into a GitHub run's claims. Keys:
// repo, workflow, ref, sha, env, runner, visibility, and drop=CLAIM to
// remove a claim.
//
// The repository is private unless visibility=public is given, so that
// npm's provenance-by-default stays off where a script is not about it.
func runClaims(ts *testscript.TestScript, args []string) (map[string]any, oidcissuer.Options, oidcissuer.GitHubRun) {
	run := oidcissuer.GitHubRun{Repository: "acme/widget", Workflow: "release.yml", Ref: "refs/heads/main", SHA: "0123456789abcdef0123456789abcdef01234567", Actor: "octocat", Visibility: "private"}
	var o oidcissuer.Options
	var drop []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("argument %q is not key=value", a)
		}
		switch k {
		case "repo":
			run.Repository = v
		case "workflow":
			run.Workflow = v
		case "ref":
			run.Ref = v
		case "sha":
			run.SHA = v
		case "env":
			run.Environment = v
		case "runner":
			run.RunnerEnvironment = v
		case "visibility":
			run.Visibility = v
		case "alg":
			o.Alg = v
		case "aud":
			o.Audience = v
		case "ttl":
			d, err := time.ParseDuration(v)
			if err != nil {
				ts.Fatalf("ttl: %v", err)
			}
			o.TTL = d
		case "drop":
			drop = append(drop, v)
		default:
			ts.Fatalf("unknown key %q", k)
		}
	}
	claims := oidcissuer.GitHubClaims(run)
	for _, d := range drop {
		delete(claims, d)
	}
	return claims, o, run
}

// github-oidc [key=value...]: the job runs in GitHub Actions with the
// id-token: write permission; its ID tokens carry these claims.
func (w *world) cmdGitHubOIDC(ts *testscript.TestScript, neg bool, args []string) {
	claims, o, run := runClaims(ts, args)
	u, tok := w.issuer.NewRequestToken(claims, o)
	ts.Setenv("GITHUB_ACTIONS", "true")
	ts.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", u)
	ts.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", tok)
	// The run's own variables, which the provenance statement is made of,
	// agree with the token's claims.
	runner := run.RunnerEnvironment
	if runner == "" {
		runner = "github-hosted"
	}
	for k, v := range map[string]string{
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": run.Repository,
		"GITHUB_WORKFLOW_REF": run.Repository + "/.github/workflows/" + run.Workflow + "@" + run.Ref,
		"GITHUB_REF":          run.Ref, "GITHUB_SHA": run.SHA, "GITHUB_EVENT_NAME": "push",
		"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1", "RUNNER_ENVIRONMENT": runner,
		"GITHUB_REPOSITORY_ID": fmt.Sprint(claims["repository_id"]), "GITHUB_REPOSITORY_OWNER_ID": fmt.Sprint(claims["repository_owner_id"]),
	} {
		ts.Setenv(k, v)
	}
}

// id-token [key=value...]: NPM_ID_TOKEN holds an ID token with these
// claims (aud defaults to the registry's).
func (w *world) cmdIDToken(ts *testscript.TestScript, neg bool, args []string) {
	claims, o, _ := runClaims(ts, args)
	if o.Audience == "" {
		o.Audience = "npm:127.0.0.1"
	}
	tok, err := w.issuer.Mint(claims, o)
	if err != nil {
		ts.Fatalf("minting: %v", err)
	}
	ts.Setenv("NPM_ID_TOKEN", tok)
}

// trust PKG key=value...: the package's trusted publisher. Keys: repo,
// workflow, env, actions (publish,stage).
func (w *world) cmdTrust(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: trust PKG [repo=R] [workflow=W] [env=E] [actions=A,B]")
	}
	p := frontdoor.TrustedPublisher{Provider: "github", Repository: "acme/widget", Workflow: "release.yml"}
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "repo":
			p.Repository = v
		case "workflow":
			p.Workflow = v
		case "env":
			p.Environment = v
		case "actions":
			p.Actions = strings.Split(v, ",")
		default:
			ts.Fatalf("unknown key %q", k)
		}
	}
	w.front.SetPublishers(args[0], []frontdoor.TrustedPublisher{p})
}

// no-secrets [FILE...]: the last command's stdout and stderr, and the
// files if they exist, hold no credential the world handed out, nor the
// job's request token or NPM_ID_TOKEN.
func (w *world) cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
	for _, f := range args {
		data, _ := os.ReadFile(ts.MkAbs(f))
		out += string(data)
	}
	secrets := w.secrets()
	for _, v := range []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "NPM_ID_TOKEN"} {
		if s := ts.Getenv(v); s != "" {
			secrets = append(secrets, s)
		}
	}
	found := ""
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(out, s) {
			found = "a credential"
		}
		// A JWT's signature alone is as good as the token to an attacker
		// who has seen the claims.
		if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i > 16 && strings.Contains(out, s[i+1:]) {
			found = "a token's signature"
		}
	}
	switch {
	case found != "" && !neg:
		ts.Fatalf("%s appears in the output", found)
	case found == "" && neg:
		ts.Fatalf("no credential appears in the output (of %d looked for)", len(secrets))
	}
}

// dotenv FILE: set the variables of a dotenv file.
func cmdDotenv(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: dotenv FILE")
	}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			ts.Setenv(k, strings.Trim(v, `"`))
		}
	}
}

// capture VAR REGEXP: set VAR to the first group of REGEXP in the last
// command's stdout.
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: capture VAR REGEXP")
	}
	m := regexp.MustCompile("(?m)" + args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("capture: %s does not match stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// npmInstall installs NAME@VERSION from Verdaccio with the real npm,
// which checks the tarball's integrity, and checks what it installed.
func (w *world) npmInstall(ts *testscript.TestScript, name, version string) {
	dir := ts.MkAbs(".npm-install-" + strings.NewReplacer("@", "", "/", "-").Replace(name) + "-" + version)
	must := func(err error) {
		if err != nil {
			ts.Fatalf("npm-install: %v", err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "home"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"installer","version":"0.0.0","private":true}`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "npmrc"), []byte("registry="+w.verdaccio.URL()+"\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "globalrc"), nil, 0o644))
	cmd := exec.Command("npm", "install", "--fetch-retries=0", "--ignore-scripts", "--no-package-lock", "--no-audit", "--no-fund", name+"@"+version)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"),
		"npm_config_userconfig=" + filepath.Join(dir, "npmrc"), "npm_config_globalconfig=" + filepath.Join(dir, "globalrc"),
		"npm_config_cache=" + filepath.Join(dir, "cache"), "npm_config_update_notifier=false",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		ts.Fatalf("npm install %s@%s: %v\n%s", name, version, err, out.String())
	}
	var pkg struct{ Name, Version string }
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
	must(err)
	must(json.Unmarshal(data, &pkg))
	if pkg.Name != name || pkg.Version != version {
		ts.Fatalf("npm installed %s@%s, want %s@%s", pkg.Name, pkg.Version, name, version)
	}
}

// tarballSubject is what provenance says of the tarball at path.
func tarballSubject(ts *testscript.TestScript, path string) attest.Subject {
	data, err := os.ReadFile(ts.MkAbs(path))
	ts.Check(err)
	subject, err := attest.ReadSubject(context.Background(), bytes.NewReader(data), int64(len(data)), inspect.DefaultLimits())
	ts.Check(err)
	return subject
}

// runStatement is the provenance statement publish would sign for
// subject in the run github-oidc set up.
func runStatement(ts *testscript.TestScript, subject attest.Subject) []byte {
	stmt, err := attest.Statement(subject, func(k string) (string, bool) { v := ts.Getenv(k); return v, v != "" })
	ts.Check(err)
	return stmt
}

// sign-provenance TARBALL OUT [key=value...]: the provenance bundle the
// publish job would attach to TARBALL, from the run github-oidc set up
// (its GITHUB_* variables and, with key=value, its token's claims), signed
// by the world's Fulcio and Rekor: what a publish job keeps as an
// artifact, since the registry serves no provenance for staged versions.
func (w *world) cmdSignProvenance(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: sign-provenance TARBALL OUT [key=value...]")
	}
	stmt := runStatement(ts, tarballSubject(ts, args[0]))
	claims, o, _ := runClaims(ts, append([]string{"visibility=public"}, args[2:]...))
	o.Audience = "sigstore"
	tok, err := w.issuer.Mint(claims, o)
	ts.Check(err)
	bundle, err := attest.Sign(context.Background(), stmt, attest.SignOptions{FulcioURL: w.sigstore.FulcioURL(), RekorURL: w.sigstore.RekorURL(),
		IDToken: func(context.Context) (string, error) { return tok, nil }})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), bundle, 0o644))
}

// verify-summary BUNDLE TARBALL REPO: BUNDLE must be a Sigstore bundle,
// verified against the world's trusted root, of an SLSA verification
// summary about TARBALL, signed by a run of REPO (owner/repo).
func (w *world) cmdVerifySummary(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: verify-summary BUNDLE TARBALL REPO")
	}
	bundle, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	subject := tarballSubject(ts, args[1])
	root, err := os.ReadFile(w.trustedRoot)
	ts.Check(err)
	p, err := attest.VerifyBundle(bundle, subject, attest.VerifyOptions{TrustedRoot: root, Policy: attest.Policy{Repository: args[2], Issuer: ts.Getenv("ISSUER_URL")},
		PredicateType: reproduce.VSAPredicateType})
	if neg {
		if err == nil {
			ts.Fatalf("the summary verified")
		}
		ts.Logf("%v", err)
		return
	}
	ts.Check(err)
	ts.Logf("verified: signed by %s, logged at index %d", p.Repository, p.LogIndex)
}

// rekor-logged TARBALL: the world's Rekor holds a DSSE entry whose
// payload is the provenance statement of TARBALL in the run github-oidc
// set up (the statement publish would sign). Other scripts sign at the
// same time, so this looks for the entry itself, not at the log's size.
func (w *world) cmdRekorLogged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: rekor-logged TARBALL")
	}
	stmt := runStatement(ts, tarballSubject(ts, args[0]))
	sum := sha256.Sum256(stmt)
	want := hex.EncodeToString(sum[:])
	get := func(path string, v any) {
		resp, err := http.Get(strings.TrimSuffix(w.sigstore.RekorURL(), "/") + path)
		ts.Check(err)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			ts.Fatalf("GET %s: %s", path, resp.Status)
		}
		ts.Check(json.NewDecoder(resp.Body).Decode(v))
	}
	var log struct {
		TreeSize int64 `json:"treeSize"`
	}
	get("/api/v1/log", &log)
	found := false
	for i := int64(0); i < log.TreeSize && !found; i++ {
		var entries map[string]struct {
			Body string `json:"body"`
		}
		get(fmt.Sprintf("/api/v1/log/entries?logIndex=%d", i), &entries)
		for _, e := range entries {
			raw, err := base64.StdEncoding.DecodeString(e.Body)
			ts.Check(err)
			var body struct {
				Kind string `json:"kind"`
				Spec struct {
					PayloadHash struct {
						Value string `json:"value"`
					} `json:"payloadHash"`
				} `json:"spec"`
			}
			ts.Check(json.Unmarshal(raw, &body))
			if body.Kind == "dsse" && body.Spec.PayloadHash.Value == want {
				found = true
			}
		}
	}
	switch {
	case found && neg:
		ts.Fatalf("Rekor logged the provenance of %s", args[0])
	case !found && !neg:
		ts.Fatalf("Rekor has no entry for the provenance of %s (%d entries read)", args[0], log.TreeSize)
	}
}

// tls-registry: the front door over TLS with a CA of its own; sets
// TLS_REGISTRY (https://127.0.0.1:PORT/) and REGISTRY_CA (the CA's file).
func (w *world) cmdTLSRegistry(ts *testscript.TestScript, neg bool, args []string) {
	ca, err := networktest.NewCA("registry CA")
	ts.Check(err)
	up, err := url.Parse(w.frontURL)
	ts.Check(err)
	srv, err := networktest.NewTLSServer(ca, httputil.NewSingleHostReverseProxy(up))
	ts.Check(err)
	ts.Defer(srv.Close)
	ts.Check(os.WriteFile(ts.MkAbs("registry-ca.pem"), ca.PEM, 0o644))
	ts.Setenv("TLS_REGISTRY", srv.URL+"/")
	ts.Setenv("REGISTRY_CA", ts.MkAbs("registry-ca.pem"))
}

// proxy NAME [intercept]: a proxy that logs what passes through it to
// NAME.log; NAME is set to its URL. With intercept it is an attacker's:
// it presents certificates of its own CA (NAME-ca.pem), reads the
// requests, and forwards them to servers REGISTRY_CA vouches for.
func cmdProxy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: proxy NAME [intercept]")
	}
	o := networktest.ProxyOptions{LogFile: ts.MkAbs(args[0] + ".log")}
	if len(args) > 1 && args[1] == "intercept" {
		ca, err := networktest.NewCA("attacker CA")
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(args[0]+"-ca.pem"), ca.PEM, 0o644))
		o.Intercept, o.Upstream = ca, x509.NewCertPool()
		o.Upstream.AppendCertsFromPEM([]byte(ts.ReadFile(ts.Getenv("REGISTRY_CA"))))
	}
	p := networktest.NewProxy(o)
	ts.Defer(p.Close)
	ts.Setenv(args[0], p.URL)
}
