package publishdoc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

func buildTar(t *testing.T, gz bool, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, h := range entries {
		body := h.Linkname // test shorthand: content travels in Linkname for files
		if h.Typeflag == tar.TypeReg {
			h.Linkname = ""
			h.Size = int64(len(body))
		}
		h.Mode = 0o644
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func file(name, content string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: content}
}

func TestReadTarball(t *testing.T) {
	entries := func() []*tar.Header {
		return []*tar.Header{
			file("package/package.json", `{"name":"x","version":"1.0.0"}`),
			file("package/README.md", "# x\n\nhello"),
			file("package/lib/big.js", "not kept"),
			file("top-level-file", "dropped: nothing left after strip"),
			file("package/../escape", "dropped"),
			{Name: "package/link", Typeflag: tar.TypeSymlink, Linkname: "README.md"},
			{Name: "package/empty/", Typeflag: tar.TypeDir},
			file("other/server.js", "merged into the same root"),
		}
	}
	for _, gz := range []bool{true, false} {
		data := buildTar(t, gz, entries()...)
		in, err := ReadTarball(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if in.Size != int64(len(data)) || !strings.HasPrefix(in.Integrity, "sha512-") || len(in.Shasum) != 40 {
			t.Errorf("gzip %v: size %d integrity %q shasum %q", gz, in.Size, in.Integrity, in.Shasum)
		}
		var names []string
		_ = fs.WalkDir(in.Files, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, p)
			}
			return nil
		})
		if got, want := strings.Join(names, " "), "README.md lib/big.js package.json server.js"; got != want {
			t.Errorf("gzip %v: files %q, want %q", gz, got, want)
		}
		if b, _ := fs.ReadFile(in.Files, "README.md"); string(b) != "# x\n\nhello" {
			t.Errorf("README.md read as %q", b)
		}
		if fi, err := fs.Stat(in.Files, "lib/big.js"); err != nil || fi.Size() != 8 {
			t.Errorf("lib/big.js: %v %v", fi, err)
		}
		doc, err := Build(Input{PackageJSON: in.PackageJSON, Files: in.Files, Registry: "https://r.example/"})
		if err != nil {
			t.Fatal(err)
		}
		m := doc.Manifest()
		if m["description"] != "hello" || m["scripts"].(map[string]any)["start"] != "node server.js" {
			t.Errorf("manifest from the tarball: %v", m)
		}
	}
}

func TestReadTarballErrors(t *testing.T) {
	if _, err := ReadTarball(strings.NewReader("\x1f\x8bnot gzip")); err == nil {
		t.Error("bad gzip: no error")
	}
	if _, err := ReadTarball(bytes.NewReader(buildTar(t, true, file("package/index.js", "")))); err == nil {
		t.Error("no package.json: no error")
	}
}

func TestFileSpec(t *testing.T) {
	for _, tc := range []struct{ cwd, arg, resolved, from string }{
		{"/work", "./x.tgz", "/work/x.tgz", "file:x.tgz"},
		{"/work", "x.tgz", "/work/x.tgz", "file:x.tgz"},
		{"/work", "dist/x.tgz", "/work/dist/x.tgz", "file:dist/x.tgz"},
		{"/work/sub", "../x.tgz", "/work/x.tgz", "file:../x.tgz"},
		{"/work", "/tmp/a/../x.tgz", "/tmp/x.tgz", "file:/tmp/x.tgz"},
		{"/work", "file:x.tgz", "/work/x.tgz", "file:x.tgz"},
	} {
		r, f := FileSpec(tc.cwd, tc.arg)
		if r != tc.resolved || f != tc.from {
			t.Errorf("FileSpec(%q, %q) = %q, %q; want %q, %q", tc.cwd, tc.arg, r, f, tc.resolved, tc.from)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name, pkg, access string
		is                error
	}{
		{"private", `{"name":"x","version":"1.0.0","private":true}`, "", ErrPrivate},
		{"restricted unscoped", `{"name":"x","version":"1.0.0"}`, "restricted", ErrUnscopedRestricted},
		{"bad json", `{"name":`, "", nil},
		{"not an object", `"x"`, "", nil},
		{"no version", `{"name":"x"}`, "", nil},
		{"no name", `{"version":"1.0.0"}`, "", nil},
		{"name not a string", `{"name":5,"version":"1.0.0"}`, "", nil},
		{"bin array of numbers", `{"name":"x","version":"1.0.0","bin":[5]}`, "", nil},
		{"directories.man not a string", `{"name":"x","version":"1.0.0","directories":{"man":5}}`, "", nil},
		{"readme not a string", `{"name":"x","version":"1.0.0","readme":5}`, "", nil},
	} {
		_, err := Build(Input{PackageJSON: []byte(tc.pkg), Access: tc.access, Registry: "https://r.example/"})
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.is != nil {
			if !errors.Is(err, tc.is) {
				t.Errorf("%s: %v is not %v", tc.name, err, tc.is)
			}
			if hint.Of(err) == "" {
				t.Errorf("%s: no hint on %v", tc.name, err)
			}
		}
		if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
			t.Errorf("%s: error %q should be lower case without a final period", tc.name, msg)
		}
	}
	if _, err := Build(Input{PackageJSON: []byte(`{"name":"x","version":"1.0.0"}`), Registry: "not a url"}); err == nil {
		t.Error("bad registry: no error")
	}
}

