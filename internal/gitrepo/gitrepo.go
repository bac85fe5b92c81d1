// Package gitrepo reads the commit a git checkout is at, from the files in
// .git without running git, and (running git status) whether the checkout
// differs from that commit.
package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotRepository is returned for a folder outside any git checkout.
var ErrNotRepository = errors.New("not in a git checkout")

var objectID = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Head returns the commit id HEAD points at in the checkout holding dir.
func Head(dir string) (string, error) {
	gitDir, common, _, err := find(dir)
	if err != nil {
		return "", err
	}
	head, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", err
	}
	ref := strings.TrimSpace(string(head))
	for range 10 { // symbolic refs may chain; bound the chain
		name, ok := strings.CutPrefix(ref, "ref: ")
		if !ok {
			break
		}
		ref, err = resolveRef(gitDir, common, strings.TrimSpace(name))
		if err != nil {
			return "", err
		}
	}
	if !objectID.MatchString(ref) {
		return "", fmt.Errorf("HEAD in %s is not a commit id", gitDir)
	}
	return ref, nil
}

// find returns the git folder for dir, the common folder holding refs
// (they differ in linked worktrees), and the top folder of the checkout.
func find(dir string) (gitDir, common, top string, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", "", "", err
	}
	for {
		p := filepath.Join(dir, ".git")
		st, err := os.Stat(p)
		if err == nil {
			if st.IsDir() {
				return p, p, dir, nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return "", "", "", err
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
			if !ok {
				return "", "", "", fmt.Errorf("%s: not a gitdir file", p)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			common = target
			if c, err := os.ReadFile(filepath.Join(target, "commondir")); err == nil {
				common = strings.TrimSpace(string(c))
				if !filepath.IsAbs(common) {
					common = filepath.Join(target, common)
				}
			}
			return target, common, dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", "", ErrNotRepository
		}
		dir = parent
	}
}

func resolveRef(gitDir, common, name string) (string, error) {
	if strings.Contains(name, "..") {
		return "", fmt.Errorf("suspicious ref %q", name)
	}
	for _, d := range []string{gitDir, common} {
		if data, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(name))); err == nil {
			return strings.TrimSpace(string(data)), nil
		}
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return "", fmt.Errorf("ref %s not found", name)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, ref, ok := strings.Cut(sc.Text(), " ")
		if ok && ref == name && objectID.MatchString(id) {
			return id, nil
		}
	}
	return "", fmt.Errorf("ref %s not found (an unborn branch has no commit yet)", name)
}
