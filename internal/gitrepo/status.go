package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNoGit is returned by Status when no git program is on the PATH.
var ErrNoGit = errors.New("git is not on PATH")

// Changes is what `git status` reports for a checkout.
type Changes struct {
	// Top is the checkout's top folder, as found from the folder asked
	// about (the same walk Head does).
	Top string
	// Tracked are tracked paths whose index or worktree copy differs from
	// HEAD, anywhere in the checkout; Untracked are files neither tracked
	// nor ignored. Both are '/'-separated and relative to Top.
	Tracked, Untracked []string
}

// Status runs `git status` on the checkout holding dir, with env as the
// program's environment (git is looked up in its PATH).
//
// Unlike Head this starts a process. Telling a changed file from an
// unchanged one takes git's own index reading: stat data and racy
// timestamps, index versions and extensions (split, sparse, untracked
// cache), clean filters and line-ending conversion. A second reader of
// that would disagree with git sooner or later, and callers run only where
// running programs is allowed (the pack job). The repository is named
// explicitly and the fsmonitor hook, which a repository's config could
// point at any program, is switched off; no lock is taken.
func Status(ctx context.Context, dir string, env []string) (*Changes, error) {
	gitDir, _, top, err := find(dir)
	if err != nil {
		return nil, err
	}
	git, err := lookGit(env)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, git,
		"--git-dir="+gitDir, "--work-tree="+top, "--no-optional-locks",
		"-c", "core.fsmonitor=false",
		"status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=none")
	cmd.Dir = top
	cmd.Env = gitEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			return nil, fmt.Errorf("git status: %v: %s", err, msg)
		}
		return nil, fmt.Errorf("git status: %w", err)
	}
	c, err := parsePorcelain(stdout.Bytes())
	if err != nil {
		return nil, err
	}
	c.Top = top
	return c, nil
}

// parsePorcelain reads `git status --porcelain=v1 -z`: "XY path" records,
// NUL-terminated, a rename or copy followed by its source path.
func parsePorcelain(out []byte) (*Changes, error) {
	c := &Changes{}
	recs := strings.Split(string(out), "\x00")
	for i := 0; i < len(recs); i++ {
		r := recs[i]
		if r == "" {
			continue
		}
		if len(r) < 4 || r[2] != ' ' {
			return nil, fmt.Errorf("git status: unexpected output %q", r)
		}
		xy, p := r[:2], r[3:]
		switch {
		case xy == "??":
			c.Untracked = append(c.Untracked, p)
		case xy == "!!":
			// ignored files are not asked for
		default:
			c.Tracked = append(c.Tracked, p)
			if xy[0] == 'R' || xy[0] == 'C' || xy[1] == 'R' || xy[1] == 'C' {
				i++ // the source of the rename or copy
			}
		}
	}
	return c, nil
}

// lookGit finds git in env's PATH, as a shell would.
func lookGit(env []string) (string, error) {
	name := "git"
	if runtime.GOOS == "windows" {
		name = "git.exe"
	}
	for _, d := range filepath.SplitList(lookupEnv(env, "PATH")) {
		if d == "" || !filepath.IsAbs(d) {
			continue // a relative PATH entry would run a program from the checkout
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode()&0o111 != 0) {
			return p, nil
		}
	}
	return "", ErrNoGit
}

func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// gitEnv is env without the variables that would make git read another
// repository, index or object store than the one named on its command line.
func gitEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE":
			continue
		}
		out = append(out, kv)
	}
	return out
}