func TestBuildDefaults(t *testing.T) {
	doc, err := Build(Input{PackageJSON: []byte(`{"name":"@s/x","version":"1.0.0"}`), Registry: "https://registry.npmjs.org/", Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Tag() != "latest" || doc.TarballName() != "@s/x-1.0.0.tgz" || doc.Name() != "@s/x" || doc.Version() != "1.0.0" {
		t.Errorf("tag %q tarball %q name %q version %q", doc.Tag(), doc.TarballName(), doc.Name(), doc.Version())
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Access   *string `json:"access"`
		Versions map[string]struct {
			Dist struct{ Tarball string }
			Tool *string `json:"_nodeVersion"`
			NPM  *string `json:"_npmVersion"`
		}
		Attachments map[string]map[string]any `json:"_attachments"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Access != nil {
		t.Errorf("access %q, want null", *v.Access)
	}
	ver := v.Versions["1.0.0"]
	if ver.Dist.Tarball != "http://registry.npmjs.org/@s/x/-/@s/x-1.0.0.tgz" {
		t.Errorf("tarball URL %q", ver.Dist.Tarball)
	}
	if ver.Tool != nil || ver.NPM != nil {
		t.Error("zero ToolInfo wrote tool fields")
	}
	att := v.Attachments["@s/x-1.0.0.tgz"]
	if _, ok := att["data"]; ok || att["length"] != 3.0 || att["content_type"] != "application/octet-stream" {
		t.Errorf("MarshalJSON attachment %v", att)
	}
}

func TestEncodeChecksTarballLength(t *testing.T) {
	doc, err := Build(Input{PackageJSON: []byte(`{"name":"x","version":"1.0.0"}`), Registry: "https://r.example/", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := doc.Encode(&b, strings.NewReader("short")); err == nil {
		t.Error("short tarball: no error")
	}
	b.Reset()
	if err := doc.Encode(&b, strings.NewReader("0123456789")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"data":"MDEyMzQ1Njc4OQ==","length":10}`) {
		t.Errorf("body %s", b.String())
	}
}

func TestObjectKeyOrder(t *testing.T) {
	o := newObject()
	for _, k := range []string{"b", "10", "a", "2", "01", "-1", "4294967294", "4294967295", "0", ""} {
		o.define(k, 1)
	}
	o.del("a")
	o.define("a", 2) // re-added: last
	o.set("__proto__", 3)
	o.define("b", 4) // existing: keeps its place
	got := strings.Join(o.keys(), ",")
	want := "0,2,10,4294967294,b,01,-1,4294967295,,a"
	if got != want {
		t.Errorf("keys %q, want %q", got, want)
	}
	for i := 0; i < 100; i++ {
		o.define(strings.Repeat("x", i+1), i)
		o.del(strings.Repeat("x", i+1))
	}
	if got := strings.Join(o.keys(), ","); got != want {
		t.Errorf("after deletions keys %q, want %q", got, want)
	}
}
