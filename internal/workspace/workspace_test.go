package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/npmtest"
)

func tree(t *testing.T, files string) string {
	t.Helper()
	return npmtest.MaterializeArchive(t, txtar.Parse([]byte(files)))
}

func paths(w *Workspace) string {
	var out []string
	for _, p := range w.Packages {
		out = append(out, p.Path)
	}
	return strings.Join(out, " ")
}

func TestFindPackages(t *testing.T) {
	for _, c := range []struct {
		name, files, from string
		manager           Manager
		why, packages     string
	}{
		{"npm array, a negation cancelled by a later pattern it matches (as npm does)", `
-- package.json --
{"name": "r", "workspaces": ["packages/*", "!packages/x*", "packages/xb", "tools/**"]}
-- package-lock.json --
{}
-- packages/a/package.json --
{"name": "a"}
-- packages/xa/package.json --
{"name": "xa"}
-- packages/xb/package.json --
{"name": "xb"}
-- packages/nopkg/readme --
-- packages/.hidden/package.json --
{"name": "hidden"}
-- tools/deep/er/package.json --
{"name": "er"}
-- tools/node_modules/dep/package.json --
{"name": "dep"}
`, ".", NPM, "package-lock.json", "packages/a packages/xa packages/xb tools/deep/er"},
		{"npm negation", `
-- package.json --
{"name": "r", "workspaces": ["packages/*", "!packages/x*"]}
-- packages/a/package.json --
{"name": "a"}
-- packages/xa/package.json --
{"name": "xa"}
`, ".", NPM, "no lockfile", "packages/a"},
		{"npm object form, from a package folder", `
-- package.json --
{"name": "r", "workspaces": {"packages": ["{libs,apps}/*"]}}
-- libs/a/package.json --
{"name": "a"}
-- apps/b/package.json --
{"name": "b"}
`, "libs/a", NPM, "no lockfile", "apps/b libs/a"},
		{"pnpm yaml, negation, root only when named", `
-- package.json --
{"name": "r"}
-- pnpm-workspace.yaml --
packages:
  - "packages/**"
  - "!**/test/**"
-- pnpm-lock.yaml --
-- packages/a/package.json --
{"name": "a"}
-- packages/a/test/fixture/package.json --
{"name": "fixture"}
-- packages/a/b/package.json --
{"name": "ab"}
`, "packages/a", PNPM, "pnpm-lock.yaml", "packages/a packages/a/b"},
		{"pnpm without packages: the root alone", `
-- package.json --
{"name": "r", "version": "1.0.0"}
-- pnpm-workspace.yaml --
catalog:
  x: ^1.0.0
-- sub/package.json --
{"name": "sub"}
`, ".", PNPM, "no lockfile; pnpm-workspace.yaml", "."},
		{"yarn nested workspaces, packageManager", `
-- package.json --
{"name": "r", "packageManager": "yarn@4.18.1", "workspaces": ["packages/*"]}
-- yarn.lock --
-- packages/a/package.json --
{"name": "a", "workspaces": ["plugins/*"]}
-- packages/a/plugins/p/package.json --
{"name": "p"}
-- packages/.yarn/package.json --
{"name": "never"}
`, ".", Yarn, `packageManager "yarn@4.18.1"`, "packages/a packages/a/plugins/p"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := tree(t, c.files)
			w, err := Find(filepath.Join(root, c.from), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if w.Root != root || w.Manager != c.manager || w.Why != c.why {
				t.Errorf("root %s manager %s (%s), want %s %s (%s)", w.Root, w.Manager, w.Why, root, c.manager, c.why)
			}
			if got := paths(w); got != c.packages {
				t.Errorf("packages %q, want %q", got, c.packages)
			}
		})
	}
}

