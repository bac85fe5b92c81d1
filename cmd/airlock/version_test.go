package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestVersionJSONHashesItself runs the airlock command in its own process
// (testscript's copy of this test binary, on PATH) and checks that the
// sha256 it reports is that of the file that ran.
func TestVersionJSONHashesItself(t *testing.T) {
	bin, err := exec.LookPath("airlock")
	if err != nil {
		t.Fatalf("testscript puts airlock on PATH: %v", err)
	}
	// A copy under another name is another file: the hash must follow it.
	exe := filepath.Join(t.TempDir(), "airlock")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(exe, "version", "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("airlock version --json: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr is not empty: %q", stderr.String())
	}
	var got versionInfo
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decoding %q: %v", stdout.String(), err)
	}
	sum := sha256.Sum256(data)
	want := versionInfo{
		Version:    toolVersion(),
		Go:         runtime.Version(),
		Target:     runtime.GOOS + "/" + runtime.GOARCH,
		Executable: exe,
		SHA256:     hex.EncodeToString(sum[:]),
	}
	if got != want {
		t.Errorf("version --json = %+v\nwant %+v", got, want)
	}
}

func TestVersionOf(t *testing.T) {
	for _, tc := range []struct{ buildTime, module, want string }{
		{"1.2.3", "", "1.2.3"},
		{"v1.2.3", "", "1.2.3"},
		{"0.1.0-rc.1", "v9.9.9", "0.1.0-rc.1"},
		{"", "v1.2.3", "1.2.3"},
		{"", "", "devel"},
	} {
		if got := versionOf(tc.buildTime, tc.module); got != tc.want {
			t.Errorf("versionOf(%q, %q) = %q, want %q", tc.buildTime, tc.module, got, tc.want)
		}
	}
}
