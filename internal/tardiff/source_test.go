package tardiff

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockdev/airlock/internal/registry"
)

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pkg@1.0.0")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		arg  string
		want Source
		err  bool
	}{
		{arg: "a.tgz", want: Source{Kind: SourceFile, Path: "a.tgz"}},
		{arg: "./x/a.tar.gz", want: Source{Kind: SourceFile, Path: "./x/a.tar.gz"}},
		{arg: file, want: Source{Kind: SourceFile, Path: file}},
		{arg: "lodash@4.17.21", want: Source{Kind: SourcePublished, Name: "lodash", Version: "4.17.21"}},
		{arg: "@scope/pkg@latest", want: Source{Kind: SourcePublished, Name: "@scope/pkg", Version: "latest"}},
		{arg: "stage:5C9A3F1E-7B2D-4E8F-A1C3-D4E5F6A7B8C9", want: Source{Kind: SourceStaged, StageID: "5c9a3f1e-7b2d-4e8f-a1c3-d4e5f6a7b8c9"}},
		{arg: "stage:nope", err: true},
		{arg: "lodash", err: true},
		{arg: "lodash@", err: true},
		{arg: "lodash@^4", err: true},
		{arg: "Not A Name@1.0.0", err: true},
	} {
		got, err := ParseSource(tc.arg)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseSource(%q) = %+v, %v", tc.arg, got, err)
		}
		if err != nil && !errors.Is(err, ErrSource) {
			t.Errorf("ParseSource(%q): %v is not ErrSource", tc.arg, err)
		}
	}
}

// registryWith serves one package with versions 1.0.0 (integrity as
// given) and the tarball data, and no attestations.
func registryWith(t *testing.T, data []byte, integrity string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pkg":
			fmt.Fprintf(w, `{"name":"pkg","dist-tags":{"latest":"1.0.0","next":"1.0.0"},"versions":{"1.0.0":{"name":"pkg","version":"1.0.0","dist":{"integrity":%q,"tarball":"%s/pkg/-/pkg-1.0.0.tgz"}}}}`, integrity, srv.URL)
		case "/pkg/-/pkg-1.0.0.tgz":
			w.Write(data)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sri(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestLoadPublished(t *testing.T) {
	good := tarball(t, map[string]*fixtureFile{"package.json": {data: []byte(`{"name":"pkg","version":"1.0.0"}`), mode: 0o644}})
	other := tarball(t, map[string]*fixtureFile{"package.json": {data: []byte(`{"name":"pkg","version":"1.0.0","scripts":{"postinstall":"x"}}`), mode: 0o644}})
	t.Run("checked", func(t *testing.T) {
		srv := registryWith(t, good, sri(good))
		l := &Loader{Registry: srv.URL + "/", Provenance: true}
		p, err := l.Load(t.Context(), Source{Kind: SourcePublished, Name: "pkg", Version: "next"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Manifest.Version != "1.0.0" || p.Label != "pkg@1.0.0" {
			t.Errorf("loaded %s as %s", p.Manifest.ID(), p.Label)
		}
		if p.Provenance == nil || p.Provenance.Found {
			t.Errorf("provenance %+v, want looked for and not found", p.Provenance)
		}
	})
	t.Run("other bytes", func(t *testing.T) {
		srv := registryWith(t, other, sri(good))
		_, err := (&Loader{Registry: srv.URL + "/"}).Load(t.Context(), Source{Kind: SourcePublished, Name: "pkg", Version: "1.0.0"})
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("err = %v, want ErrIntegrity", err)
		}
	})
	t.Run("sha1 only", func(t *testing.T) {
		srv := registryWith(t, good, "sha1-AAAA")
		_, err := (&Loader{Registry: srv.URL + "/"}).Load(t.Context(), Source{Kind: SourcePublished, Name: "pkg", Version: "1.0.0"})
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("err = %v, want ErrIntegrity", err)
		}
	})
	t.Run("missing version", func(t *testing.T) {
		srv := registryWith(t, good, sri(good))
		_, err := (&Loader{Registry: srv.URL + "/"}).Load(t.Context(), Source{Kind: SourcePublished, Name: "pkg", Version: "2.0.0"})
		if !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		srv := registryWith(t, good, sri(good))
		_, err := (&Loader{Registry: srv.URL + "/", MaxSize: 10}).Load(t.Context(), Source{Kind: SourcePublished, Name: "pkg", Version: "1.0.0"})
		if !errors.Is(err, registry.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}
