package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/registrytest"
)

// fakeToken shapes: recognisable, so a leak is found by grepping.
const leakMarker = "AIRLOCKLEAK"

type run struct {
	code           int
	stdout, stderr string
}

func airlock(t *testing.T, env []string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb, env)
	return run{code, out.String(), errb.String()}
}

// publishEnv is a publish job's environment: no npm, a user npmrc that
// names the registry and reads the token from $NPM_TOKEN.
func publishEnv(t *testing.T, reg *registrytest.Server, token string) []string {
	dir := t.TempDir()
	rc := filepath.Join(dir, "npmrc")
	content := "registry=" + reg.URL() + "\n//" + reg.Host() + "/:_authToken=${NPM_TOKEN}\n"
	if err := os.WriteFile(rc, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"HOME=" + dir, "NPM_CONFIG_USERCONFIG=" + rc, "NPM_TOKEN=" + token, "PATH=/nonexistent"}
}

func packExample(t *testing.T, version string, edits ...string) (tgz, integrity string) {
	t.Helper()
	src := t.TempDir()
	copyTree(t, "../../testdata/example", src)
	pj := filepath.Join(src, "package.json")
	data, _ := os.ReadFile(pj)
	if version != "" {
		data = bytes.Replace(data, []byte(`"version": "1.0.0"`), []byte(`"version": "`+version+`"`), 1)
	}
	// Each edit is a field added after the license, e.g. `"private": true`.
	for _, e := range edits {
		data = bytes.Replace(data, []byte(`"license": "MIT",`), []byte(`"license": "MIT", `+e+`,`), 1)
	}
	os.WriteFile(pj, data, 0o644)
	out := t.TempDir()
	r := airlock(t, os.Environ(), "pack", src, "--pack-destination", out, "--json", "--ignore-scripts")
	if r.code != 0 {
		t.Fatalf("pack: exit %d\n%s", r.code, r.stderr)
	}
	var reports []struct{ Filename, Integrity string }
	if err := json.Unmarshal([]byte(r.stdout), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("pack --json: %v\n%s", err, r.stdout)
	}
	return filepath.Join(out, reports[0].Filename), reports[0].Integrity
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The split release end to end on a real registry: airlock pack, airlock
// publish with a token, npm install (which checks the integrity), and the
// stored version compared with what npm publish stores for the same
// tarball.
func TestPublishEndToEnd(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "alice", "correct-horse")
	tgz, integrity := packExample(t, "")
	env := publishEnv(t, reg, token)
	var all strings.Builder

	r := airlock(t, env, "publish", tgz, "--integrity", integrity)
	all.WriteString(r.stdout + r.stderr)
	if r.code != 0 {
		t.Fatalf("publish: exit %d\n%s", r.code, r.stderr)
	}
	if r.stdout != "@airlock-example/greet@1.0.0\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "published @airlock-example/greet@1.0.0") {
		t.Errorf("stderr = %q", r.stderr)
	}

	// A re-run of the release job finds the version there, same bytes.
	r = airlock(t, env, "publish", tgz, "--integrity", integrity, "--json")
	all.WriteString(r.stdout + r.stderr)
	if r.code != 0 || !strings.Contains(r.stdout, `"outcome":"already published"`) {
		t.Fatalf("re-run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// npm verifies dist.integrity when it installs (Verdaccio does not).
	pkg := reg.Install(t, "@airlock-example/greet@1.0.0", "@airlock-example/greet")
	if _, err := os.Stat(filepath.Join(pkg, "lib", "index.js")); err != nil {
		t.Fatalf("installed package lacks lib/index.js: %v", err)
	}
	ours := reg.Packument(t, "@airlock-example/greet")
	if got := dig(ours, "versions", "1.0.0", "dist", "integrity"); got != integrity {
		t.Errorf("registry holds integrity %v, airlock packed %s", got, integrity)
	}

	// npm publish of the same tarball to a fresh registry stores the same
	// version document, but for the fields that name the publishing tool
	// and the registry's own address.
	reg2 := registrytest.Start(t)
	token2 := reg2.AddUser(t, "bob", "battery-staple")
	reg2.NPM(t, filepath.Dir(tgz), token2, "publish", tgz, "--ignore-scripts")
	theirs := reg2.Packument(t, "@airlock-example/greet")
	a := dig(ours, "versions", "1.0.0").(map[string]any)
	b := dig(theirs, "versions", "1.0.0").(map[string]any)
	for _, m := range []map[string]any{a, b} {
		for _, k := range []string{"_npmVersion", "_nodeVersion", "_airlockVersion", "_npmUser", "_resolved", "_from"} {
			delete(m, k)
		}
		delete(m["dist"].(map[string]any), "tarball") // each registry's own URL
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("stored version documents differ:\n%s", diffMaps(a, b))
	}

	for _, secret := range []string{token, token2} {
		if strings.Contains(all.String(), secret) {
			t.Fatal("a token appeared in airlock's output")
		}
	}
}

// Every refusal names its reason and never shows the token.
func TestPublishFailuresKeepTheTokenSecret(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "carol", "pw-"+leakMarker)
	tgz, integrity := packExample(t, "")
	other, otherIntegrity := packExample(t, "2.0.0-beta.1")
	env := publishEnv(t, reg, token)
	badEnv := publishEnv(t, reg, "npm_"+leakMarker+"0123456789abcdef")

	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"digest mismatch", env, []string{"publish", tgz, "--integrity", otherIntegrity}, "tarball digest does not match the pin"},
		{"no pin", env, []string{"publish", tgz}, "no integrity pin"},
		{"prerelease without tag", env, []string{"publish", other, "--integrity", otherIntegrity}, "is a prerelease"},
		{"range as tag", env, []string{"publish", tgz, "--integrity", integrity, "--tag", "^1.0.0"}, "is a semver range"},
		{"wrong token", badEnv, []string{"publish", tgz, "--integrity", integrity}, "401"},
		{"not a tarball", env, []string{"publish", "../../testdata/example/package.json", "--allow-unpinned"}, "inspecting tarball"},
		{"missing file", env, []string{"publish", "/nonexistent.tgz", "--allow-unpinned"}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := airlock(t, c.env, c.args...)
			if r.code == 0 {
				t.Fatalf("exit 0, want a failure\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, r.stderr)
			}
			if out := r.stdout + r.stderr; strings.Contains(out, leakMarker) || strings.Contains(out, token) {
				t.Fatalf("the token leaked:\n%s", out)
			}
		})
	}
	assertNotPublished(t, reg, "a refused publish")
}

