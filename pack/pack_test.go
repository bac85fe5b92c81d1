package pack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/airlockdev/airlock/pack"
)

// A pack that fails while writing must leave nothing in the destination:
// no tarball, no temporary file, no receipt.
func TestPackFailureLeavesNoPartialFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"demo","version":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "big.js"), make([]byte, 4<<20), 0o644)
	dest := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pack.Pack(ctx, dir, pack.Options{Destination: dest, IgnoreScripts: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pack with a cancelled context = %v, want context.Canceled", err)
	}
	entries, _ := os.ReadDir(dest)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestFilename(t *testing.T) {
	for _, tt := range []struct{ name, version, want string }{
		{"demo", "1.0.0", "demo-1.0.0.tgz"},
		{"@scope/name", "1.2.3", "scope-name-1.2.3.tgz"},
		{"@s/n", "1.0.0-rc.1+b", "s-n-1.0.0-rc.1+b.tgz"},
	} {
		if got := pack.Filename(tt.name, tt.version); got != tt.want {
			t.Errorf("Filename(%q, %q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
}

func TestReceiptRoundTrip(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"demo","version":"1.0.0"}`), 0o644)
	res, err := pack.Pack(context.Background(), dir, pack.Options{IgnoreScripts: true, ToolVersion: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pack.ReadReceipt(res.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Integrity != res.Report.Integrity || r.Shasum != res.Report.Shasum || r.Size != res.Report.Size ||
		r.Name != "demo" || r.Filename != "demo-1.0.0.tgz" || r.ToolVersion != "v9" || len(r.Files) != 1 {
		t.Fatalf("receipt %+v does not match report %+v", r, res.Report)
	}
	if st, _ := os.Stat(res.Tarball); st.Mode().Perm() != 0o644 {
		t.Errorf("tarball mode %v, want 0644", st.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"schema":"other"}`), 0o644)
	if _, err := pack.ReadReceipt(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("ReadReceipt accepted an unknown schema")
	}
}
