//go:build unix

package lifecycle

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npmOnly are variables npm sets that the Runner leaves out on purpose:
// INIT_CWD is npm's working directory and COLOR its terminal state. Every
// npm_config_* variable is npm configuration (files, flags, defaults),
// except runnerConfig; in these runs that includes npm_config_user_agent,
// _cache, _prefix, _global_prefix, _local_prefix, _userconfig,
// _globalconfig, _init_module, _noproxy, _registry, _dry_run, _tag,
// _fetch_retries, _script_shell and whatever the machine's npmrc sets.
var npmOnly = []string{"INIT_CWD", "COLOR"}

// runnerConfig are the npm_config_* variables the Runner does export.
var runnerConfig = []string{"npm_config_node_gyp", "npm_config_npm_version"}

// dumper stands in for the shell on both sides (npm's --script-shell,
// Runner.Shell). It records its argv and its environment exactly: a real
// shell would drop variables whose names are not shell identifiers, such
// as npm_package_bin_a.js.
const dumper = `#!/usr/bin/env node
const fs = require('fs')
const file = process.env.DUMP_DIR + '/' + process.env.npm_lifecycle_event + '.json'
fs.writeFileSync(file, JSON.stringify({ argv: process.argv.slice(2), env: process.env }))
`

type dump struct {
	Argv []string          `json:"argv"`
	Env  map[string]string `json:"env"`
}

func TestMatchesNPM(t *testing.T) {
	requireTools(t, "npm", "node", "sh")
	tests := []struct {
		name    string
		command string // "pack" or "publish"
		files   map[string]string
		events  []string
	}{
		{
			name:    "publish scoped package",
			command: "publish",
			files: map[string]string{
				"package.json": `{
					"name": "@airlock-test/demo", "version": "v1.2.3-beta.01+build.5",
					"bin": "./bin/cli.js",
					"config": {"port": 8080, "f": 1.5, "big": 1e21, "small": 1e-7, "n": null, "off": false,
						"on": true, "arr": [1, "two", [3], {"k": "v"}], "deep": {"a": {"b": "c"}}, "dash-key": "d"},
					"engines": {"node": ">=18", "npm": ">=11"},
					"directories": {"bin": "ignored-because-bin-is-set"},
					"scripts": {
						"prepublishOnly": "./node_modules/.bin/tsc -p .",
						"prepack": "node_modules/.bin/tsc --prepack",
						"prepare": "echo one\necho two",
						"postpack": "  echo post  ",
						"preprepack": "not run", "postprepack": "not run", "preprepare": "not run",
						"prepublish": "not run", "prepublishOnlyx": "not run", "pack": "not run"
					}}`,
				"bin/cli.js": "#!/usr/bin/env node\n",
			},
			events: []string{"prepublishOnly", "prepack", "prepare", "postpack"},
		},
		{
			name:    "pack with a bin folder",
			command: "pack",
			files: map[string]string{
				"package.json": `{"name": "bindir-demo", "version": "0.0.1", "directories": {"bin": "./tools"},
					"scripts": {"prepack": "a", "prepare": "b", "postpack": "c", "prepublishOnly": "not run by pack"}}`,
				"tools/a.js":     "",
				"tools/sub/b.js": "",
				"tools/.hidden":  "",
			},
			events: []string{"prepack", "prepare", "postpack"},
		},
		{
			name:    "publish with an empty bin and a bin folder",
			command: "publish",
			files: map[string]string{
				"package.json": `{"name": "bin-empty", "version": "=2.0.0", "bin": {}, "directories": {"bin": "tools"},
					"scripts": {"prepublishOnly": "a", "prepack": "b", "prepare": "c", "postpack": "d"}}`,
				"tools/x.js": "",
			},
			events: []string{"prepublishOnly", "prepack", "prepare", "postpack"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "work", "pkg")
			for name, content := range tt.files {
				writeFile(t, filepath.Join(dir, name), content, 0o644)
			}
			shell := filepath.Join(root, "dumper")
			writeFile(t, shell, dumper, 0o755)
			dumps := filepath.Join(root, "dumps")
			if err := os.Mkdir(dumps, 0o755); err != nil {
				t.Fatal(err)
			}
			home := filepath.Join(root, "home")
			env := []string{
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + home,
				"DUMP_DIR=" + dumps,
				"npm_config_update_notifier=false",
				"npm_config_audit=false",
				"npm_config_fund=false",
			}

			// npm, against a registry address that refuses connections:
			// a dry run needs none, and tests reach nothing else.
			args := []string{tt.command, "--dry-run", "--json", "--script-shell=" + shell}
			if tt.command == "publish" {
				args = append(args, "--tag=next", "--registry=http://127.0.0.1:9/", "--fetch-retries=0")
			}
			cmd := exec.CommandContext(t.Context(), "npm", args...)
			cmd.Dir, cmd.Env = dir, env
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			integrity := tarballIntegrity(t, out)
			want := readDumps(t, dumps)

			m, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			npm, err := LocateNPM(env)
			if err != nil {
				t.Fatal(err)
			}
			r := &Runner{Dir: dir, Manifest: m, Env: env, Shell: shell, Command: tt.command, NPM: npm}
			for _, ev := range tt.events {
				var extra map[string]string
				switch ev {
				case "prepare":
					extra = PrepareEnv(dir)
				case "postpack":
					extra = PostpackEnv(dir, integrity)
				}
				if err := r.Run(t.Context(), ev, extra); err != nil {
					t.Fatalf("Run(%s): %v", ev, err)
				}
			}
			got := readDumps(t, dumps)

			if evs := slices.Sorted(maps.Keys(want)); !slices.Equal(evs, slices.Sorted(slices.Values(tt.events))) {
				t.Fatalf("npm ran %v, the test expects %v", evs, tt.events)
			}
			if evs := slices.Sorted(maps.Keys(got)); !slices.Equal(evs, slices.Sorted(maps.Keys(want))) {
				t.Fatalf("Runner ran %v, npm ran %v", evs, slices.Sorted(maps.Keys(want)))
			}
			for _, ev := range tt.events {
				compareDump(t, ev, got[ev], want[ev], env)
			}
		})
	}
}

