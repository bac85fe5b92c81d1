package pack_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/pack"
)

// checkAgainstNPM packs dir with npm and with pack.Pack, then fails t on
// any difference: the uncompressed tarball byte for byte, the report
// fields that do not depend on compression, the JSON shape of the report,
// a dry run, and pack.Files. Integrity, shasum and size are checked
// against airlock's own tarball, since gzip output need not match.
// npm's report comes from a real pack rather than --dry-run: npmtest's
// TestNPMPackTwice checks the two are the same, so one npm run serves.
func checkAgainstNPM(t *testing.T, dir string) {
	t.Helper()
	want, wantTgz := npmtest.Pack(t, dir, t.TempDir())
	wantTar := npmtest.Gunzip(t, wantTgz)

	ctx := t.Context()
	dest := t.TempDir()
	res, err := pack.Pack(ctx, dir, pack.Options{Destination: dest, IgnoreScripts: true})
	if err != nil {
		t.Fatalf("pack.Pack(%s): %v", dir, err)
	}
	if wantPath := filepath.Join(dest, want.Filename); res.Tarball != wantPath {
		t.Errorf("pack.Pack wrote the tarball to %s, want %s", res.Tarball, wantPath)
	}
	npmtest.CompareTar(t, wantTar, npmtest.Gunzip(t, res.Tarball))
	if d := npmtest.DiffReport(want, fromPack(res.Report)); d != "" {
		t.Errorf("report differs from npm pack --json:\n%s", d)
	}
	checkDigests(t, res)
	checkJSONShape(t, res.Report)

	dryDest := t.TempDir()
	dry, err := pack.Pack(ctx, dir, pack.Options{Destination: dryDest, IgnoreScripts: true, DryRun: true})
	if err != nil {
		t.Fatalf("pack.Pack(%s) with DryRun: %v", dir, err)
	}
	if d := npmtest.DiffReport(want, fromPack(dry.Report)); d != "" {
		t.Errorf("dry-run report differs from npm pack --json:\n%s", d)
	}
	if dry.Report.Integrity != res.Report.Integrity || dry.Report.Size != res.Report.Size {
		t.Errorf("dry run reports size %d integrity %s, the real run %d %s",
			dry.Report.Size, dry.Report.Integrity, res.Report.Size, res.Report.Integrity)
	}
	if dry.Tarball != "" || dry.Receipt != "" {
		t.Errorf("dry run returned paths %q and %q, want none", dry.Tarball, dry.Receipt)
	}
	if left, _ := os.ReadDir(dryDest); len(left) > 0 {
		t.Errorf("dry run wrote %s into the destination", left[0].Name())
	}

	checkFiles(t, dir, wantTar)
}

// checkFiles checks pack.Files against the entry order of npm's tarball.
func checkFiles(t *testing.T, dir string, npmTar []byte) {
	t.Helper()
	entries, err := npmtest.ReadTar(npmTar)
	if err != nil {
		t.Fatalf("reading npm's tarball: %v", err)
	}
	var want []string
	for _, e := range entries {
		p := strings.TrimPrefix(e.Header.Name, "package/")
		if strings.HasPrefix(p, "@") {
			p = "./" + p // npm-packlist's spelling, which node-tar drops
		}
		want = append(want, p)
	}
	got, err := pack.Files(t.Context(), dir)
	if err != nil {
		t.Fatalf("pack.Files(%s): %v", dir, err)
	}
	if d := npmtest.DiffStrings("pack.Files and npm's tar order", want, got); d != "" {
		t.Error(d)
	}
}

// checkDigests checks that the size, shasum and integrity airlock reports
// are those of the tarball it wrote.
func checkDigests(t *testing.T, res *pack.Result) {
	t.Helper()
	data, err := os.ReadFile(res.Tarball)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Size != int64(len(data)) {
		t.Errorf("report size %d, tarball has %d bytes", res.Report.Size, len(data))
	}
	sum1 := sha1.Sum(data)
	if want := hex.EncodeToString(sum1[:]); res.Report.Shasum != want {
		t.Errorf("report shasum %s, tarball's is %s", res.Report.Shasum, want)
	}
	sum512 := sha512.Sum512(data)
	if want := "sha512-" + base64.StdEncoding.EncodeToString(sum512[:]); res.Report.Integrity != want {
		t.Errorf("report integrity %s, tarball's is %s", res.Report.Integrity, want)
	}
}

// checkJSONShape checks that the report marshals to exactly the keys of
// npm pack --json, with lists as arrays even when empty.
func checkJSONShape(t *testing.T, r pack.Report) {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"bundled", "entryCount", "filename", "files", "id", "integrity", "name", "shasum", "size", "unpackedSize", "version"}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("report JSON has keys %v, npm's has %v", keys, wantKeys)
	}
	for _, k := range []string{"bundled", "files"} {
		if !bytes.HasPrefix(got[k], []byte("[")) {
			t.Errorf("report JSON %q is %s, want an array as npm writes", k, got[k])
		}
	}
}

func fromPack(r pack.Report) npmtest.Report {
	out := npmtest.Report{
		ID: r.ID, Name: r.Name, Version: r.Version, Size: r.Size, UnpackedSize: r.UnpackedSize,
		Shasum: r.Shasum, Integrity: r.Integrity, Filename: r.Filename, EntryCount: r.EntryCount,
		Bundled: r.Bundled,
	}
	for _, f := range r.Files {
		out.Files = append(out.Files, npmtest.File{Path: f.Path, Size: f.Size, Mode: f.Mode})
	}
	return out
}