func dig(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func diffMaps(a, b map[string]any) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, k := range names {
		if !reflect.DeepEqual(a[k], b[k]) {
			ja, _ := json.Marshal(a[k])
			jb, _ := json.Marshal(b[k])
			out.WriteString("  " + k + ": airlock " + string(ja) + "\n  " + strings.Repeat(" ", len(k)) + "  npm     " + string(jb) + "\n")
		}
	}
	return out.String()
}

// Several tarballs: every pin and every check of every tarball passes
// before the first upload, so a bad last tarball publishes nothing. A dry
// run uploads nothing, and fails where the real run would.
func TestPublishSeveralChecksAllFirst(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "dave", "dave-password")
	env := publishEnv(t, reg, token)
	one, oneIntegrity := packExample(t, "1.0.0")
	two, twoIntegrity := packExample(t, "1.1.0")
	three, threeIntegrity := packExample(t, "1.2.0")

	r := airlock(t, env, "publish", one, "--integrity", oneIntegrity, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stderr, "would publish @airlock-example/greet@1.0.0") ||
		!strings.Contains(r.stderr, "base64-encoded when published") || !strings.Contains(r.stderr, "\n  \"_id\": \"@airlock-example/greet\",\n") {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	assertNotPublished(t, reg, "a dry run")

	// With ${NPM_TOKEN} unset a dry run fails as the real run does.
	var noCreds []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NPM_TOKEN=") {
			noCreds = append(noCreds, kv)
		}
	}
	real := airlock(t, noCreds, "publish", one, "--integrity", oneIntegrity)
	dry := airlock(t, noCreds, "publish", one, "--integrity", oneIntegrity, "--dry-run")
	if real.code != 1 || dry.code != 1 || dry.stderr != real.stderr {
		t.Errorf("no credentials: real run exit %d, dry run exit %d; stderr should be the same:\nreal: %s\ndry:  %s", real.code, dry.code, real.stderr, dry.stderr)
	}

	// The third pin is the second tarball's digest: a swapped artifact.
	r = airlock(t, env, "publish", one, two, three, "--integrity", oneIntegrity, "--integrity", twoIntegrity, "--integrity", twoIntegrity)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "digest does not match") {
		t.Errorf("mismatched third tarball: exit %d\nstdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	assertNotPublished(t, reg, "a release with a bad third pin")

	// The right pins in the wrong order: said so, nothing sent.
	r = airlock(t, env, "publish", one, two, three, "--integrity", oneIntegrity, "--integrity", threeIntegrity, "--integrity", twoIntegrity)
	if r.code != 1 || !strings.Contains(r.stderr, "in another order") ||
		!strings.Contains(r.stderr, "--integrity 2 is the digest of "+three) || !strings.Contains(r.stderr, "hint: give --integrity once per tarball, in the order") {
		t.Errorf("pins in another order: exit %d\n%s", r.code, r.stderr)
	}
	assertNotPublished(t, reg, "a release with pins in another order")

	r = airlock(t, env, "publish", one, two, three, "--integrity", oneIntegrity, "--integrity", twoIntegrity, "--integrity", threeIntegrity)
	if r.code != 0 || r.stdout != "@airlock-example/greet@1.0.0\n@airlock-example/greet@1.1.0\n@airlock-example/greet@1.2.0\n" {
		t.Errorf("three good tarballs: exit %d\nstdout %q\n%s", r.code, r.stdout, r.stderr)
	}

	r = airlock(t, env, "publish", one, two, "--integrity", oneIntegrity)
	if r.code != 2 || !strings.Contains(r.stderr, "2 tarballs but 1 --integrity values") {
		t.Errorf("pin count mismatch: exit %d\n%s", r.code, r.stderr)
	}
}

// A re-run of a release that landed, with another --tag, points the tag
// at the version; one that cannot says the tag was not applied.
func TestPublishRerunWithAnotherTag(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "frank", "frank-password")
	env := publishEnv(t, reg, token)
	tgz, integrity := packExample(t, "1.0.0")
	if r := airlock(t, env, "publish", tgz, "--integrity", integrity); r.code != 0 {
		t.Fatalf("publish: %s", r.stderr)
	}
	r := airlock(t, env, "publish", tgz, "--integrity", integrity)
	if r.code != 0 || !strings.Contains(r.stderr, "nothing to do") {
		t.Errorf("plain re-run: exit %d\n%s", r.code, r.stderr)
	}
	r = airlock(t, env, "publish", tgz, "--integrity", integrity, "--tag", "stable", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stderr, `the "stable" tag would be pointed at it`) {
		t.Errorf("dry re-run with --tag: exit %d\n%s", r.code, r.stderr)
	}
	if tags := reg.Packument(t, "@airlock-example/greet")["dist-tags"].(map[string]any); tags["stable"] != nil {
		t.Fatalf("a dry run set a tag: %v", tags)
	}
	r = airlock(t, env, "publish", tgz, "--integrity", integrity, "--tag", "stable")
	if r.code != 0 || !strings.Contains(r.stderr, "pointed the stable tag at it") {
		t.Errorf("re-run with --tag: exit %d\n%s", r.code, r.stderr)
	}
	if tags := reg.Packument(t, "@airlock-example/greet")["dist-tags"].(map[string]any); tags["stable"] != "1.0.0" || tags["latest"] != "1.0.0" {
		t.Errorf("dist-tags = %v, want stable and latest at 1.0.0", tags)
	}
	r = airlock(t, env, "publish", tgz, "--integrity", integrity, "--tag", "beta", "--stage")
	if r.code != 1 || !strings.Contains(r.stderr, `the dist-tag "beta" was not applied`) || !strings.Contains(r.stderr, "hint: a maintainer can point it at the version: npm dist-tag add @airlock-example/greet@1.0.0 beta") {
		t.Errorf("staged re-run with --tag: exit %d\n%s", r.code, r.stderr)
	}
}

