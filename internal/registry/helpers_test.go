package registry

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/registrytest"
)

// fakeToken is recognisable in any output it leaks into.
const fakeToken = "npm_FAKEairlockSECRETtoken0123456789XYZ"

func bearer(token string) Auth {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// noSleep records the delays it is asked to wait, without waiting.
type noSleep struct{ delays []time.Duration }

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	n.delays = append(n.delays, d)
	return ctx.Err()
}

// testClient has deterministic jitter and does not wait between tries.
func testClient() (*Client, *noSleep) {
	ns := &noSleep{}
	return &Client{
		UserAgent: "airlock-test",
		Retry:     RetryPolicy{Rand: func() float64 { return 0.5 }},
		Sleep:     ns.sleep,
	}, ns
}

// verdaccio starts a registry with one user and returns it and the
// user's token.
func verdaccio(t testing.TB) (*registrytest.Server, string) {
	t.Helper()
	s := registrytest.Start(t)
	return s, s.AddUser(t, "airlock", "airlock-password")
}

// pkg is a package to pack.
type pkg struct {
	name, version, description string
	files                      map[string]string
}

// packed is a tarball npm packed, with what a publish needs to know.
type packed struct {
	pkg
	path      string
	data      []byte
	integrity string
	shasum    string
	manifest  []byte // package.json as written
}

// pack writes p to a folder and packs it with the real npm.
func pack(t testing.TB, s *registrytest.Server, p pkg) packed {
	t.Helper()
	dir := t.TempDir()
	manifest := map[string]any{"name": p.name, "version": p.version, "main": "index.js"}
	if p.description != "" {
		manifest["description"] = p.description
	}
	mj, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"package.json": string(mj)}
	for k, v := range p.files {
		files[k] = v
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := t.TempDir()
	out := s.NPM(t, dir, "", "pack", "--json", "--ignore-scripts", "--pack-destination", dest)
	var reports []struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(out, &reports); err != nil || len(reports) != 1 {
		t.Fatalf("npm pack --json: %v\n%s", err, out)
	}
	path := filepath.Join(dest, reports[0].Filename)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return packed{pkg: p, path: path, data: data, integrity: sri(data), shasum: sha1hex(data), manifest: mj}
}

func sri(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func sha1hex(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

// doc builds the publish body npm would send for p (libnpmpublish's
// buildMetadata), with the version's manifest the package.json plus _id
// and dist.
func (p packed) doc(registryURL string) PublishDoc {
	return npmLikeDoc(p.name, p.version, p.description, p.manifest, p.integrity, p.shasum, int64(len(p.data)), registryURL)
}

func npmLikeDoc(name, version, description string, pkgJSON []byte, integrity, shasum string, size int64, registryURL string) PublishDoc {
	file := name + "-" + version + ".tgz"
	base := name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		base = name[i+1:]
	}
	dist, _ := json.Marshal(map[string]string{
		"integrity": integrity,
		"shasum":    shasum,
		"tarball":   strings.TrimSuffix(registryURL, "/") + "/" + name + "/-/" + base + "-" + version + ".tgz",
	})
	id, _ := json.Marshal(name + "@" + version)
	manifest := append(bytes.TrimSuffix(bytes.TrimSpace(pkgJSON), []byte("}")),
		[]byte(`,"_id":`+string(id)+`,"dist":`+string(dist)+`}`)...)
	d := PublishDoc{
		ID:          name,
		Name:        name,
		DistTags:    []DistTag{{"latest", version}},
		Versions:    []DocVersion{{Version: version, Manifest: manifest}},
		Attachments: []Attachment{{Name: file, ContentType: "application/octet-stream", Length: size}},
	}
	if description != "" {
		d.Description, _ = json.Marshal(description)
	}
	return d
}

func bytesOpener(data []byte) Opener {
	return func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
	}
}

func fileOpener(path string) Opener {
	return func() (io.ReadCloser, int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	}
}

// bigTarball is an Opener of size pseudo-random bytes that are generated
// as they are read, never held in memory, with their digests.
func bigTarball(size int64) (open Opener, integrity, shasum string) {
	gen := func() io.Reader {
		return io.LimitReader(rand.NewChaCha8([32]byte{'a', 'i', 'r', 'l', 'o', 'c', 'k'}), size)
	}
	h512, h1 := sha512.New(), sha1.New()
	if _, err := io.Copy(io.MultiWriter(h512, h1), gen()); err != nil {
		panic(err)
	}
	open = func() (io.ReadCloser, int64, error) { return io.NopCloser(gen()), size, nil }
	return open, "sha512-" + base64.StdEncoding.EncodeToString(h512.Sum(nil)), hex.EncodeToString(h1.Sum(nil))
}

// mustNotContain fails if any of outs contains secret.
func mustNotContain(t testing.TB, secret string, outs map[string]string) {
	t.Helper()
	for what, s := range outs {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q:\n%s", what, secret, s)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%v", err)
}

// newLoopbackServer serves h on 127.0.0.1 until the test ends.
func newLoopbackServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
