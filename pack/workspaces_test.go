package pack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/registry"
	"github.com/airlockdev/airlock/internal/workspace"
)

func workspaceTree(t *testing.T, files string) string {
	t.Helper()
	return npmtest.MaterializeArchive(t, txtar.Parse([]byte(files)))
}

// TestOnlyUnpublished asks a registry (a test server) for each package,
// without credentials, and skips the versions it has; an answer that is
// neither a packument nor a 404 fails the pack.
func TestOnlyUnpublished(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/@s%2fa", "/@s/a":
			json.NewEncoder(w).Encode(map[string]any{"name": "@s/a", "versions": map[string]any{"1.0.0": map[string]any{"name": "@s/a", "version": "1.0.0"}}})
		case "/broken":
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	root := workspaceTree(t, `
-- package.json --
{"name": "root", "private": true, "workspaces": ["packages/*"]}
-- packages/a/package.json --
{"name": "@s/a", "version": "1.0.0"}
-- packages/b/package.json --
{"name": "@s/b", "version": "1.0.0", "dependencies": {"@s/a": "^1.0.0"}}
-- packages/broken/package.json --
{"name": "broken", "version": "1.0.0", "private": true}
`)
	user, global := filepath.Join(t.TempDir(), "userrc"), filepath.Join(t.TempDir(), "globalrc")
	os.WriteFile(user, nil, 0o644)
	os.WriteFile(global, nil, 0o644)
	cfg, err := npmrc.Load(npmrc.Sources{Env: []string{"npm_config_registry=" + srv.URL}, Cwd: root, UserConfig: user, GlobalConfig: global})
	if err != nil {
		t.Fatal(err)
	}
	opts := WorkspaceOptions{
		Options:         Options{DryRun: true, IgnoreScripts: true},
		OnlyUnpublished: true, Registry: &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}, Config: cfg,
	}
	res, err := PackWorkspaces(t.Context(), root, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packed) != 1 || res.Packed[0].Report.Name != "@s/b" {
		t.Fatalf("packed %v, want @s/b alone", res.Packed)
	}
	if rp := res.Release.Packages[0]; len(rp.DependsOn) != 0 {
		t.Errorf("dependsOn %v: @s/a is not in the release", rp.DependsOn)
	}
	var reasons []string
	for _, s := range res.Skipped {
		reasons = append(reasons, s.Name+": "+s.Reason)
	}
	if got := strings.Join(reasons, "; "); !strings.Contains(got, "@s/a: already on "+srv.URL) || !strings.Contains(got, "broken: private") {
		t.Errorf("skipped: %s", got)
	}
	for _, a := range auth {
		if a != "" {
			t.Errorf("a request carried Authorization %q", a)
		}
	}

	// Every version selected on the registry already: a release with
	// nothing in it, which is not an error, and writes nothing.
	dest := t.TempDir()
	only := opts
	only.Options.DryRun, only.Options.Destination = false, dest
	only.Select = []string{"@s/a"}
	res, err = PackWorkspaces(t.Context(), root, only)
	if err != nil || !res.NothingToRelease || len(res.Packed) != 0 || res.ReleasePath != "" {
		t.Fatalf("all published: %+v, %v; want NothingToRelease and nothing packed", res, err)
	}
	if left, _ := os.ReadDir(dest); len(left) != 0 {
		t.Errorf("nothing to release wrote %v", left)
	}

	// A registry failing for a selected package fails the pack.
	os.WriteFile(filepath.Join(root, "packages/broken/package.json"), []byte(`{"name": "broken", "version": "1.0.0"}`), 0o644)
	opts.Registry = &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}
	if _, err := PackWorkspaces(t.Context(), root, opts); err == nil || !strings.Contains(err.Error(), "checking whether broken@1.0.0 is on") {
		t.Errorf("error %v, want one saying the check failed", err)
	}
}