// npm's rules against what the registry holds: "latest" never moves back
// without an explicit tag, a version is immutable, and publishConfig's
// tag counts as a choice.
func TestPublishRegistryRules(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "erin", "erin-password")
	env := publishEnv(t, reg, token)
	newer, newerIntegrity := packExample(t, "2.0.0")
	older, olderIntegrity := packExample(t, "1.5.0")
	changed, changedIntegrity := packExample(t, "2.0.0", `"keywords": ["changed"]`)
	private, privateIntegrity := packExample(t, "3.0.0", `"private": true`)
	beta, betaIntegrity := packExample(t, "3.0.0-beta.1", `"publishConfig": {"tag": "next"}`)

	if r := airlock(t, env, "publish", newer, "--integrity", newerIntegrity); r.code != 0 {
		t.Fatalf("publish 2.0.0: %s", r.stderr)
	}
	r := airlock(t, env, "publish", older, "--integrity", olderIntegrity)
	if r.code == 0 || !strings.Contains(r.stderr, "lower than 2.0.0") || !strings.Contains(r.stderr, "hint: publish it under another tag") {
		t.Errorf("older version without a tag: exit %d\n%s", r.code, r.stderr)
	}
	if r := airlock(t, env, "publish", older, "--integrity", olderIntegrity, "--tag", "v1-maintenance"); r.code != 0 {
		t.Errorf("older version with a tag: %s", r.stderr)
	}
	r = airlock(t, env, "publish", changed, "--integrity", changedIntegrity)
	if r.code == 0 || !strings.Contains(r.stderr, "version already published with different contents") {
		t.Errorf("same version, other bytes: exit %d\n%s", r.code, r.stderr)
	}
	r = airlock(t, env, "publish", private, "--integrity", privateIntegrity)
	if r.code == 0 || !strings.Contains(r.stderr, "package is private") {
		t.Errorf("private package: exit %d\n%s", r.code, r.stderr)
	}
	r = airlock(t, env, "publish", beta, "--integrity", betaIntegrity, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"tag":"next"`) || !strings.Contains(r.stdout, `"notes":["the tag \"next\" comes from publishConfig in the tarball's package.json"]`) {
		t.Errorf("prerelease with publishConfig.tag: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tags := reg.Packument(t, "@airlock-example/greet")["dist-tags"].(map[string]any)
	if tags["latest"] != "2.0.0" || tags["next"] != "3.0.0-beta.1" || tags["v1-maintenance"] != "1.5.0" {
		t.Errorf("dist-tags = %v", tags)
	}
}

// assertNotPublished fails when the registry knows the example package.
func assertNotPublished(t *testing.T, reg *registrytest.Server, what string) {
	t.Helper()
	resp, err := http.Get(reg.URL() + "@airlock-example%2fgreet")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("registry answered %s for the package: %s reached it", resp.Status, what)
	}
}

// A version the registry has with another integrity but the same files
// (another gzip of the same tar) is already published: a re-run of a
// release whose compression differs resumes instead of failing. Other
// files are still an error, naming what differs.
func TestPublishSameContentsOtherGzip(t *testing.T) {
	reg := registrytest.Start(t)
	token := reg.AddUser(t, "gina", "gina-password")
	env := publishEnv(t, reg, token)
	tgz, integrity := packExample(t, "1.0.0")
	regzipped := filepath.Join(t.TempDir(), "other-gzip.tgz")
	regzip(t, tgz, regzipped)
	if r := airlock(t, env, "publish", regzipped, "--allow-unpinned"); r.code != 0 {
		t.Fatalf("publish the other gzip: %s", r.stderr)
	}
	r := airlock(t, env, "publish", tgz, "--integrity", integrity)
	if r.code != 0 || !strings.Contains(r.stderr, "already on "+reg.URL()+" with the same contents: nothing to do") ||
		!strings.Contains(r.stderr, "another gzip of the same package") {
		t.Errorf("same contents, other gzip: exit %d\n%s", r.code, r.stderr)
	}
	changed, changedIntegrity := packExample(t, "1.0.0", `"keywords": ["changed"]`)
	r = airlock(t, env, "publish", changed, "--integrity", changedIntegrity)
	if r.code != 1 || !strings.Contains(r.stderr, "version already published with different contents") || !strings.Contains(r.stderr, "package.json has other contents") {
		t.Errorf("other contents: exit %d\n%s", r.code, r.stderr)
	}
}

// regzip writes the tar stream of the tarball at from, compressed again
// at another gzip level, to to.
func regzip(t *testing.T, from, to string) {
	t.Helper()
	f, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := io.Copy(zw, zr); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
