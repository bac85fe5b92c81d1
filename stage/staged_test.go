package stage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

const (
	testID    = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	testToken = "npm_STAGEDtestTOKENabcdefghijklmnop0123"
)

// reviewOptions is a maintainer's configuration for the registry at url,
// with flags as the command line would give them.
func reviewOptions(t *testing.T, url string, flags map[string]string) ReviewOptions {
	t.Helper()
	dir := t.TempDir()
	host := strings.TrimPrefix(url, "http://")
	rc := filepath.Join(dir, "npmrc")
	if err := os.WriteFile(rc, []byte("registry="+url+"/\n//"+host+"/:_authToken="+testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	global := filepath.Join(dir, "globalrc")
	os.WriteFile(global, nil, 0o600)
	cfg, err := npmrc.Load(npmrc.Sources{Env: []string{"HOME=" + dir}, Cwd: dir, UserConfig: rc, GlobalConfig: global, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return ReviewOptions{Config: cfg, Client: &registry.Client{Retry: registry.RetryPolicy{MaxAttempts: 1}}}
}

type tarEntry struct {
	name, body string
	typ        byte
}

func tgz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: typ, Format: tar.FormatUSTAR}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func pkgTarball(t *testing.T, name, version string) []byte {
	return tgz(t,
		tarEntry{name: "package/package.json", body: fmt.Sprintf(`{"name":%q,"version":%q}`, name, version)},
		tarEntry{name: "package/index.js", body: "module.exports = 1\n"},
	)
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// stagedRegistry serves one staged version: its record and its tarball.
type stagedRegistry struct {
	*httptest.Server
	mu     sync.Mutex
	record string
	tar    []byte
	paths  []string
}

func newStagedRegistry(t *testing.T, record string, tarball []byte) *stagedRegistry {
	s := &stagedRegistry{record: record, tar: tarball}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.Method+" "+r.URL.RequestURI())
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/-/stage/" + testID:
			fmt.Fprint(w, s.record)
		case "/-/stage/" + testID + "/tarball":
			w.Write(s.tar)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func record(name, version, shasum string) string {
	return fmt.Sprintf(`{"id":%q,"packageName":%q,"version":%q,"tag":"latest","shasum":%q}`, testID, name, version, shasum)
}

func downloadOptions(t *testing.T, s *stagedRegistry) (DownloadOptions, string) {
	dir := t.TempDir()
	return DownloadOptions{ReviewOptions: reviewOptions(t, s.URL, nil), Dir: dir, Limits: inspect.DefaultLimits()}, dir
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadWritesTheNpmNamedFile(t *testing.T) {
	data := pkgTarball(t, "@scope/pkg", "1.2.3-rc.1")
	s := newStagedRegistry(t, record("@scope/pkg", "1.2.3-rc.1", sha1hex(data)), data)
	opts, dir := downloadOptions(t, s)
	d, err := Download(t.Context(), testID, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := "scope-pkg-1.2.3-rc.1-" + testID + ".tgz"
	if d.Filename != want || d.Path != filepath.Join(dir, want) {
		t.Fatalf("file %q (%s), want %q", d.Filename, d.Path, want)
	}
	got, err := os.ReadFile(d.Path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("written file differs from the tarball (%v)", err)
	}
	if st, _ := os.Stat(d.Path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644", st.Mode().Perm())
	}
	if d.Files != 2 || d.Shasum != sha1hex(data) || !strings.HasPrefix(d.Integrity, "sha512-") || d.Size != int64(len(data)) {
		t.Fatalf("summary %+v", d)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Fatalf("folder holds %v: a temporary file was left", names)
	}
	// The record is read before the tarball: it is what the tarball is
	// checked against.
	if len(s.paths) != 2 || !strings.HasSuffix(s.paths[0], testID) || !strings.HasSuffix(s.paths[1], "/tarball") {
		t.Fatalf("requests %v", s.paths)
	}

	// Again: the same file is already there, which is fine.
	d, err = Download(t.Context(), testID, opts)
	if err != nil || !d.Existed {
		t.Fatalf("second download: %+v, %v", d, err)
	}
	// Other contents under the name are kept unless forced.
	os.WriteFile(d.Path, []byte("mine"), 0o644)
	if _, err := Download(t.Context(), testID, opts); !errors.Is(err, ErrFileExists) || !strings.Contains(hint.Of(err), "--force") {
		t.Fatalf("overwrite without force: %v", err)
	}
	if got, _ := os.ReadFile(d.Path); string(got) != "mine" {
		t.Fatal("the existing file was changed")
	}
	opts.Force = true
	if _, err := Download(t.Context(), testID, opts); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(d.Path); !bytes.Equal(got, data) {
		t.Fatal("--force did not replace the file")
	}
}

func TestDownloadRefusesAndWritesNothing(t *testing.T) {
	good := pkgTarball(t, "pkg", "1.0.0")
	other := pkgTarball(t, "other", "1.0.0")
	hostile := tgz(t,
		tarEntry{name: "package/package.json", body: `{"name":"pkg","version":"1.0.0"}`},
		tarEntry{name: "package/../../evil.js", body: "pwned"},
	)
	link := tgz(t,
		tarEntry{name: "package/package.json", body: `{"name":"pkg","version":"1.0.0"}`},
		tarEntry{name: "package/passwd", typ: tar.TypeSymlink},
	)
	for _, tc := range []struct {
		name   string
		record string
		tar    []byte
		want   error
	}{
		{"shasum differs", record("pkg", "1.0.0", sha1hex(good)), other, ErrShasumMismatch},
		{"another package", record("pkg", "1.0.0", sha1hex(other)), other, ErrWrongPackage},
		{"another version", record("pkg", "1.0.1", sha1hex(good)), good, ErrWrongPackage},
		{"path traversal", record("pkg", "1.0.0", sha1hex(hostile)), hostile, inspect.ErrUnsafePath},
		{"symlink", record("pkg", "1.0.0", sha1hex(link)), link, inspect.ErrLink},
		{"not a tarball", record("pkg", "1.0.0", sha1hex([]byte("junk"))), []byte("junk"), inspect.ErrNotGzip},
		{"record without shasum", `{"packageName":"pkg","version":"1.0.0"}`, good, nil},
		{"record of another ID", strings.Replace(record("pkg", "1.0.0", sha1hex(good)), testID[:8], "ffffffff", 1), good, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStagedRegistry(t, tc.record, tc.tar)
			opts, dir := downloadOptions(t, s)
			d, err := Download(t.Context(), testID, opts)
			if err == nil {
				t.Fatalf("accepted: %+v", d)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Fatalf("wrote %v after refusing: %v", names, err)
			}
			if hint.Of(err) == "" && tc.want != nil {
				t.Errorf("no advice with %v", err)
			}
		})
	}
}

func TestDownloadSizeCap(t *testing.T) {
	data := pkgTarball(t, "pkg", "1.0.0")
	s := newStagedRegistry(t, record("pkg", "1.0.0", sha1hex(data)), data)
	opts, dir := downloadOptions(t, s)
	opts.MaxSize = int64(len(data)) - 1
	_, err := Download(t.Context(), testID, opts)
	if !errors.Is(err, registry.ErrTooLarge) || !strings.Contains(hint.Of(err), "--max-size") {
		t.Fatalf("err = %v (hint %q), want ErrTooLarge with advice", err, hint.Of(err))
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("wrote %v", names)
	}
}

// listRegistry serves n staged versions, perPage at a time.
func listRegistry(t *testing.T, n int, total string) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var queries []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("perPage"))
		var items []string
		for i := page * per; i < min(n, (page+1)*per); i++ {
			items = append(items, fmt.Sprintf(`{"id":"%08x-0000-4000-8000-000000000000","packageName":"pkg","version":"1.0.%d"}`, i, i))
		}
		fmt.Fprintf(w, `{"items":[%s]%s}`, strings.Join(items, ","), total)
	}))
	t.Cleanup(s.Close)
	return s, &queries
}

