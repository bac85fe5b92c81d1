package gitrepo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestHeadMatchesGit(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	if _, err := Head(dir); err == nil {
		t.Fatal("Head of a repository without commits succeeded")
	}
	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	git(t, dir, "add", "a")
	git(t, dir, "commit", "-qm", "one")
	sub := filepath.Join(dir, "pkg", "deep")
	os.MkdirAll(sub, 0o755)
	got, err := Head(sub)
	if err != nil {
		t.Fatal(err)
	}
	if want := git(t, dir, "rev-parse", "HEAD"); got != want {
		t.Fatalf("Head = %s, git says %s", got, want)
	}

	// Packed refs, as after git gc.
	git(t, dir, "pack-refs", "--all")
	if got2, err := Head(dir); err != nil || got2 != got {
		t.Fatalf("after pack-refs: Head = %s, %v", got2, err)
	}

	// A detached HEAD and a linked worktree.
	git(t, dir, "checkout", "-q", "--detach")
	if got3, err := Head(dir); err != nil || got3 != got {
		t.Fatalf("detached: Head = %s, %v", got3, err)
	}
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, dir, "worktree", "add", "-q", "-b", "other", wt)
	os.WriteFile(filepath.Join(wt, "b"), []byte("b"), 0o644)
	git(t, wt, "add", "b")
	git(t, wt, "commit", "-qm", "two")
	got4, err := Head(wt)
	if err != nil {
		t.Fatal(err)
	}
	if want := git(t, wt, "rev-parse", "HEAD"); got4 != want {
		t.Fatalf("worktree: Head = %s, git says %s", got4, want)
	}
}

func TestHeadOutsideRepository(t *testing.T) {
	if _, err := Head(t.TempDir()); !errors.Is(err, ErrNotRepository) {
		t.Fatalf("Head outside a checkout = %v, want ErrNotRepository", err)
	}
}