func tarballIntegrity(t *testing.T, out []byte) string {
	t.Helper()
	type report struct{ Integrity string }
	var list []report
	if json.Unmarshal(out, &list) == nil && len(list) == 1 {
		return list[0].Integrity
	}
	var byName map[string]report
	if json.Unmarshal(out, &byName) == nil && len(byName) == 1 {
		for _, r := range byName {
			return r.Integrity
		}
	}
	t.Fatalf("no integrity in npm's --json output:\n%s", out)
	return ""
}

func readDumps(t *testing.T, dir string) map[string]dump {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	dumps := map[string]dump{}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dump
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		dumps[strings.TrimSuffix(e.Name(), ".json")] = d
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	return dumps
}

func compareDump(t *testing.T, event string, got, want dump, base []string) {
	t.Helper()
	if !slices.Equal(got.Argv, want.Argv) {
		t.Errorf("%s: argv %q, npm %q", event, got.Argv, want.Argv)
	}
	inBase := map[string]bool{}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		inBase[k] = true
	}
	skip := func(k string) bool {
		if slices.Contains(npmOnly, k) {
			return true
		}
		return strings.HasPrefix(k, "npm_config_") && !slices.Contains(runnerConfig, k)
	}
	for _, k := range slices.Sorted(maps.Keys(got.Env)) {
		if strings.HasPrefix(k, "npm_config_") && !slices.Contains(runnerConfig, k) && !inBase[k] {
			t.Errorf("%s: Runner exported %s=%q, which only npm's configuration can know", event, k, got.Env[k])
		}
	}
	keys := slices.Sorted(maps.Keys(maps.Collect(func(yield func(string, bool) bool) {
		for k := range got.Env {
			yield(k, true)
		}
		for k := range want.Env {
			yield(k, true)
		}
	})))
	for _, k := range keys {
		if skip(k) {
			continue
		}
		g, gok := got.Env[k]
		w, wok := want.Env[k]
		switch {
		case !wok:
			t.Errorf("%s: Runner set %s=%q, npm did not", event, k, g)
		case !gok:
			t.Errorf("%s: Runner did not set %s, npm set %q", event, k, w)
		case g != w:
			t.Errorf("%s: %s = %q, npm %q", event, k, g, w)
		}
	}
}
