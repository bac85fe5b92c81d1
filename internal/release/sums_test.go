package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestParseSums(t *testing.T) {
	good := map[string]Sums{
		hexA + "  airlock_0.1.0_linux_amd64.tar.gz\n": {"airlock_0.1.0_linux_amd64.tar.gz": hexA},
		hexA + " *airlock_0.1.0_windows_amd64.zip\n":  {"airlock_0.1.0_windows_amd64.zip": hexA},
	}
	for in, want := range good {
		got, err := ParseSums([]byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(got) != len(want) || got[sortedKeys(want)[0]] != want[sortedKeys(want)[0]] {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{
		"",
		hexA + "  a",                    // no final newline
		strings.ToUpper(hexA) + "  a\n", // sha256sum writes lower case
		hexA[:63] + "  a\n",             // not a sha256
		hexA + "  dir/a\n",              // a folder
		"\\" + hexA + "  a\\nb\n",       // sha256sum's escaped names
		hexA + "  a\n" + hexA + "  a\n", // twice
		hexA + "\ta\n",                  // not sha256sum's separator
		hexA + "  a\r\n",                // CRLF
		hexA + "  a\n\n",                // empty line
		"SHA256 (a) = " + hexA + "\n",   // BSD format
		hexA + "  a b\n",                // space in the name
		hexA + "  " + strings.Repeat("é", 2) + "\n", // outside the archive names' alphabet
	} {
		if _, err := ParseSums([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// FuzzParseSums: whatever parses formats back to a file that parses to
// the same checksums, and Format's output is its own fixed point.
func FuzzParseSums(f *testing.F) {
	f.Add([]byte(hexA + "  airlock_0.1.0_linux_amd64.tar.gz\n" + hexA + " *b.zip\n"))
	f.Add([]byte(""))
	f.Add([]byte(hexA + "  a\n" + hexA + "  a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSums(data)
		if err != nil {
			return
		}
		out := s.Format()
		s2, err := ParseSums(out)
		if err != nil {
			t.Fatalf("Format wrote %q, which does not parse: %v", out, err)
		}
		if len(s2) != len(s) {
			t.Fatalf("round trip changed %v into %v", s, s2)
		}
		for k, v := range s {
			if s2[k] != v {
				t.Fatalf("round trip changed %s: %s → %s", k, v, s2[k])
			}
		}
		if !bytes.Equal(s2.Format(), out) {
			t.Fatalf("Format is not stable: %q then %q", out, s2.Format())
		}
	})
}

// fakeDist writes small stand-ins for every archive of version and their
// SHA256SUMS into a new folder.
func fakeDist(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	s := Sums{}
	for _, tg := range Targets {
		name := tg.Archive(version)
		data := []byte("archive " + name)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		s[name] = hex.EncodeToString(sum[:])
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), s.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRecordThenCompare(t *testing.T) {
	dist := fakeDist(t, "v0.3.0")
	rel := t.TempDir()
	tag, err := Record(dist, rel)
	if err != nil || tag != "v0.3.0" {
		t.Fatalf("Record = %q, %v", tag, err)
	}
	if v, _ := os.ReadFile(filepath.Join(rel, VersionFile)); string(v) != "v0.3.0\n" {
		t.Errorf("release/VERSION = %q", v)
	}
	if err := Compare(dist, rel, ""); err != nil {
		t.Errorf("Compare right after Record: %v", err)
	}
	if err := Compare(dist, rel, "v0.3.0"); err != nil {
		t.Errorf("Compare with the recorded tag: %v", err)
	}
	if err := Compare(dist, rel, "v0.3.1"); err == nil || !strings.Contains(err.Error(), "v0.3.1") {
		t.Errorf("Compare with another tag: %v", err)
	}

	// A rebuild whose bytes differ (and whose SHA256SUMS says so).
	other := fakeDist(t, "v0.3.0")
	name := Targets[0].Archive("v0.3.0")
	os.WriteFile(filepath.Join(other, name), []byte("rebuilt differently"), 0o644)
	s, _ := ReadSums(filepath.Join(other, SumsFile))
	sum := sha256.Sum256([]byte("rebuilt differently"))
	s[name] = hex.EncodeToString(sum[:])
	os.WriteFile(filepath.Join(other, SumsFile), s.Format(), 0o644)
	if err := Compare(other, rel, "v0.3.0"); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("Compare with a differing archive: %v, want it named", err)
	}

	// A dist folder whose file does not match its own SHA256SUMS.
	os.WriteFile(filepath.Join(dist, name), []byte("tampered"), 0o644)
	if _, _, err := CheckDist(dist); err == nil {
		t.Error("CheckDist accepted a file that does not match SHA256SUMS")
	}
	if _, err := Record(dist, t.TempDir()); err == nil {
		t.Error("Record accepted a file that does not match SHA256SUMS")
	}
}

func TestRecordRefusesPartialRelease(t *testing.T) {
	dist := fakeDist(t, "v0.3.0")
	s, _ := ReadSums(filepath.Join(dist, SumsFile))
	delete(s, Targets[len(Targets)-1].Archive("v0.3.0"))
	os.WriteFile(filepath.Join(dist, SumsFile), s.Format(), 0o644)
	if _, err := Record(dist, t.TempDir()); err == nil {
		t.Error("Record accepted a release without every target")
	}
}

// TestRecordedRelease checks the repository's own record: release/VERSION
// is a tag and release/SHA256SUMS lists exactly its archives. (Whether the
// current source still builds them is make release-check's question; it
// does not after any change to the source since the release.)
func TestRecordedRelease(t *testing.T) {
	tag, s, err := ReadRecorded(filepath.Join("..", "..", "release"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != len(Targets) {
		t.Errorf("%s records %d archives", tag, len(s))
	}
}
