package lifecycle

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/manifest"
)

func mustManifest(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test manifest %s: %v", s, err)
	}
	return m
}

func TestNormalizeEnv(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		event    string
		want     map[string]string // the npm_package_* variables, exactly
		script   string
		id       string
		wantErr  string
	}{
		{
			name:     "only the five fields npm exports",
			manifest: `{"name":"a","version":"1.0.0","description":"x","main":"i.js","dependencies":{"b":"1"},"scripts":{"prepack":"x"},"repository":"r"}`,
			event:    "prepack",
			want:     map[string]string{"npm_package_name": "a", "npm_package_version": "1.0.0"},
			script:   "x",
			id:       "a@1.0.0",
		},
		{
			name:     "nested config, arrays, null, false, true, numbers",
			manifest: `{"name":"a","version":"1.0.0","config":{"port":8080,"f":1.5,"big":1e21,"small":1e-7,"tiny":0.000001,"zero":0,"neg":-2,"n":null,"no":false,"yes":true,"arr":[1,"two",[3],{"k":"v"}],"o":{"p":{"q":"r"}},"empty":{},"none":[]}}`,
			event:    "prepack",
			want: map[string]string{
				"npm_package_name": "a", "npm_package_version": "1.0.0",
				"npm_package_config_port": "8080", "npm_package_config_f": "1.5",
				"npm_package_config_big": "1e+21", "npm_package_config_small": "1e-7",
				"npm_package_config_tiny": "0.000001", "npm_package_config_zero": "0",
				"npm_package_config_neg": "-2", "npm_package_config_n": "", "npm_package_config_no": "",
				"npm_package_config_yes": "true", "npm_package_config_arr_0": "1",
				"npm_package_config_arr_1": "two", "npm_package_config_arr_2_0": "3",
				"npm_package_config_arr_3_k": "v", "npm_package_config_o_p_q": "r",
			},
			id: "a@1.0.0",
		},
		{
			name:     "engines",
			manifest: `{"name":"a","engines":{"node":">=18","npm":"^11"}}`,
			event:    "prepare",
			want:     map[string]string{"npm_package_name": "a", "npm_package_engines_node": ">=18", "npm_package_engines_npm": "^11"},
		},
		{
			name:     "string bin takes the unscoped name",
			manifest: `{"name":"@s/tool","version":"1.0.0","bin":"./bin/cli.js"}`,
			event:    "postpack",
			want:     map[string]string{"npm_package_name": "@s/tool", "npm_package_version": "1.0.0", "npm_package_bin_tool": "bin/cli.js"},
			id:       "@s/tool@1.0.0",
		},
		{
			name:     "string bin without a name is dropped",
			manifest: `{"bin":"cli.js"}`,
			event:    "prepack",
			want:     map[string]string{},
		},
		{
			name:     "bin object paths made safe, bad entries dropped",
			manifest: `{"name":"a","bin":{"x":"../../etc/x","dir/y":"./y.js","z":5,"..":"w.js","w":"/","v":"a\\b:c"}}`,
			event:    "prepack",
			want:     map[string]string{"npm_package_name": "a", "npm_package_bin_x": "etc/x", "npm_package_bin_y": "y.js", "npm_package_bin_v": "a/b/c"},
		},
		{
			name:     "bin array keyed by basename",
			manifest: `{"name":"a","bin":["bin/one.js","./two"]}`,
			event:    "prepack",
			want:     map[string]string{"npm_package_name": "a", "npm_package_bin_one.js": "bin/one.js", "npm_package_bin_two": "two"},
		},
		{
			name:     "pack keeps name and version as written",
			manifest: `{"name":" a ","version":"v1.0.0","scripts":{"prepack":"./node_modules/.bin/tsc"}}`,
			event:    "prepack",
			want:     map[string]string{"npm_package_name": " a ", "npm_package_version": "v1.0.0"},
			script:   "./node_modules/.bin/tsc",
			id:       " a @v1.0.0",
		},
		{
			name:     "publish trims the name, cleans the version, strips node_modules/.bin",
			manifest: `{"name":" a ","version":" =v1.02.3-beta.007+build.1","scripts":{"prepublishOnly":"./node_modules/.bin/tsc -p ."}}`,
			event:    "prepublishOnly",
			want:     map[string]string{"npm_package_name": "a", "npm_package_version": "1.2.3-beta.7"},
			script:   "tsc -p .",
			id:       "a@1.2.3-beta.7",
		},
		{
			name:     "publish defaults name and version to empty",
			manifest: `{"scripts":{"prepublishOnly":"x"}}`,
			event:    "prepublishOnly",
			want:     map[string]string{"npm_package_name": "", "npm_package_version": ""},
			script:   "x",
		},
		{
			name:     "publish refuses an invalid version",
			manifest: `{"name":"a","version":"one"}`,
			event:    "prepublishOnly",
			wantErr:  `invalid version: "one"`,
		},
		{
			name:     "publish refuses an invalid name",
			manifest: `{"name":"a b","version":"1.0.0"}`,
			event:    "prepublishOnly",
			wantErr:  `invalid name: "a b"`,
		},
		{
			name:     "non-string scripts are ignored",
			manifest: `{"name":"a","scripts":{"prepack":["x"],"prepare":""}}`,
			event:    "prepack",
			want:     map[string]string{"npm_package_name": "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view, err := normalize(mustManifest(t, tt.manifest), t.TempDir(), tt.event)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, kv := range view.env {
				got[kv[0]] = kv[1]
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("env:\n got %v\nwant %v", got, tt.want)
			}
			if s := view.scripts[tt.event]; s != tt.script {
				t.Errorf("script = %q, want %q", s, tt.script)
			}
			if view.id != tt.id {
				t.Errorf("id = %q, want %q", view.id, tt.id)
			}
		})
	}
}

func TestNormalizeBinDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"tools/a.js", "tools/sub/b.js", "tools/.hidden", "tools/.dot/c.js"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		manifest string
		event    string
		want     map[string]string
	}{
		{`{"directories":{"bin":"./tools"}}`, "prepack", map[string]string{"a.js": "tools/a.js", "sub": "tools/sub", "b.js": "tools/sub/b.js"}},
		{`{"directories":{"bin":"tools"},"bin":{"x":"x.js"}}`, "prepack", map[string]string{"x": "x.js"}},
		// An empty bin object blocks the folder for pack, but npm publish
		// drops it first (fix), so prepublishOnly sees the folder.
		{`{"directories":{"bin":"tools"},"bin":{}}`, "prepack", nil},
		{`{"directories":{"bin":"tools"},"bin":{}}`, "prepublishOnly", map[string]string{"a.js": "tools/a.js", "sub": "tools/sub", "b.js": "tools/sub/b.js"}},
		{`{"directories":{"bin":"missing"}}`, "prepack", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.event+" "+tt.manifest, func(t *testing.T) {
			got, err := normalizeBin(mustManifest(t, tt.manifest), dir, publishEvents[tt.event])
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSecureUnixPath(t *testing.T) {
	tests := map[string]string{
		"cli.js":       "cli.js",
		"./cli.js":     "cli.js",
		"../../x":      "x",
		"/etc/passwd":  "etc/passwd",
		`bin\win.js`:   "bin/win.js",
		"C:/x":         "C/x",
		"a/":           "a/",
		"a/./":         "a/",
		"a/.":          "a",
		"a//b":         "a/b",
		"":             "",
		".":            "",
		"/":            "",
		"a/..":         "",
		"a/../":        "",
		"x/../../y.js": "y.js",
	}
	for in, want := range tests {
		if got := manifest.SecurePath(in); got != want {
			t.Errorf("manifest.SecurePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanVersion(t *testing.T) {
	tests := []struct {
		in   any
		want string
		ok   bool
	}{
		{"1.2.3", "1.2.3", true},
		{"v1.2.3", "1.2.3", true},
		{"=v1.2.3", "1.2.3", true},
		{"  1.2.3  ", "1.2.3", true},
		{"1.2.3+build.7", "1.2.3", true},
		{"1.2.3-beta.01", "1.2.3-beta.1", true},
		{"1.2.3beta", "1.2.3-beta", true},
		{"01.002.3", "1.2.3", true},
		{"1.2.3-0a.9007199254740993", "1.2.3-0a.9007199254740993", true},
		{"9007199254740991.0.0", "9007199254740991.0.0", true},
		{"9007199254740992.0.0", "", false},
		{"1.2", "", false},
		{"latest", "", false},
		{1.0, "", false},
		{"1.2.3." + strings.Repeat("x", 300), "", false},
	}
	for _, tt := range tests {
		got, ok := cleanVersion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cleanVersion(%v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := map[string]bool{
		"a": true, "@s/a": true, "a-b.c_d~e": true, "A": true, "a!": true,
		".a": false, "a b": false, "a/b": false, "@s": false, "@s/": false, "@/a": false,
		"@s/a/b": false, "node_modules": false, "Favicon.ico": false, "a%20": false, "ä": false,
	}
	for in, want := range tests {
		if got := validName(in); got != want {
			t.Errorf("validName(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte("\uFEFF{\"name\":\"a\"}"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil || m["name"] != "a" {
		t.Fatalf("ReadManifest = %v, %v", m, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(dir); err == nil {
		t.Error("ReadManifest accepted a JSON array")
	}
	if _, err := ReadManifest(t.TempDir()); err == nil {
		t.Error("ReadManifest accepted a missing package.json")
	}
}
