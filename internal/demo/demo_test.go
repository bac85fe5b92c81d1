package demo

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExample runs what `make example` runs, so the README's first command
// stays honest. Like every test here it needs Verdaccio and npm (make
// deps), and fails without them.
func TestExample(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(t.Context(), Options{Out: &out})
	if err != nil {
		t.Fatalf("the example failed: %v\nnarration:\n%s", err, out.String())
	}
	t.Logf("narration:\n%s", out.String())

	if !uuidLike(res.StageID) {
		t.Errorf("stage id %q is not a UUID", res.StageID)
	}
	if res.ListedWhileStaged {
		t.Error("the registry listed the version before approval")
	}
	if !res.Approved {
		t.Error("the stage was not approved")
	}
	if !strings.HasPrefix(res.Integrity, "sha512-") {
		t.Fatalf("pin = %q, want a sha512 integrity", res.Integrity)
	}
	if res.RegistryIntegrity != res.Integrity {
		t.Errorf("registry's dist.integrity = %q, want the pin %q", res.RegistryIntegrity, res.Integrity)
	}
	if got := res.Installed; got.Version != res.Version || got.Integrity != res.Integrity {
		t.Errorf("npm installed %s with integrity %q, want %s with the pin %q", got.Version, got.Integrity, res.Version, res.Integrity)
	}
	if res.Installed.Greeting != "hello, airlock" {
		t.Errorf("the installed bin printed %q", res.Installed.Greeting)
	}

	// Every kind of credential was handed out, and none was printed.
	var jwts int
	for _, s := range res.Secrets {
		if strings.Count(s, ".") == 2 {
			jwts++
		}
	}
	if len(res.Secrets) < 5 || jwts == 0 {
		t.Fatalf("%d secrets, %d of them JWTs: the check below would prove little", len(res.Secrets), jwts)
	}
	for _, p := range res.Processes {
		if what := Leaked(p.Stdout+p.Stderr, res.Secrets); what != "" {
			t.Errorf("%s appears in the output of %s %v", what, p.Job, p.Args[1:])
		}
	}
	if what := Leaked(out.String(), res.Secrets); what != "" {
		t.Errorf("%s appears in the narration", what)
	}

	checkJobs(t, res.Processes)
	checkGone(t, res)
}

// checkJobs checks that each job ran with the environment its role
// allows, and no more.
func checkJobs(t *testing.T, procs []Process) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range procs {
		seen[p.Job] = true
		switch p.Job {
		case "pack job", "maintainer", "user":
			for _, k := range p.EnvNames {
				if strings.HasPrefix(k, "ACTIONS_ID_TOKEN_") || strings.Contains(strings.ToUpper(k), "TOKEN") {
					t.Errorf("%s %v ran with %s", p.Job, p.Args[1:], k)
				}
			}
		case "publish job":
			// The ID-token endpoint, the run's variables and the registry;
			// no npm token, no PATH (it starts no process).
			for _, k := range p.EnvNames {
				allowed := k == "HOME" || k == "npm_config_registry" || k == "RUNNER_ENVIRONMENT" ||
					k == "ACTIONS_ID_TOKEN_REQUEST_URL" || k == "ACTIONS_ID_TOKEN_REQUEST_TOKEN" ||
					strings.HasPrefix(k, "GITHUB_")
				if !allowed {
					t.Errorf("the publish job ran with %s", k)
				}
			}
			if !slices.Contains(p.EnvNames, "ACTIONS_ID_TOKEN_REQUEST_TOKEN") {
				t.Errorf("the publish job ran without the ID-token endpoint: %v", p.EnvNames)
			}
			if !slices.Contains(p.Args, "--stage") || !slices.Contains(p.Args, "--integrity") {
				t.Errorf("the publish job ran %v, want --stage and --integrity", p.Args[1:])
			}
		}
	}
	for _, job := range []string{"build", "maintainer", "pack job", "publish job", "user"} {
		if !seen[job] {
			t.Errorf("no process of the %s ran", job)
		}
	}
}

// checkGone checks that Run left no server and no folder behind.
func checkGone(t *testing.T, res *Result) {
	t.Helper()
	if _, err := os.Stat(res.Work); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the work folder %s is still there (%v)", res.Work, err)
	}
	if len(res.URLs) != 3 {
		t.Fatalf("URLs = %v, want the three servers'", res.URLs)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, u := range res.URLs {
		if resp, err := client.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Run returned", u)
		}
	}
}

// TestStopped stops the example as Ctrl-C would, while the pack job is
// about to run: Run says so, and leaves nothing behind.
func TestStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w := &cancelOn{text: "1. The pack job", cancel: cancel}
	res, err := Run(ctx, Options{Out: w})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Run stopped half-way returned %v, want an error saying it stopped\nnarration:\n%s", err, w.String())
	}
	if res == nil {
		t.Fatal("no result")
	}
	checkGone(t, res)
}

// cancelOn cancels once the narration says text.
type cancelOn struct {
	mu     sync.Mutex
	b      bytes.Buffer
	text   string
	cancel func()
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.text) {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestLeaked(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLWF0LWxlYXN0LTE2LWJ5dGVz"
	for _, c := range []struct {
		text, want string
	}{
		{"nothing here", ""},
		{"token=npm_0123456789abcdef", "a credential"},
		{"Authorization: Bearer " + jwt, "a credential"},
		{"sig c2lnbmF0dXJlLW9mLWF0LWxlYXN0LTE2LWJ5dGVz", "a token's signature"},
		{"short", ""}, // secrets under 8 characters are not looked for
	} {
		if got := Leaked(c.text, []string{"npm_0123456789abcdef", jwt, "short"}); got != c.want {
			t.Errorf("Leaked(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
