package reproduce

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrNoGit: git is not on the PATH of the environment given.
var ErrNoGit = errors.New("git is not on PATH")

var commitID = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// git runs git in dir with env (its PATH finds git). The repository's own
// configuration cannot name programs for it to run here: hooks are not
// cloned, fsmonitor is off, and no filter or credential helper comes from
// a clone.
type git struct {
	path string
	env  []string
}

func findGit(env []string) (*git, error) {
	for _, d := range filepath.SplitList(lookup(env, "PATH")) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, "git")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return &git{path: p, env: gitEnv(env)}, nil
		}
	}
	return nil, ErrNoGit
}

func lookup(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// gitEnv drops what would point git at another repository, and asks
// it never to prompt.
func gitEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GIT_TERMINAL_PROMPT=0")
}

func (g *git) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	full := append([]string{"-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never",
		"-c", "advice.detachedHead=false"}, args...)
	cmd := exec.CommandContext(ctx, g.path, full...)
	cmd.Dir = dir
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return stdout.Bytes(), nil
}

// checkout fetches commit from url into dir, a new empty folder, and
// checks it out. Only that commit is fetched, as a shallow clone; a
// server that refuses to serve a commit by id gets a full clone.
func (g *git) checkout(ctx context.Context, dir, url, commit string) (string, error) {
	if !commitID.MatchString(commit) {
		return "", fmt.Errorf("%q is not a commit id (7 to 64 hexadecimal digits, lower case)", commit)
	}
	if strings.HasPrefix(url, "-") {
		return "", fmt.Errorf("%q is not a repository URL", url)
	}
	if _, err := g.run(ctx, dir, "init", "--quiet", "."); err != nil {
		return "", err
	}
	if _, err := g.run(ctx, dir, "fetch", "--quiet", "--depth=1", "--no-tags", "--", url, commit); err != nil {
		// Fetching a commit by id needs uploadpack.allowReachableSHA1InWant
		// or a full id on most servers; fall back to everything.
		if _, err2 := g.run(ctx, dir, "fetch", "--quiet", "--no-tags", "--", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err2 != nil {
			return "", fmt.Errorf("fetching %s from %s: %w", commit, url, err)
		}
		if _, err := g.run(ctx, dir, "cat-file", "-e", commit+"^{commit}"); err != nil {
			return "", fmt.Errorf("fetching %s from %s: the repository has no such commit on its branches or tags", commit, url)
		}
	}
	if _, err := g.run(ctx, dir, "checkout", "--quiet", "--detach", commit); err != nil {
		return "", fmt.Errorf("checking out %s: %w", commit, err)
	}
	head, err := g.run(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	full := strings.TrimSpace(string(head))
	if !strings.HasPrefix(full, commit) {
		return "", fmt.Errorf("checked out %s, not %s", full, commit)
	}
	return full, nil
}

// tree lists the blobs of HEAD under prefix (a folder of the checkout,
// "" for all): path below prefix to git blob id. ok is false outside a
// git checkout.
func (g *git) tree(ctx context.Context, dir string) (blobs map[string]string, head string, ok bool) {
	top, err := g.run(ctx, dir, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, "", false
	}
	prefix := strings.TrimSpace(string(top))
	h, err := g.run(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return nil, "", false
	}
	out, err := g.run(ctx, dir, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
	if err != nil {
		return nil, "", false
	}
	blobs = map[string]string{}
	for _, rec := range strings.Split(string(out), "\x00") {
		meta, p, found := strings.Cut(rec, "\t")
		if !found {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 3 || f[1] != "blob" {
			continue
		}
		if rel, in := strings.CutPrefix(p, prefix); in {
			blobs[rel] = f[2]
		}
	}
	return blobs, strings.TrimSpace(string(h)), true
}

// blobID is git's id of a file's contents (sha1; a sha256 repository
// has 64-digit ids, compared by length).
func blobID(data []byte, hexLen int) string {
	if hexLen == 64 {
		return sha256Blob(data)
	}
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Blob(data []byte) string {
	h := sha256.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Equal(data []byte, d [sha256.Size]byte) bool { return sha256.Sum256(data) == d }
