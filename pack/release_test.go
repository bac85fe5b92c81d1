package pack

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/workspace"
)

var goodRelease = `{
  "schema": "https://github.com/airlockdev/airlock/release/v1",
  "packageManager": "pnpm",
  "gitCommit": "0123456789abcdef0123456789abcdef01234567",
  "gitDirty": false,
  "airlockVersion": "v1.2.3",
  "packages": [
    {"name": "@scope/b", "version": "1.0.0", "tarball": "scope-b-1.0.0.tgz", "integrity": "sha512-` + sri86 + `==", "shasum": "0123456789abcdef0123456789abcdef01234567", "dependsOn": []},
    {"name": "@scope/a", "version": "1.2.0", "tarball": "scope-a-1.2.0.tgz", "integrity": "sha512-` + sri86 + `==", "shasum": "0123456789abcdef0123456789abcdef01234567", "dependsOn": ["@scope/b"]}
  ]
}
`

var sri86 = strings.Repeat("A", 86)

func TestReadReleaseManifest(t *testing.T) {
	file := filepath.Join(t.TempDir(), ReleaseManifestName)
	if err := os.WriteFile(file, []byte(goodRelease), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadReleaseManifest(file)
	if err != nil {
		t.Fatal(err)
	}
	if r.PackageManager != "pnpm" || len(r.Packages) != 2 || r.Packages[1].DependsOn[0] != "@scope/b" || r.GitDirty == nil || *r.GitDirty {
		t.Errorf("read %+v", r)
	}
	if got := r.Packages[0].TarballPath(file); got != filepath.Join(filepath.Dir(file), "scope-b-1.0.0.tgz") {
		t.Errorf("TarballPath = %s", got)
	}
	// Encode gives back what was read.
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseReleaseManifest(file, data); err != nil {
		t.Errorf("re-encoded manifest: %v", err)
	}
}

func TestParseReleaseManifestRefuses(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"schema", "release/v1", "release/v2", "unknown release manifest schema"},
		{"manager", `"pnpm"`, `"bun"`, "packageManager"},
		{"commit", `"0123456789abcdef0123456789abcdef01234567",
  "gitDirty"`, `"HEAD",
  "gitDirty"`, "not a commit id"},
		{"path", `"scope-b-1.0.0.tgz"`, `"../scope-b-1.0.0.tgz"`, "not a plain file name"},
		{"abs", `"scope-b-1.0.0.tgz"`, `"/tmp/scope-b-1.0.0.tgz"`, "not a plain file name"},
		{"suffix", `"scope-b-1.0.0.tgz"`, `"scope-b-1.0.0.tar"`, "not a .tgz file"},
		{"integrity", `"integrity": "sha512-` + sri86, `"integrity": "sha1-` + sri86, "not a sha512 digest"},
		{"order", `"dependsOn": ["@scope/b"]`, `"dependsOn": ["@scope/c"]`, "does not come before it"},
		{"duplicate", `"name": "@scope/a"`, `"name": "@scope/b"`, "listed twice"},
		{"unknown field", `"airlockVersion"`, `"extra": 1, "airlockVersion"`, "unknown field"},
		{"bad name", `"name": "@scope/a"`, `"name": "A B"`, "packages[1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Replace(goodRelease, c.from, c.to, 1)
			if data == goodRelease {
				t.Fatalf("%q not in the manifest", c.from)
			}
			_, err := ParseReleaseManifest("release.json", []byte(data))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestReleaseOrder(t *testing.T) {
	pkgs := func(names ...string) []workspace.Package {
		var out []workspace.Package
		for _, n := range names {
			out = append(out, workspace.Package{Name: n})
		}
		return out
	}
	order := func(deps map[string][]string, names ...string) ([]string, error) {
		got, err := releaseOrder(pkgs(names...), func(p workspace.Package) ([]string, error) { return deps[p.Name], nil })
		var out []string
		for _, p := range got {
			out = append(out, p.Name)
		}
		return out, err
	}
	got, err := order(map[string][]string{"a": {"c", "outside"}, "b": {"c"}, "d": {"a", "b"}}, "d", "c", "b", "a")
	if err != nil || strings.Join(got, " ") != "c a b d" {
		t.Errorf("order %v, %v; want c a b d (ties by name)", got, err)
	}
	_, err = order(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"b"}, "z": {"a"}}, "a", "b", "c", "z")
	if !errors.Is(err, errCycle) || !strings.Contains(err.Error(), "b -> c -> b") {
		t.Errorf("cycle error %v, want one naming b -> c -> b", err)
	}
}

// FuzzParseReleaseManifest: a manifest the reader accepts encodes to one
// it accepts again, with the same contents.
func FuzzParseReleaseManifest(f *testing.F) {
	f.Add([]byte(goodRelease))
	f.Add([]byte(strings.Replace(goodRelease, `"gitDirty": false,`, "", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReleaseManifest("release.json", data)
		if err != nil {
			return
		}
		enc, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseReleaseManifest("release.json", enc)
		if err != nil {
			t.Fatalf("re-encoded manifest refused: %v\n%s", err, enc)
		}
		enc2, _ := r2.Encode()
		if string(enc) != string(enc2) {
			t.Fatalf("not stable:\n%s\n%s", enc, enc2)
		}
	})
}
