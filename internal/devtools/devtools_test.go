package devtools

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	t.Setenv("AIRLOCK_TEST_TOOL", "/opt/tool")
	if d, err := Dir("AIRLOCK_TEST_TOOL", "tool"); err != nil || d != "/opt/tool" {
		t.Fatalf("Dir with the variable set = %q, %v", d, err)
	}
	t.Setenv("AIRLOCK_TEST_TOOL", "")
	d, err := Dir("AIRLOCK_TEST_TOOL", "tool")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(d))
	root = filepath.Dir(root)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil || filepath.Base(d) != "tool" {
		t.Fatalf("Dir = %q, want .cache/tools/tool under the module root", d)
	}
}