// TestWorkspaceRewriteErrors: specs the manager cannot rewrite fail the
// pack, naming the package.json and the dependency.
func TestWorkspaceRewriteErrors(t *testing.T) {
	for _, c := range []struct {
		name, manager, files, want string
	}{
		{"pnpm unknown workspace package", "pnpm", `
-- pnpm-workspace.yaml --
packages: [a]
-- a/package.json --
{"name": "a", "version": "1.0.0", "dependencies": {"gone": "workspace:^"}}
`, `dependencies "gone": no workspace package is named "gone"`},
		{"pnpm catalog entry missing", "pnpm", `
-- pnpm-workspace.yaml --
packages: [a]
catalog:
  other: ^1.0.0
-- a/package.json --
{"name": "a", "version": "1.0.0", "dependencies": {"x": "catalog:"}}
`, `dependencies "x": no catalog entry "x" in catalog "default"`},
		{"pnpm bundled dependencies", "pnpm", `
-- pnpm-workspace.yaml --
packages: [a]
-- a/package.json --
{"name": "a", "version": "1.0.0", "bundleDependencies": ["x"]}
`, `airlock does not bundle dependencies for pnpm`},
		{"yarn no such workspace", "yarn", `
-- package.json --
{"name": "root", "private": true, "workspaces": ["a"]}
-- .yarnrc.yml --
-- a/package.json --
{"name": "a", "version": "1.0.0", "dependencies": {"gone": "workspace:*"}}
`, `no local workspace found for this range`},
		{"yarn unsatisfied range kept, then refused", "yarn", `
-- package.json --
{"name": "root", "private": true, "workspaces": ["a", "b"]}
-- .yarnrc.yml --
-- a/package.json --
{"name": "a", "version": "1.0.0", "dependencies": {"b": "workspace:^9.0.0"}}
-- b/package.json --
{"name": "b", "version": "1.0.0"}
`, `dependencies "b" is "workspace:^9.0.0", a workspace spec`},
		{"yarn catalog missing", "yarn", `
-- package.json --
{"name": "root", "private": true, "workspaces": ["a"]}
-- .yarnrc.yml --
catalogs:
  big: {}
-- a/package.json --
{"name": "a", "version": "1.0.0", "dependencies": {"x": "catalog:big"}}
`, `dependencies "x": catalog "big" not found or empty`},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := workspaceTree(t, c.files)
			_, err := PackWorkspaces(t.Context(), root, WorkspaceOptions{Options: Options{DryRun: true, IgnoreScripts: true}, Manager: workspace.Manager(c.manager)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestYarnRefusesLinks: yarn packs a symbolic link; airlock publish would
// refuse the tarball, so pack refuses first.
func TestYarnRefusesLinks(t *testing.T) {
	root := workspaceTree(t, `
-- package.json --
{"name": "root", "private": true, "workspaces": ["a"]}
-- .yarnrc.yml --
-- a/package.json --
{"name": "a", "version": "1.0.0"}
-- a/index.js --
x
-- .fixture --
symlink a/link.js -> index.js
`)
	_, err := PackWorkspaces(t.Context(), root, WorkspaceOptions{Options: Options{DryRun: true, IgnoreScripts: true}, Manager: workspace.Yarn})
	if err == nil || !strings.Contains(err.Error(), "link.js is a symbolic link (to index.js)") {
		t.Errorf("error %v, want the link refused", err)
	}
}

// TestPNPMScripts runs the scripts pnpm publish runs before and after
// packing, in its order; prepublish too, which pnpm still runs.
func TestPNPMScripts(t *testing.T) {
	root := workspaceTree(t, `
-- pnpm-workspace.yaml --
packages: [a]
-- a/package.json --
{"name": "a", "version": "1.0.0", "scripts": {
  "prepublishOnly": "echo prepublishOnly >> ../log",
  "prepublish": "echo prepublish >> ../log",
  "prepack": "echo prepack >> ../log && echo built > built.js",
  "prepare": "echo prepare >> ../log",
  "postpack": "echo postpack >> ../log",
  "publish": "echo publish >> ../log",
  "postpublish": "echo postpublish >> ../log"}}
`)
	res, err := PackWorkspaces(t.Context(), root, WorkspaceOptions{Options: Options{DryRun: true, Env: os.Environ()}})
	if err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(filepath.Join(root, "log"))
	if got, want := strings.Fields(string(log)), "prepublishOnly prepublish prepack prepare postpack"; strings.Join(got, " ") != want {
		t.Errorf("scripts ran %v, want %s", got, want)
	}
	found := false
	for _, f := range res.Packed[0].Report.Files {
		found = found || f.Path == "built.js"
	}
	if !found {
		t.Error("the file prepack wrote is not packed")
	}
}
