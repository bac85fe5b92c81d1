package frontdoor

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/oidcissuer"
	"github.com/airlockdev/airlock/internal/registrytest"
)

// npmRun runs the real npm against the front door d, with token (if not
// "") in its user config and extra environment; it returns stdout and
// stderr and npm's error.
func npmRun(t *testing.T, d *door, dir, token string, extra []string, args ...string) (string, string, error) {
	t.Helper()
	var env []string
	for _, kv := range registrytest.NPMEnvFor(t, d.url+"/", token) {
		k, _, _ := strings.Cut(kv, "=")
		// Only the CI this test pretends to be may show.
		if k == "CI" || k == "GITHUB_ACTIONS" || k == "GITLAB_CI" || k == "GITLAB" || k == "CIRCLECI" || strings.HasPrefix(k, "ACTIONS_") {
			continue
		}
		env = append(env, kv)
	}
	cmd := exec.CommandContext(t.Context(), npmtest.NPM(t), append(args, "--registry", d.url+"/", "--loglevel", "verbose")...)
	cmd.Dir = dir
	cmd.Env = append(env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func packageDir(t *testing.T, name, version string) string {
	t.Helper()
	dir := t.TempDir()
	pkg, _ := json.Marshal(map[string]any{"name": name, "version": version, "license": "MIT"})
	for file, data := range map[string][]byte{"package.json": pkg, "index.js": []byte("module.exports = 1\n")} {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testNPM runs npm 11's own trusted publishing and stage commands against
// the front door: the client the front door must satisfy.
func testNPM(t *testing.T, w *world) {
	pkg := "@acme/" + w.pkg("npm")
	d := w.door(t, map[string][]TrustedPublisher{pkg: {githubPublisher()}})
	w.publishFirst(t, d, pkg)
	run := release
	run.Visibility = "private" // npm would try provenance for a public repository
	github := func() []string {
		u, tok := w.gh.NewRequestToken(oidcissuer.GitHubClaims(run), oidcissuer.Options{})
		return []string{"GITHUB_ACTIONS=true", "CI=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + u, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + tok}
	}

	// npm publish in GitHub Actions, with no token but the exchanged one.
	_, stderr, err := npmRun(t, d, packageDir(t, pkg, "1.0.1"), "", github(), "publish", "--access", "public")
	if err != nil {
		t.Fatalf("npm publish with trusted publishing: %v\n%s", err, stderr)
	}
	if _, ok := versionsOf(t, w.reg, pkg)["1.0.1"]; !ok {
		t.Fatalf("npm publish did not reach the registry:\n%s", stderr)
	}

	// A workflow the package does not trust gets npm's message from the
	// front door, and no token.
	run.Workflow = "ci.yml"
	_, stderr, err = npmRun(t, d, packageDir(t, pkg, "1.0.9"), "", github(), "publish", "--access", "public")
	run.Workflow = "release.yml"
	if err == nil {
		t.Fatalf("npm publish from an untrusted workflow succeeded")
	}
	if !strings.Contains(stderr, `workflow "ci.yml" does not match the trusted publisher's "release.yml"`) {
		t.Errorf("npm did not show why the exchange failed:\n%s", stderr)
	}

	// npm stage publish, then list, view, approve as alice with 2FA.
	stdout, stderr, err := npmRun(t, d, packageDir(t, pkg, "1.1.0"), "", github(), "stage", "publish", "--access", "public")
	if err != nil {
		t.Fatalf("npm stage publish: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`staged with id ([0-9a-f-]{36})`).FindStringSubmatch(stdout + stderr)
	if m == nil {
		t.Fatalf("npm stage publish printed no stage id:\n%s\n%s", stdout, stderr)
	}
	id := m[1]
	stdout, stderr, err = npmRun(t, d, t.TempDir(), w.alice, nil, "stage", "list", pkg, "--json")
	if err != nil {
		t.Fatalf("npm stage list: %v\n%s", err, stderr)
	}
	var items []stageItem
	if err := json.Unmarshal([]byte(stdout), &items); err != nil || len(items) != 1 || items[0].ID != id || items[0].Version != "1.1.0" || items[0].ActorType != "oidc" {
		t.Fatalf("npm stage list --json = %s (%v), want the one stage %s", stdout, err, id)
	}
	if _, stderr, err = npmRun(t, d, t.TempDir(), w.alice, nil, "stage", "approve", id); err == nil {
		t.Fatalf("npm stage approve without an OTP succeeded")
	} else if !strings.Contains(stderr, "EOTP") {
		t.Errorf("npm did not recognise the OTP demand (want code EOTP):\n%s", stderr)
	}
	if _, stderr, err = npmRun(t, d, t.TempDir(), w.alice, nil, "stage", "approve", id, "--otp", TOTP(w.secret, time.Now())); err != nil {
		t.Fatalf("npm stage approve --otp: %v\n%s", err, stderr)
	}
	if _, ok := versionsOf(t, w.reg, pkg)["1.1.0"]; !ok {
		t.Fatalf("the approved version is not in the registry")
	}
}
