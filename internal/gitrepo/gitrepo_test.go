package gitrepo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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

func TestStatusMatchesGit(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	status := func(t *testing.T, in string, env []string) *Changes {
		t.Helper()
		c, err := Status(t.Context(), in, env)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	git(t, dir, "init", "-q")
	os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "b"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("ignored/\n"), 0o644)
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "one")
	sub := filepath.Join(dir, "pkg")
	os.MkdirAll(filepath.Join(dir, "ignored"), 0o755)
	os.WriteFile(filepath.Join(dir, "ignored", "x"), []byte("x"), 0o644)
	os.MkdirAll(sub, 0o755)

	c := status(t, sub, env)
	if c.Top != dir || len(c.Tracked) != 0 || len(c.Untracked) != 0 {
		t.Fatalf("clean checkout: %+v", c)
	}

	// Untracked files are listed one by one, from the top, with odd names
	// intact; ignored ones are not.
	odd := "new\nline and space"
	os.WriteFile(filepath.Join(sub, odd), nil, 0o644)
	c = status(t, sub, env)
	if want := []string{"pkg/" + odd}; !reflect.DeepEqual(c.Untracked, want) || len(c.Tracked) != 0 {
		t.Fatalf("untracked: %+v, want untracked %q", c, want)
	}
	os.Remove(filepath.Join(sub, odd))

	// A change in the worktree, one only in the index, and a rename.
	os.WriteFile(filepath.Join(dir, "a"), []byte("changed"), 0o644)
	c = status(t, sub, env)
	if !reflect.DeepEqual(c.Tracked, []string{"a"}) {
		t.Fatalf("worktree change: %+v", c)
	}
	git(t, dir, "add", "a")
	git(t, dir, "mv", "b", "c")
	c = status(t, dir, env)
	if !reflect.DeepEqual(c.Tracked, []string{"a", "c"}) || len(c.Untracked) != 0 {
		t.Fatalf("staged change and rename: %+v", c)
	}

	// GIT_DIR and GIT_INDEX_FILE in the environment do not point it at
	// another repository or index.
	other := t.TempDir()
	git(t, other, "init", "-q")
	c = status(t, dir, append(env, "GIT_DIR="+filepath.Join(other, ".git"), "GIT_INDEX_FILE="+filepath.Join(other, "index")))
	if !reflect.DeepEqual(c.Tracked, []string{"a", "c"}) {
		t.Fatalf("with GIT_DIR set: %+v", c)
	}

	// A linked worktree has its own index.
	git(t, dir, "commit", "-qm", "two")
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, dir, "worktree", "add", "-q", "-b", "other", wt)
	os.WriteFile(filepath.Join(wt, "a"), []byte("in the worktree"), 0o644)
	if c := status(t, wt, env); c.Top != wt || !reflect.DeepEqual(c.Tracked, []string{"a"}) {
		t.Fatalf("linked worktree: %+v", c)
	}
	if c := status(t, dir, env); len(c.Tracked) != 0 {
		t.Fatalf("main checkout after the worktree changed: %+v", c)
	}
}

func TestStatusWithoutGit(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	for _, path := range []string{"", t.TempDir(), "relative/bin"} {
		if _, err := Status(t.Context(), dir, []string{"PATH=" + path}); !errors.Is(err, ErrNoGit) {
			t.Errorf("Status with PATH=%q = %v, want ErrNoGit", path, err)
		}
	}
	if _, err := Status(t.Context(), t.TempDir(), []string{"PATH=" + os.Getenv("PATH")}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("Status outside a checkout = %v, want ErrNotRepository", err)
	}
}

func TestParsePorcelain(t *testing.T) {
	c, err := parsePorcelain([]byte(" M a\x00R  new\x00old\x00?? u v\x00A  added\x00 D gone\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Tracked, []string{"a", "new", "added", "gone"}) || !reflect.DeepEqual(c.Untracked, []string{"u v"}) {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := parsePorcelain([]byte("garbage\x00")); err == nil {
		t.Error("parsePorcelain accepted garbage")
	}
}
