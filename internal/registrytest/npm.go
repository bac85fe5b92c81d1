package registrytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// NPMEnv returns an environment in which npm talks only to s: see
// NPMEnvFor.
func (s *Server) NPMEnv(t testing.TB, token string) []string {
	t.Helper()
	return NPMEnvFor(t, s.url, token)
}

// NPMEnvFor returns an environment in which npm talks only to the
// registry at registryURL (http://host:port/): a fresh HOME and cache, no
// inherited npm settings, an empty global config, and a user config naming
// the registry and, unless token is "", holding token for it. The token is
// in that file only, never in argv or the environment.
func NPMEnvFor(t testing.TB, registryURL, token string) []string {
	t.Helper()
	rc := "registry=" + registryURL + "\n"
	if token != "" {
		host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(registryURL, "http://"), "https://"), "/")
		rc += "//" + host + "/:_authToken=" + token + "\n"
	}
	env := npmtest.Env(t)
	for _, kv := range env {
		if userrc, ok := strings.CutPrefix(kv, "npm_config_userconfig="); ok {
			if err := os.WriteFile(userrc, []byte(rc), 0o600); err != nil {
				t.Fatal(err)
			}
			return env
		}
	}
	t.Fatal("registrytest: npmtest.Env names no user config")
	return nil
}

// NPMCommand returns `npm ARGS --registry URL`, to run in dir with NPMEnv.
func (s *Server) NPMCommand(t testing.TB, dir, token string, args ...string) *exec.Cmd {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("registrytest: npm is required but was not found on PATH: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), npm, append(args, "--registry", s.url)...)
	cmd.Dir = dir
	cmd.Env = s.NPMEnv(t, token)
	return cmd
}

// NPM runs `npm ARGS --registry URL` in dir with NPMEnv and returns its
// stdout, failing the test (with npm's stderr) if npm fails.
func (s *Server) NPM(t testing.TB, dir, token string, args ...string) []byte {
	t.Helper()
	cmd := s.NPMCommand(t, dir, token, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("registrytest: npm %s in %s: %v\nstderr:\n%s\nverdaccio:\n%s",
			strings.Join(args, " "), dir, err, stderr.Bytes(), s.logTail())
	}
	return stdout.Bytes()
}

// Install installs spec from s into a fresh folder with npm, with no
// fetch retries and no scripts, and returns the installed package's folder
// (node_modules/NAME).
func (s *Server) Install(t testing.TB, spec, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"installer","version":"0.0.0","private":true}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.NPM(t, dir, "", "install", "--fetch-retries=0", "--ignore-scripts", "--no-package-lock", spec)
	return filepath.Join(dir, "node_modules", filepath.FromSlash(name))
}
