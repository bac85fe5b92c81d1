// Package devtools finds the tools `make deps` installs for the tests
// (Verdaccio, the Sigstore servers) and starts and stops their processes
// as a group.
package devtools

import (
	"errors"
	"os"
	"path/filepath"
)

// Dir is where a tool is installed: $envVar when set, else
// .cache/tools/name at the root of the module the test runs in.
func Dir(envVar, name string) (string, error) {
	if d := os.Getenv(envVar); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "tools", name), nil
}

// RepoRoot is the nearest folder above the working directory that holds
// a go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
