package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/registrytest"
)

const (
	stageToken = "npm_STAGEdifferentialTOKEN0123456789ab"
	stageID    = "5c9a3f1e-7b2d-4e8f-a1c3-d4e5f6a7b8c9"
	stageOTP   = "123456"
)

// seen is what a request to the recording registry looked like.
type seen struct {
	Method, Path, Query, OTP, AuthScheme string
}

// stageRecorder answers like a registry with staged publishing, under a
// path prefix, and records every request.
type stageRecorder struct {
	*httptest.Server
	prefix  string
	items   []string // JSON records, 150 of them: two pages
	tarball []byte
	mu      sync.Mutex
	seen    []seen
}

func newStageRecorder(t *testing.T) *stageRecorder {
	t.Helper()
	r := &stageRecorder{prefix: "/npm"}
	r.tarball = stageTarball(t, "@acme/widget", "2.1.0")
	sum := sha1.Sum(r.tarball)
	for i := range 150 {
		id := stageID
		if i > 0 {
			id = fmt.Sprintf("%08x-7b2d-4e8f-a1c3-d4e5f6a7b8c9", i)
		}
		r.items = append(r.items, fmt.Sprintf(`{"id":%q,"packageName":"@acme/widget","version":"2.1.%d","tag":"latest",`+
			`"createdAt":"2026-05-0%dT12:00:00.000Z","actor":"release-bot","actorType":"oidc","shasum":%q,"access":"public","note":"<b>&"}`,
			id, i, 1+i%9, hex.EncodeToString(sum[:])))
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *stageRecorder) registryURL() string { return r.URL + r.prefix + "/" }

func (r *stageRecorder) serve(w http.ResponseWriter, req *http.Request) {
	scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	r.mu.Lock()
	r.seen = append(r.seen, seen{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Get("npm-otp"), scheme})
	r.mu.Unlock()
	if req.Header.Get("Authorization") != "Bearer "+stageToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	base := r.prefix + "/-/stage"
	switch req.Method + " " + req.URL.Path {
	case "GET " + base:
		page, _ := strconv.Atoi(req.URL.Query().Get("page"))
		per, _ := strconv.Atoi(req.URL.Query().Get("perPage"))
		items := r.items
		if req.URL.Query().Get("package") == "nothing-staged" {
			items = nil
		}
		var out []string
		for i := page * per; i < min(len(items), (page+1)*per); i++ {
			out = append(out, items[i])
		}
		fmt.Fprintf(w, `{"items":[%s],"total":%d}`, strings.Join(out, ","), len(items))
	case "GET " + base + "/" + stageID:
		fmt.Fprint(w, r.items[0])
	case "POST " + base + "/" + stageID + "/approve", "DELETE " + base + "/" + stageID:
		if req.Header.Get("npm-otp") != stageOTP {
			w.Header().Set("WWW-Authenticate", "OTP")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"OTP required"}`)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	case "GET " + base + "/" + stageID + "/tarball":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(r.tarball)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

// take returns the requests recorded since the last call.
func (r *stageRecorder) take() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

func stageTarball(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{
		{"package/package.json", fmt.Sprintf(`{"name":%q,"version":%q}`, name, version)},
		{"package/index.js", "module.exports = 42\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

type toolRun struct {
	code           int
	stdout, stderr string
}

func runNPM(t *testing.T, env []string, dir string, args ...string) toolRun {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), npmtest.NPM(t), args...)
	cmd.Env, cmd.Dir = env, dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running npm %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return toolRun{code, out.String(), errb.String()}
}

func runAirlock(env []string, args ...string) toolRun {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb, env)
	return toolRun{code, out.String(), errb.String()}
}

// TestStageMatchesNPM runs npm 11's stage commands and airlock's against
// the same recording registry (with a path prefix) and compares the
// requests, the JSON printed, and the human output.
func TestStageMatchesNPM(t *testing.T) {
	reg := newStageRecorder(t)
	env := registrytest.NPMEnvFor(t, reg.registryURL(), stageToken)
	npmDir := t.TempDir()

	for _, tc := range []struct {
		name string
		args []string
		// fails: both tools must fail (exit non-zero).
		fails bool
		json  bool
	}{
		{name: "list json", args: []string{"stage", "list", "--json"}, json: true},
		{name: "list one package json", args: []string{"stage", "list", "@acme/widget", "--json"}, json: true},
		{name: "list human", args: []string{"stage", "list"}},
		{name: "list nothing", args: []string{"stage", "list", "nothing-staged"}},
		{name: "view json", args: []string{"stage", "view", stageID, "--json"}, json: true},
		{name: "view human", args: []string{"stage", "view", stageID}},
		{name: "approve", args: []string{"stage", "approve", stageID, "--otp", stageOTP}},
		{name: "reject", args: []string{"stage", "reject", stageID, "--otp", stageOTP}},
		{name: "approve without otp", args: []string{"stage", "approve", stageID}, fails: true},
		{name: "reject without otp", args: []string{"stage", "reject", stageID}, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg.take()
			n := runNPM(t, env, npmDir, tc.args...)
			npmReqs := reg.take()
			a := runAirlock(env, tc.args...)
			airReqs := reg.take()

			if tc.fails != (n.code != 0) || tc.fails != (a.code != 0) {
				t.Fatalf("exit codes: npm %d, airlock %d (want failure: %v)\nnpm stderr:\n%s\nairlock stderr:\n%s", n.code, a.code, tc.fails, n.stderr, a.stderr)
			}
			if len(npmReqs) == 0 || !reflect.DeepEqual(npmReqs, airReqs) {
				t.Fatalf("requests differ:\nnpm:     %+v\nairlock: %+v", npmReqs, airReqs)
			}
			if strings.Contains(a.stdout+a.stderr, stageToken) {
				t.Fatal("airlock printed the token")
			}
			if tc.fails {
				if !strings.Contains(a.stderr, "hint: pass --otp") {
					t.Fatalf("airlock stderr lacks the --otp hint:\n%s", a.stderr)
				}
				return
			}
			if tc.json {
				var nv, av any
				if err := json.Unmarshal([]byte(n.stdout), &nv); err != nil {
					t.Fatalf("npm printed no JSON: %v\n%s", err, n.stdout)
				}
				if err := json.Unmarshal([]byte(a.stdout), &av); err != nil {
					t.Fatalf("airlock printed no JSON: %v\n%s", err, a.stdout)
				}
				if !reflect.DeepEqual(nv, av) {
					t.Fatalf("JSON differs:\nnpm:\n%.2000s\nairlock:\n%.2000s", n.stdout, a.stdout)
				}
				return
			}
			if n.stdout != a.stdout {
				t.Fatalf("output differs:\nnpm:\n%.1500s\nairlock:\n%.1500s", n.stdout, a.stdout)
			}
		})
	}

	t.Run("download", func(t *testing.T) {
		reg.take()
		n := runNPM(t, env, npmDir, "stage", "download", stageID)
		npmReqs := reg.take()
		airDir := t.TempDir()
		a := runAirlock(env, "stage", "download", stageID, "--dir", airDir)
		airReqs := reg.take()
		if n.code != 0 || a.code != 0 {
			t.Fatalf("npm %d: %s\nairlock %d: %s", n.code, n.stderr, a.code, a.stderr)
		}
		// airlock reads the staged record first, to check the tarball.
		if len(airReqs) != 2 || airReqs[0].Path != reg.prefix+"/-/stage/"+stageID || !reflect.DeepEqual(npmReqs, airReqs[1:]) {
			t.Fatalf("requests:\nnpm:     %+v\nairlock: %+v", npmReqs, airReqs)
		}
		name := strings.TrimSpace(n.stdout)
		if name != "acme-widget-2.1.0-"+stageID+".tgz" || strings.TrimSpace(a.stdout) != filepath.Join(airDir, name) {
			t.Fatalf("file names: npm %q, airlock %q", n.stdout, a.stdout)
		}
		want, err := os.ReadFile(filepath.Join(npmDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(airDir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("airlock's file differs from npm's (%v)", err)
		}

		a = runAirlock(env, "stage", "download", stageID, "--dir", t.TempDir(), "--json")
		var d map[string]any
		if err := json.Unmarshal([]byte(a.stdout), &d); err != nil || a.code != 0 {
			t.Fatalf("download --json: %v\n%s%s", err, a.stdout, a.stderr)
		}
		if d["filename"] != name || d["name"] != "@acme/widget" || d["version"] != "2.1.0" || d["id"] != stageID ||
			d["files"] != float64(2) || !strings.HasPrefix(fmt.Sprint(d["integrity"]), "sha512-") {
			t.Fatalf("download --json: %v", d)
		}
	})
}