func TestListFetchesEveryPage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		total string
		pages int
	}{
		{"three pages", 250, `,"total":250`, 3},
		{"full last page stops at total", 200, `,"total":200`, 2},
		{"no total: a short page ends it", 200, ``, 3},
		{"empty", 0, `,"total":0`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, queries := listRegistry(t, tc.n, tc.total)
			items, err := List(t.Context(), "pkg", reviewOptions(t, s.URL, nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.n || len(*queries) != tc.pages {
				t.Fatalf("%d items in %d requests, want %d in %d", len(items), len(*queries), tc.n, tc.pages)
			}
			if tc.n > 0 && items[tc.n-1].Version != fmt.Sprintf("1.0.%d", tc.n-1) {
				t.Fatalf("last item %+v", items[tc.n-1])
			}
			for i, q := range *queries {
				if want := fmt.Sprintf("page=%d&perPage=100&package=pkg", i); q != want {
					t.Errorf("query %d = %q, want %q", i, q, want)
				}
			}
		})
	}
}

func TestListStopsARegistryThatNeverEnds(t *testing.T) {
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf(`{"id":"%d"}`, i))
	}
	page := `{"items":[` + strings.Join(items, ",") + `],"total":1000000000}`
	var requests atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, page)
	}))
	defer s.Close()
	if _, err := List(t.Context(), "", reviewOptions(t, s.URL, nil)); err == nil {
		t.Fatal("a registry that pages forever was followed forever")
	}
	if n := requests.Load(); n != maxPages {
		t.Fatalf("%d requests, want %d", n, maxPages)
	}
}

