package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// NPM is an npm installation, for the variables npm exports about itself.
type NPM struct {
	// Node is the node binary running npm: NODE and npm_node_execpath.
	Node string
	// CLI is npm's bin/npm-cli.js: npm_execpath.
	CLI string
	// Version is npm's version: npm_config_npm_version.
	Version string
	// NodeGyp is npm's bundled node-gyp.js, or "": npm_config_node_gyp.
	NodeGyp string
	// NodeGypBin is run-script's node-gyp-bin folder, or "": put on PATH.
	NodeGypBin string
}

// LocateNPM finds the npm and node a user would run with env: the first
// "npm" and "node" on env's PATH, symlinks resolved (node reports its
// resolved path as process.execPath). Paths that are not there are left
// empty rather than guessed.
func LocateNPM(env []string) (*NPM, error) {
	pathList := newEnvList(env).vals["PATH"]
	node, err := findInPath("node", pathList)
	if err != nil {
		return nil, fmt.Errorf("locating node: %w", err)
	}
	npmBin, err := findInPath("npm", pathList)
	if err != nil {
		return nil, fmt.Errorf("locating npm: %w", err)
	}
	root := ""
	if filepath.Base(npmBin) == "npm-cli.js" {
		root = filepath.Dir(filepath.Dir(npmBin))
	} else {
		// A wrapper script next to node, as some installers make: the
		// usual prefix layout has npm in ../lib/node_modules/npm.
		root = filepath.Join(filepath.Dir(filepath.Dir(npmBin)), "lib", "node_modules", "npm")
	}
	n := &NPM{Node: node, CLI: filepath.Join(root, "bin", "npm-cli.js"), Version: "unknown"}
	if !isFile(n.CLI) {
		return nil, fmt.Errorf("locating npm: no npm-cli.js for %s", npmBin)
	}
	var pkg struct{ Name, Version string }
	if b, err := os.ReadFile(filepath.Join(root, "package.json")); err == nil && json.Unmarshal(b, &pkg) == nil {
		if pkg.Name != "npm" {
			return nil, fmt.Errorf("locating npm: %s is not npm's folder", root)
		}
		if pkg.Version != "" {
			n.Version = pkg.Version
		}
	}
	if p := filepath.Join(root, "node_modules", "node-gyp", "bin", "node-gyp.js"); isFile(p) {
		n.NodeGyp = p
	}
	if p := filepath.Join(root, "node_modules", "@npmcli", "run-script", "lib", "node-gyp-bin"); isDir(p) {
		n.NodeGypBin = p
	}
	return n, nil
}

func findInPath(name, pathList string) (string, error) {
	for _, d := range filepath.SplitList(pathList) {
		if d == "" || !filepath.IsAbs(d) {
			continue // a relative entry would depend on the working directory
		}
		p := filepath.Join(d, name)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", err
		}
		return real, nil
	}
	if strings.TrimSpace(pathList) == "" {
		return "", errors.New("no PATH")
	}
	return "", fmt.Errorf("%s not found in PATH", name)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
