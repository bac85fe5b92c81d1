package publishdoc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The differential tests publish each fixture with the real npm to a
// registry served by the test, and compare the body npm PUTs with the
// document Build makes from the same tarball.
//
// A fixture (testdata/publish/*.txt) is a txtar archive of the package's
// files, with directives in its comment, one a line:
//
//	args: ARGS...       more npm publish flags (--tag, --access)
//	tag: T              the Tag airlock's caller resolves, when not --tag
//	access: A           the Access airlock's caller resolves, when not --access
//	pack: npm           make the tarball with npm pack, not archive/tar
//	registry-path: P    serve the registry under /P/
//	abs: true           pass npm the tarball's absolute path
//	unordered: F...     version fields whose order npm takes from the file
//	                    system (glob results): compared as sets
//	error: TEXT         npm fails, with TEXT in its output; Build must fail
//	raw: NAME           the file NAME is written unquoted: \xNN escapes
//	                    become bytes (for BOMs and invalid UTF-8)

var (
	npmOnce    sync.Once
	npmPathErr error
	npmVersion string
	nodeVer    string
	npmRoot    string
)

// requireNPM fails, never skips: the differential tests are the point.
func requireNPM(t testing.TB) {
	t.Helper()
	npmOnce.Do(func() {
		if _, err := exec.LookPath("npm"); err != nil {
			npmPathErr = err
			return
		}
		if _, err := exec.LookPath("node"); err != nil {
			npmPathErr = err
			return
		}
		out, err := exec.Command("node", "-p", "process.versions.node").Output()
		if err != nil {
			npmPathErr = err
			return
		}
		nodeVer = strings.TrimSpace(string(out))
		env := isolatedEnv(t, os.TempDir())
		cmd := exec.Command("npm", "--version")
		cmd.Env = env
		out, err = cmd.Output()
		if err != nil {
			npmPathErr = err
			return
		}
		npmVersion = strings.TrimSpace(string(out))
		cmd = exec.Command("npm", "root", "-g")
		cmd.Env = env
		out, err = cmd.Output()
		if err != nil {
			npmPathErr = err
			return
		}
		npmRoot = filepath.Join(strings.TrimSpace(string(out)), "npm")
	})
	if npmPathErr != nil {
		t.Fatalf("npm and node are required for the differential tests: %v\n"+
			"hint: install Node.js 20+ with npm 11 (npm install -g npm@11)", npmPathErr)
	}
}

// isolatedEnv keeps npm away from the user's configuration: no npm_*
// variables, empty user and global npmrc (the user one may get written),
// a fresh home and cache.
func isolatedEnv(t testing.TB, tmp string) []string {
	t.Helper()
	dir, err := os.MkdirTemp(tmp, "npmenv")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"userrc", "globalrc"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToLower(k), "npm_") || k == "HOME" || k == "NODE_OPTIONS" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+filepath.Join(dir, "home"),
		"npm_config_cache="+filepath.Join(dir, "cache"),
		"npm_config_userconfig="+filepath.Join(dir, "userrc"),
		"npm_config_globalconfig="+filepath.Join(dir, "globalrc"),
		"npm_config_update_notifier=false",
		"npm_config_fund=false",
		"npm_config_audit=false",
		"npm_config_color=false",
		"npm_config_progress=false",
	)
}

type fixture struct {
	name       string
	args       []string
	tag        string
	access     string
	packNPM    bool
	regPath    string
	abs        bool
	unordered  []string
	wantErr    string
	files      map[string][]byte
	fileOrder  []string
	rawQuoted  map[string]bool
	hasTagFlag bool
}

func parseFixture(t *testing.T, file string) *fixture {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{name: strings.TrimSuffix(filepath.Base(file), ".txt"), files: map[string][]byte{}, rawQuoted: map[string]bool{}}
	comment, archive := splitTxtar(data)
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: bad directive %q", file, line)
		}
		v = strings.TrimSpace(v)
		switch k {
		case "args":
			f.args = strings.Fields(v)
		case "tag":
			f.tag = v
		case "access":
			f.access = v
		case "pack":
			f.packNPM = v == "npm"
		case "registry-path":
			f.regPath = v
		case "abs":
			f.abs = v == "true"
		case "unordered":
			f.unordered = strings.Fields(v)
		case "error":
			f.wantErr = v
		case "raw":
			for _, n := range strings.Fields(v) {
				f.rawQuoted[n] = true
			}
		default:
			t.Fatalf("%s: unknown directive %q", file, k)
		}
	}
	for i := 0; i+1 < len(f.args); i++ {
		switch f.args[i] {
		case "--tag":
			f.tag, f.hasTagFlag = f.args[i+1], true
		case "--access":
			f.access = f.args[i+1]
		}
	}
	for _, e := range archive {
		content := e.data
		if f.rawQuoted[e.name] {
			content = unescapeBytes(t, content)
		}
		f.files[e.name] = content
		f.fileOrder = append(f.fileOrder, e.name)
	}
	return f
}

