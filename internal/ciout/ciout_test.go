package ciout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendGitHubKeepsExistingLinesAndQuotesMultiline(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(p, []byte("before=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := AppendGitHub(p, []Output{{"tarball", "a.tgz"}, {"note", "x\ny"}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != "before=1" || lines[1] != "tarball=a.tgz" {
		t.Fatalf("got %q", data)
	}
	if !strings.HasPrefix(lines[2], "note<<AIRLOCK_EOF_") || lines[3] != "x" || lines[4] != "y" || lines[5] != strings.TrimPrefix(lines[2], "note<<") {
		t.Fatalf("multi-line value not in heredoc form: %q", data)
	}
}

func TestWriteDotenvRejectsWhatGitLabCannotRead(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDotenv(filepath.Join(dir, "a"), []Output{{"AIRLOCK_X", "1"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "a"))
	if string(data) != "AIRLOCK_X=1\n" {
		t.Fatalf("got %q", data)
	}
	if WriteDotenv(filepath.Join(dir, "b"), []Output{{"bad-name", "1"}}) == nil {
		t.Fatal("accepted a variable name with a hyphen")
	}
	if WriteDotenv(filepath.Join(dir, "c"), []Output{{"X", "a\nb"}}) == nil {
		t.Fatal("accepted a multi-line value")
	}
}
