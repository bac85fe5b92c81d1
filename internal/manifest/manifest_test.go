package manifest

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseNormalizes(t *testing.T) {
	tests := []struct {
		name, doc string
		check     func(*testing.T, *Manifest)
	}{
		{"bin string becomes object keyed by name", `{"name":"@s/x","version":"1.0.0","bin":"./cli.js"}`, func(t *testing.T, m *Manifest) {
			want := map[string]string{"x": "cli.js"}
			if m.Bin["x"] != "cli.js" || len(m.Bin) != 1 {
				t.Fatalf("bin = %v, want %v", m.Bin, want)
			}
		}},
		{"bin escaping the package is dropped", `{"name":"x","version":"1.0.0","bin":{"a":"../../etc/passwd","b":"ok.js","../c":"c.js"}}`, func(t *testing.T, m *Manifest) {
			if m.Bin["a"] != "etc/passwd" || m.Bin["b"] != "ok.js" || m.Bin["c"] != "c.js" {
				t.Fatalf("bin = %v", m.Bin)
			}
		}},
		{"bundleDependencies true lists dependencies in order", `{"name":"x","version":"1.0.0","dependencies":{"b":"1","a":"1"},"bundleDependencies":true}`, func(t *testing.T, m *Manifest) {
			if !reflect.DeepEqual(m.BundleDependencies, []string{"b", "a"}) {
				t.Fatalf("bundle = %v", m.BundleDependencies)
			}
		}},
		{"bundledDependencies spelling", `{"name":"x","version":"1.0.0","bundledDependencies":["a"]}`, func(t *testing.T, m *Manifest) {
			if !reflect.DeepEqual(m.BundleDependencies, []string{"a"}) {
				t.Fatalf("bundle = %v", m.BundleDependencies)
			}
			if _, ok := m.Raw["bundledDependencies"]; ok {
				t.Fatal("misspelled field kept")
			}
		}},
		{"optional wins over dependencies", `{"name":"x","version":"1.0.0","dependencies":{"a":"1","b":"1"},"optionalDependencies":{"a":"1"}}`, func(t *testing.T, m *Manifest) {
			if !reflect.DeepEqual(m.Dependencies, []string{"b"}) || !reflect.DeepEqual(m.OptionalDependencies, []string{"a"}) {
				t.Fatalf("deps = %v optional = %v", m.Dependencies, m.OptionalDependencies)
			}
		}},
		{"main as JavaScript prints it", `{"name":"x","version":"1.0.0","main":{"a":1},"browser":12}`, func(t *testing.T, m *Manifest) {
			if m.Main != "[object Object]" || m.Browser != "12" {
				t.Fatalf("main = %q browser = %q", m.Main, m.Browser)
			}
		}},
		{"files as a string is iterated by character", `{"name":"x","version":"1.0.0","files":"ab"}`, func(t *testing.T, m *Manifest) {
			if !reflect.DeepEqual(m.Files, []string{"a", "b"}) {
				t.Fatalf("files = %v", m.Files)
			}
		}},
		{"underscore fields dropped and _id set", `{"name":"x","version":"1.0.0","_secret":"1"}`, func(t *testing.T, m *Manifest) {
			if _, ok := m.Raw["_secret"]; ok || m.Raw["_id"] != "x@1.0.0" {
				t.Fatalf("raw = %v", m.Raw)
			}
		}},
		{"byte order mark is skipped", "\ufeff{\"name\":\"x\",\"version\":\"1.0.0\"}", func(t *testing.T, m *Manifest) {
			if m.Name != "x" {
				t.Fatalf("name = %q", m.Name)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestParseDirectoriesBin(t *testing.T) {
	fsys := fstest.MapFS{
		"tools/a.js":       {Data: []byte("")},
		"tools/sub/b.js":   {Data: []byte("")},
		"tools/.hidden.js": {Data: []byte("")},
	}
	m, err := Parse([]byte(`{"name":"x","version":"1.0.0","directories":{"bin":"./tools"}}`), fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.js": "tools/a.js", "b.js": "tools/sub/b.js", "sub": "tools/sub"}
	if !reflect.DeepEqual(m.Bin, want) {
		t.Fatalf("bin = %v, want %v", m.Bin, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"{\n\"name\": 1,,\n}", "invalid JSON at line 2"},
		{`[1]`, "must contain a JSON object"},
		{`{"files":[1]}`, `"files"[0] must be a string`},
		{`{} {}`, "unexpected data"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.doc, err, tt.want)
		}
	}
}

func TestReadMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := Read(dir)
	if !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, "package.json")) {
		t.Fatalf("Read of empty folder = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "package.json: invalid JSON") {
		t.Fatalf("Read of broken file = %v", err)
	}
}

func TestValidateName(t *testing.T) {
	good := []string{"a", "@scope/pkg", "Legacy-Caps", "a.b_c-d", "~tilde"}
	bad := []string{"", ".x", "_x", "-x", " x", "node_modules", "Favicon.ico", "a/b", "@s/.x", "a b", "ü"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q) accepted", n)
		}
	}
}

func TestValidateVersion(t *testing.T) {
	for _, v := range []string{"0.0.0", "1.2.3", "1.2.3-beta.1", "1.2.3+build.5", "10.20.30-rc.1+x"} {
		if err := ValidateVersion(v); err != nil {
			t.Errorf("ValidateVersion(%q) = %v", v, err)
		}
	}
	for _, v := range []string{"", "1", "1.2", "01.2.3", "1.2.3-01", "v1.2.3", "1.2.3 ", "x"} {
		if err := ValidateVersion(v); err == nil {
			t.Errorf("ValidateVersion(%q) accepted", v)
		}
	}
	if !IsPrerelease("1.0.0-rc.1") || IsPrerelease("1.0.0+b") {
		t.Error("IsPrerelease wrong")
	}
}

// FuzzParse checks that any input either fails cleanly or normalizes to a
// fixed point: normalizing the normalized document changes nothing.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz-seeds/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		again, err := json.Marshal(m.Raw)
		if err != nil {
			t.Fatalf("normalized document does not marshal: %v", err)
		}
		m2, err := Parse(again, nil)
		if err != nil {
			t.Fatalf("normalized document does not parse: %v\n%s", err, again)
		}
		if m2.Name != m.Name || m2.Version != m.Version || !reflect.DeepEqual(m2.Bin, m.Bin) ||
			!reflect.DeepEqual(m2.Files, m.Files) || !reflect.DeepEqual(m2.BundleDependencies, m.BundleDependencies) ||
			m2.Main != m.Main || m2.Browser != m.Browser {
			t.Fatalf("normalization is not idempotent:\nfirst  %+v\nsecond %+v", m, m2)
		}
	})
}