type txtarFile struct {
	name string
	data []byte
}

// splitTxtar is a small txtar reader: a comment, then "-- name --"
// headers each followed by the file's lines.
func splitTxtar(data []byte) (string, []txtarFile) {
	var comment strings.Builder
	var files []txtarFile
	var cur *txtarFile
	for _, line := range strings.SplitAfter(string(data), "\n") {
		trim := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trim, "-- ") && strings.HasSuffix(trim, " --") && len(trim) > 6 {
			files = append(files, txtarFile{name: strings.TrimSpace(trim[3 : len(trim)-3])})
			cur = &files[len(files)-1]
			continue
		}
		if cur == nil {
			comment.WriteString(line)
		} else {
			cur.data = append(cur.data, line...)
		}
	}
	return comment.String(), files
}

// unescapeBytes turns \xNN into bytes and drops a final newline.
func unescapeBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	b = bytes.TrimSuffix(b, []byte("\n"))
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && b[i+1] == 'x' {
			var c byte
			if _, err := fmt.Sscanf(string(b[i+2:i+4]), "%02x", &c); err != nil {
				t.Fatalf("bad escape %q", b[i:i+4])
			}
			out = append(out, c)
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// writeTarball writes the fixture as npm pack lays a tarball out:
// package/ prefix, files only, in the fixture's order.
func writeTarball(t *testing.T, f *fixture, dest string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range f.fileOrder {
		data := f.files[name]
		hdr := &tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(499162500, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func packWithNPM(t *testing.T, f *fixture, work string, env []string) string {
	t.Helper()
	src := filepath.Join(work, "src")
	for name, data := range f.files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("npm", "pack", "--json", "--ignore-scripts", "--pack-destination", work)
	cmd.Dir = src
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack: %v\n%s", err, stderr.Bytes())
	}
	var report []struct{ Filename string }
	if err := json.Unmarshal(out, &report); err != nil || len(report) != 1 {
		t.Fatalf("npm pack --json: %v\n%s", err, out)
	}
	dest := filepath.Join(work, "package.tgz")
	if err := os.Rename(filepath.Join(work, report[0].Filename), dest); err != nil {
		t.Fatal(err)
	}
	return dest
}

// registry records what npm PUTs and answers every GET with 404, so
// npm's check for an existing version passes.
type registry struct {
	mu      sync.Mutex
	putPath string
	body    []byte
}

func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	w.Header().Set("Content-Type", "application/json")
	// npm's process waits for idle keep-alive sockets before exiting.
	w.Header().Set("Connection", "close")
	if req.Method == http.MethodPut {
		r.mu.Lock()
		r.putPath, r.body = req.URL.EscapedPath(), body
		r.mu.Unlock()
		io.WriteString(w, "{}")
		return
	}
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"error":"not found"}`)
}

// publishWithNPM runs npm publish on tgz and returns the body it sent,
// or npm's output if it failed.
func publishWithNPM(t *testing.T, f *fixture, work, tgzArg, registryURL string, env []string, reg *registry) (body []byte, putPath, output string, err error) {
	t.Helper()
	args := append([]string{"publish", tgzArg, "--registry", registryURL, "--ignore-scripts"}, f.args...)
	cmd := exec.Command("npm", args...)
	cmd.Dir = work
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return reg.body, reg.putPath, string(out), err
}

func TestPublishMatchesNPM(t *testing.T) {
	requireNPM(t)
	files, err := filepath.Glob("testdata/publish/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		f := parseFixture(t, file)
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			runFixture(t, f)
		})
	}
}

func runFixture(t *testing.T, f *fixture) {
	work := t.TempDir()
	work, _ = filepath.EvalSymlinks(work)
	env := isolatedEnv(t, work)
	reg := &registry{}
	srv := httptest.NewServer(reg)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	registryURL := srv.URL + "/"
	if f.regPath != "" {
		registryURL += f.regPath + "/"
	}
	var userrc string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "npm_config_userconfig="); ok {
			userrc = v
		}
	}
	rc := "//" + host + "/:_authToken=npm_TESTTOKEN\n"
	if f.regPath != "" {
		rc += "//" + host + "/" + f.regPath + "/:_authToken=npm_TESTTOKEN\n"
	}
	if err := os.WriteFile(userrc, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}

	var tgz string
	if f.packNPM {
		tgz = packWithNPM(t, f, work, env)
	} else {
		tgz = filepath.Join(work, "package.tgz")
		writeTarball(t, f, tgz)
	}
	arg := "./package.tgz"
	if f.abs {
		arg = tgz
	}
	body, putPath, out, npmErr := publishWithNPM(t, f, work, arg, registryURL, env, reg)

	tarball, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ReadTarball(bytes.NewReader(tarball))
	if err != nil {
		t.Fatalf("ReadTarball: %v", err)
	}
	in.Registry, in.Tag, in.Access = registryURL, f.tag, f.access
	in.Resolved, in.From = FileSpec(work, arg)
	in.Tool = ToolInfo{NodeVersion: nodeVer, NPMVersion: npmVersion}
	doc, buildErr := Build(in)

	if f.wantErr != "" {
		if npmErr == nil {
			t.Fatalf("npm publish succeeded, want failure with %q", f.wantErr)
		}
		if !strings.Contains(out, f.wantErr) {
			t.Errorf("npm failed without %q in its output:\n%s", f.wantErr, out)
		}
		if buildErr == nil {
			t.Fatalf("Build succeeded where npm failed with:\n%s", out)
		}
		t.Logf("Build: %v", buildErr)
		return
	}
	if npmErr != nil {
		t.Fatalf("npm publish: %v\n%s", npmErr, out)
	}
	if buildErr != nil {
		t.Fatalf("Build: %v", buildErr)
	}
	if body == nil {
		t.Fatalf("npm sent no PUT:\n%s", out)
	}
	wantPath := "/" + f.regPathPrefix() + strings.Replace(doc.Name(), "/", "%2f", 1)
	if putPath != wantPath {
		t.Errorf("npm PUT to %s, want %s", putPath, wantPath)
	}

	var got bytes.Buffer
	if err := doc.Encode(&got, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	if int64(got.Len()) != doc.EncodedLen() {
		t.Errorf("EncodedLen() = %d, Encode wrote %d bytes", doc.EncodedLen(), got.Len())
	}
	if len(f.unordered) == 0 {
		if !bytes.Equal(got.Bytes(), body) {
			t.Errorf("body differs from npm's\n%s", describeDiff(body, got.Bytes(), nil))
		}
	} else if d := describeDiff(body, got.Bytes(), f.unordered); d != "" {
		t.Errorf("body differs from npm's\n%s", d)
	}
	checkParts(t, doc, body, f.unordered)
	checkManifest(t, doc, body, f.unordered)
	checkAirlockTool(t, in, body, tarball, f.unordered)
	checkMarshalJSON(t, doc, body, f.unordered)
}

func (f *fixture) regPathPrefix() string {
	if f.regPath == "" {
		return ""
	}
	return f.regPath + "/"
}

// checkParts checks the pieces the registry client assembles the body
// from (parts.go) against npm's body: the version document byte for byte,
// and the root fields.
func checkParts(t *testing.T, doc *Document, body []byte, unordered []string) {
	t.Helper()
	var root struct {
		Description json.RawMessage            `json:"description"`
		Access      *string                    `json:"access"`
		Versions    map[string]json.RawMessage `json:"versions"`
	}
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatal(err)
	}
	got, err := doc.VersionJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := root.Versions[doc.Version()]; len(unordered) == 0 && !bytes.Equal(got, want) {
		t.Errorf("VersionJSON differs from npm's versions[%s]:\n%s", doc.Version(), describeDiff(want, got, nil))
	}
	desc, err := doc.DescriptionJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(desc, root.Description) {
		t.Errorf("DescriptionJSON() = %s; npm sent description %s", desc, root.Description)
	}
	a, ok := doc.Access()
	if ok != (root.Access != nil) || ok && a != *root.Access {
		t.Errorf("Access() = %q, %v; npm sent access %v", a, ok, root.Access)
	}
}

// checkManifest compares Manifest() with npm's version document by value.
func checkManifest(t *testing.T, doc *Document, body []byte, unordered []string) {
	t.Helper()
	var npmDoc struct {
		Versions map[string]map[string]any `json:"versions"`
	}
	if err := json.Unmarshal(body, &npmDoc); err != nil {
		t.Fatal(err)
	}
	want := npmDoc.Versions[doc.Version()]
	got := doc.Manifest()
	if d := diffValues("manifest", want, got, unordered); d != "" {
		t.Errorf("Manifest() differs from npm's version document:\n%s", d)
	}
}

// checkAirlockTool checks that airlock's own tool fields are the only
// difference from npm's document.
func checkAirlockTool(t *testing.T, in Input, body, tarball []byte, unordered []string) {
	t.Helper()
	in.Tool = Airlock("0.0.0-test")
	doc, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := doc.Encode(&got, bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	va := a["versions"].(map[string]any)[doc.Version()].(map[string]any)
	vb := b["versions"].(map[string]any)[doc.Version()].(map[string]any)
	if va["_nodeVersion"] != nodeVer || va["_npmVersion"] != npmVersion {
		t.Errorf("npm wrote _nodeVersion %v, _npmVersion %v; want %s, %s", va["_nodeVersion"], va["_npmVersion"], nodeVer, npmVersion)
	}
	if vb["_airlockVersion"] != "0.0.0-test" {
		t.Errorf("_airlockVersion = %v", vb["_airlockVersion"])
	}
	delete(va, "_nodeVersion")
	delete(va, "_npmVersion")
	delete(vb, "_airlockVersion")
	if d := diffValues("", a, b, unordered); d != "" {
		t.Errorf("with Airlock tool info, the document differs from npm's beyond the tool fields:\n%s", d)
	}
}

// checkMarshalJSON checks that MarshalJSON is npm's body without the data.
func checkMarshalJSON(t *testing.T, doc *Document, body []byte, unordered []string) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var a, m map[string]any
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	att := a["_attachments"].(map[string]any)[doc.TarballName()].(map[string]any)
	delete(att, "data")
	if d := diffValues("", a, m, unordered); d != "" {
		t.Errorf("MarshalJSON differs from npm's body without data:\n%s", d)
	}
}

// describeDiff explains how got differs from want: values first, then
// key order, then bytes. Fields named in unordered (version document
// keys) are compared as sets.
func describeDiff(want, got []byte, unordered []string) string {
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		return "npm's body is not JSON: " + err.Error()
	}
	if err := json.Unmarshal(got, &b); err != nil {
		return "Build's body is not JSON: " + err.Error()
	}
	if d := diffValues("", a, b, unordered); d != "" {
		return d
	}
	if len(unordered) > 0 {
		return ""
	}
	ka, kb := keyPaths(want), keyPaths(got)
	if !slices.Equal(ka, kb) {
		return fmt.Sprintf("same values, different key order:\nnpm:   %s\nBuild: %s", strings.Join(ka, " "), strings.Join(kb, " "))
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return fmt.Sprintf("same values and key order, bytes differ at %d:\nnpm:   %q\nBuild: %q", i, want[lo:min(len(want), i+80)], got[lo:min(len(got), i+80)])
}

// keyPaths lists every object key in document order, with its path.
func keyPaths(data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []string
	var walk func(prefix string)
	walk = func(prefix string) {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, _ := dec.Token()
				p := prefix + "." + fmt.Sprint(k)
				out = append(out, p)
				walk(p)
			}
			dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(fmt.Sprintf("%s[%d]", prefix, i))
			}
			dec.Token()
		}
	}
	walk("")
	return out
}

func diffValues(path string, a, b any, unordered []string) string {
	var sb strings.Builder
	var walk func(path string, a, b any)
	walk = func(path string, a, b any) {
		if ma, ok := a.(map[string]any); ok {
			mb, ok := b.(map[string]any)
			if !ok {
				fmt.Fprintf(&sb, "%s: npm %s, Build %s\n", path, show(a), show(b))
				return
			}
			keys := map[string]bool{}
			for k := range ma {
				keys[k] = true
			}
			for k := range mb {
				keys[k] = true
			}
			var sorted []string
			for k := range keys {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			for _, k := range sorted {
				va, oka := ma[k]
				vb, okb := mb[k]
				switch {
				case !oka:
					fmt.Fprintf(&sb, "%s.%s: npm has none, Build %s\n", path, k, show(vb))
				case !okb:
					fmt.Fprintf(&sb, "%s.%s: npm %s, Build has none\n", path, k, show(va))
				default:
					walk(path+"."+k, va, vb)
				}
			}
			return
		}
		if la, ok := a.([]any); ok && isUnordered(path, unordered) {
			if lb, ok := b.([]any); ok {
				a, b = sortedJSON(la), sortedJSON(lb)
			}
		}
		if !reflect.DeepEqual(a, b) {
			fmt.Fprintf(&sb, "%s: npm %s, Build %s\n", path, show(a), show(b))
		}
	}
	walk(path, a, b)
	return sb.String()
}

func isUnordered(path string, fields []string) bool {
	for _, f := range fields {
		if strings.HasSuffix(path, "."+f) {
			return true
		}
	}
	return false
}

func sortedJSON(l []any) []any {
	s := slices.Clone(l)
	sort.Slice(s, func(i, j int) bool { return show(s[i]) < show(s[j]) })
	return s
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