func TestOTPErrors(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("npm-otp") == "123456" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("WWW-Authenticate", "OTP")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer s.Close()

	err := Approve(t.Context(), testID, reviewOptions(t, s.URL, nil))
	if !errors.Is(err, ErrOTPRequired) || hint.Of(err) != "pass --otp with the code from your authenticator app" {
		t.Fatalf("no otp: %v (hint %q)", err, hint.Of(err))
	}
	err = Reject(t.Context(), testID, reviewOptions(t, s.URL, map[string]string{"otp": "000000"}))
	if !errors.Is(err, ErrOTPRefused) || errors.Is(err, ErrOTPRequired) || !strings.Contains(hint.Of(err), "fresh code") {
		t.Fatalf("wrong otp: %v (hint %q)", err, hint.Of(err))
	}
	if strings.Contains(err.Error(), "000000") {
		t.Fatalf("error shows the one-time password: %v", err)
	}
	if err := Approve(t.Context(), testID, reviewOptions(t, s.URL, map[string]string{"otp": "123456"})); err != nil {
		t.Fatal(err)
	}
}

func TestValidateID(t *testing.T) {
	for id, want := range map[string]string{
		testID:                                 "",
		strings.ToUpper(testID):                "",
		"":                                     "it is empty",
		"abc":                                  "it has 3 characters, not 36",
		"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g": `character 36 is 'g', not a hexadecimal digit`,
		"0a1b2c3d_4e5f-4a6b-8c7d-9e0f1a2b3c4d": `character 9 is '_', not '-'`,
		"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/approve": "not 36",
	} {
		err := ValidateID(id)
		switch {
		case want == "" && err != nil:
			t.Errorf("ValidateID(%q) = %v", id, err)
		case want != "" && (!errors.Is(err, ErrInvalidID) || !strings.Contains(err.Error(), want)):
			t.Errorf("ValidateID(%q) = %v, want %q", id, err, want)
		}
	}
}

func TestPackageFilter(t *testing.T) {
	for arg, want := range map[string]string{
		"pkg":          "pkg",
		"pkg@":         "pkg",
		"pkg@*":        "pkg",
		"@scope/pkg":   "@scope/pkg",
		"@scope/pkg@*": "@scope/pkg",
		"pkg@1.0.0":    "version specifiers",
		"pkg@^1":       "version specifiers",
		"@s/p@latest":  "version specifiers",
		"@s":           "invalid package name",
		"./dir":        "invalid package name",
		".hidden":      "invalid package name",
	} {
		got, err := PackageFilter(arg)
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("PackageFilter(%q) = %q, want %q", arg, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	raw := `{"access":"public","shasum":"abc","actorType":"user","actor":"alice","createdAt":"2026-05-01T10:00:00Z",` +
		`"tag":"next","version":"1.0.0","packageName":"pkg","id":"x","gone":null,"deps":{"a":1},"evil":"red\u001b[31m text"}`
	v := registry.StagedVersion{Raw: []byte(raw)}
	var got []string
	for _, f := range Describe(v) {
		got = append(got, f.Label+": "+f.Value)
	}
	want := []string{
		"id: x", "package name: pkg", "version: 1.0.0", "tag: next", "date staged: 2026-05-01T10:00:00Z",
		"staged by: alice (user)", "shasum: abc", "access: public", `deps: {"a":1}`, "evil: red text",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Describe:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v = registry.StagedVersion{Raw: []byte(`{"actor":"ci"}`)}
	if d := Describe(v); len(d) != 1 || d[0] != (Field{"staged by", "ci"}) {
		t.Fatalf("actor without type: %v", d)
	}
}

func TestMissingCredentials(t *testing.T) {
	dir := t.TempDir()
	user, global := filepath.Join(dir, "userrc"), filepath.Join(dir, "globalrc")
	os.WriteFile(user, nil, 0o600)
	os.WriteFile(global, nil, 0o600)
	cfg, err := npmrc.Load(npmrc.Sources{Env: []string{"HOME=" + dir}, Cwd: dir, UserConfig: user, GlobalConfig: global,
		Flags: map[string]string{"registry": "http://127.0.0.1:9/"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = List(t.Context(), "", ReviewOptions{Config: cfg})
	if !errors.Is(err, npmrc.ErrNoCredentials) || !strings.Contains(hint.Of(err), "npm login --registry http://127.0.0.1:9/") {
		t.Fatalf("err = %v (hint %q)", err, hint.Of(err))
	}
}