func TestFindRefuses(t *testing.T) {
	for _, c := range []struct {
		name, files, from string
		flag              Manager
		want              string
	}{
		{"no workspace", "-- package.json --\n{\"name\": \"x\"}\n", ".", "", "no workspace root at or above it"},
		{"two lockfiles", "-- package.json --\n{\"workspaces\": []}\n-- package-lock.json --\n-- yarn.lock --\n", ".", "", "lockfiles of several package managers (yarn.lock, package-lock.json)"},
		{"yarn 1 lockfile", "-- package.json --\n{\"workspaces\": []}\n-- yarn.lock --\n# yarn lockfile v1\n", ".", "", "is a yarn 1 lockfile"},
		{"yarn 1 packageManager", "-- package.json --\n{\"workspaces\": [], \"packageManager\": \"yarn@1.22.19\"}\n", ".", "", "is yarn 1"},
		{"bun", "-- package.json --\n{\"workspaces\": []}\n-- bun.lock --\n", ".", "", "bun workspaces are not supported"},
		{"pnpm without its file", "-- package.json --\n{\"workspaces\": [\"a\"]}\n", ".", PNPM, "there is no pnpm-workspace.yaml"},
		{"npm without workspaces", "-- pnpm-workspace.yaml --\npackages: [a]\n", ".", NPM, "package.json has no \"workspaces\""},
		{"misnamed pnpm file", "-- pnpm-workspace.yml --\npackages: [a]\n", ".", "", "name it pnpm-workspace.yaml"},
		{"duplicate names", "-- package.json --\n{\"workspaces\": [\"*\"]}\n-- a/package.json --\n{\"name\": \"same\"}\n-- b/package.json --\n{\"name\": \"same\"}\n", ".", "", "same (a, b)"},
		{"folder outside the packages", "-- package.json --\n{\"workspaces\": [\"a\"]}\n-- a/package.json --\n{\"name\": \"a\"}\n-- other/package.json --\n{\"name\": \"o\"}\n", "other", "", "is in no package of the workspace"},
		{"default catalog twice", "-- pnpm-workspace.yaml --\ncatalog: {a: '1'}\ncatalogs: {default: {a: '2'}}\n", ".", "", "defined twice"},
		{"catalog entry not a string", "-- pnpm-workspace.yaml --\ncatalog: {a: 1}\n", ".", "", `entry "a" is 1, not a string`},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := tree(t, c.files)
			_, err := Find(filepath.Join(root, c.from), Options{Manager: c.flag})
			if err == nil || !strings.Contains(err.Error()+" "+hint.Of(err), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestFindNoWorkspaceMatches(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "x"}`), 0o644)
	if _, err := Find(dir, Options{}); !errors.Is(err, ErrNoWorkspace) {
		t.Errorf("error %v, want ErrNoWorkspace", err)
	}
}

func TestCatalogsAndYarnPaths(t *testing.T) {
	root := tree(t, `
-- package.json --
{"workspaces": ["a"]}
-- .yarnrc.yml --
yarnPath: .yarn/releases/yarn-4.cjs
cacheFolder: ./cache
catalog:
  react: ^18.0.0
catalogs:
  legacy:
    react: ^16.0.0
-- a/package.json --
{"name": "a", "private": "yes"}
`)
	w, err := Find(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Catalog["react"] != "^18.0.0" || w.NamedCatalogs["legacy"]["react"] != "^16.0.0" {
		t.Errorf("catalogs %v %v", w.Catalog, w.NamedCatalogs)
	}
	joined := strings.Join(w.YarnPaths, " ")
	for _, p := range []string{"cache", ".yarn/releases/yarn-4.cjs", ".yarn/install-state.gz", ".pnp.cjs", "yarn.lock"} {
		if !strings.Contains(joined, filepath.Join(root, p)) {
			t.Errorf("YarnPaths %v lack %s", w.YarnPaths, p)
		}
	}
	if w.Packages[0].Private {
		t.Error(`yarn reads "private": "yes" as not private (a boolean only)`)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pat, path string
		want      bool
	}{
		{"packages/*", "packages/a", true},
		{"packages/*", "packages/.a", false},
		{"packages/.*", "packages/.a", true},
		{"packages/**", "packages", true},
		{"packages/**", "packages/a/b", true},
		{"packages/**", "packages/.a/b", false},
		{"./packages/*/", "packages/a", true},
		{"{a,b}/x", "b/x", true},
		{"{a,{b,c}}/x", "c/x", true},
		{"[!a]*", "ba", true},
		{"[!a]*", "ab", false},
		{"a?c", "abc", true},
		{".", ".", true},
	} {
		g, err := compileGlob(c.pat)
		if err != nil {
			t.Fatalf("%s: %v", c.pat, err)
		}
		if got := g.matchPath(c.path); got != c.want {
			t.Errorf("%q matches %q: %v, want %v", c.pat, c.path, got, c.want)
		}
	}
}
