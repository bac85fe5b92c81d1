package lifecycle

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The environment a script gets, in the order npm assembles it:
//
//  1. Runner.Env, standing in for npm's process.env.
//  2. With Runner.NPM, what the npm CLI adds to its own environment at
//     startup (@npmcli/config set-envs.js, lib/npm.js): EDITOR, NODE,
//     npm_node_execpath, npm_execpath, npm_config_node_gyp,
//     npm_config_npm_version; and npm_command from Runner.Command.
//  3. extraEnv, then the package variables (run-script package-envs.js):
//     npm_package_name, npm_package_version, npm_package_config_*,
//     npm_package_engines_*, npm_package_bin_*. Nothing else from the
//     manifest is exported by npm 11.
//  4. make-spawn-args.js: npm_package_json, npm_lifecycle_event,
//     npm_lifecycle_script, npm_config_node_gyp.
//  5. set-path.js: every PATH-like variable becomes
//     <dir>/node_modules/.bin, <parent>/node_modules/.bin, ... up to
//     /node_modules/.bin, then npm's node-gyp-bin (only with Runner.NPM and
//     only if it exists), then the old value(s).
//
// Deliberately not exported, because they need npm's config files or a
// terminal, or name the wrong tool: the npm_config_* values npm derives
// from its config (npm_config_user_agent, _cache, _prefix,
// _global_prefix, _local_prefix, _userconfig, _globalconfig,
// _init_module, and any npmrc or CLI setting), INIT_CWD (the command
// layer can put it in Env), COLOR, and npm's rewrite of HOME (equal to
// HOME whenever HOME is set) and NODE_OPTIONS (only with --node-options).
func (r *Runner) environ(dir, event, script string, pkg *pkgView, extra map[string]string) *envList {
	env := newEnvList(r.Env)
	gypBin := ""
	if n := r.NPM; n != nil {
		editor := env.vals["EDITOR"]
		if editor == "" {
			editor = env.vals["VISUAL"]
		}
		if editor == "" {
			editor = "vi"
		}
		env.set("EDITOR", editor)
		if n.NodeGyp != "" {
			env.set("npm_config_node_gyp", n.NodeGyp)
		}
		env.set("npm_config_npm_version", n.Version)
		env.set("npm_execpath", n.CLI)
		env.set("NODE", n.Node)
		env.set("npm_node_execpath", n.Node)
		if n.NodeGypBin != "" && isDir(n.NodeGypBin) {
			gypBin = n.NodeGypBin
		}
	}
	if r.Command != "" {
		env.set("npm_command", r.Command)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		env.set(k, extra[k])
	}
	for _, kv := range pkg.env {
		env.set(kv[0], kv[1])
	}
	env.set("npm_package_json", filepath.Join(dir, "package.json"))
	env.set("npm_lifecycle_event", event)
	env.set("npm_lifecycle_script", script)
	if r.NPM != nil && r.NPM.NodeGyp != "" {
		env.set("npm_config_node_gyp", r.NPM.NodeGyp)
	}
	setPath(env, dir, gypBin)
	return env
}

// setPath is set-path.js: the values of all PATH-like variables are merged
// (dropping entries an earlier variable already had), prefixed, and
// written back to each of them. Without any PATH-like variable, npm adds
// none.
func setPath(env *envList, dir, gypBin string) {
	var keys []string
	for _, k := range env.keys {
		if strings.EqualFold(k, "path") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	sep := string(filepath.ListSeparator)
	var merged []string
	for _, k := range keys {
		v := env.vals[k]
		if v == "" {
			continue
		}
		var add []string
		for _, p := range strings.Split(v, sep) {
			if !slices.Contains(merged, p) {
				add = append(add, p)
			}
		}
		merged = append(merged, add...)
	}

	var parts []string
	for p := dir; ; {
		parts = append(parts, filepath.Join(p, "node_modules", ".bin"))
		up := filepath.Dir(p)
		if up == p {
			break
		}
		p = up
	}
	if gypBin != "" {
		parts = append(parts, gypBin)
	}
	// An empty old PATH still adds its (empty) entry, as npm's join does.
	parts = append(parts, strings.Join(merged, sep))
	val := strings.Join(parts, sep)
	for _, k := range keys {
		env.vals[k] = val
	}
}

// envList is an environment that keeps the order keys first appeared in;
// a later assignment replaces the value, like spreading JS objects.
type envList struct {
	keys []string
	vals map[string]string
}

func newEnvList(base []string) *envList {
	e := &envList{vals: make(map[string]string, len(base)+32)}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		e.set(k, v)
	}
	return e
}

func (e *envList) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// defaultPath is where libuv looks for the shell when the script's
// environment has no PATH (glibc's _PATH_DEFPATH).
const defaultPath = "/usr/bin:/bin"

// pathForLookup is the search path Node's spawn (libuv) uses for the
// shell: the child's own PATH, prefixes included.
func (e *envList) pathForLookup() string {
	if v, ok := e.vals["PATH"]; ok {
		return v
	}
	return defaultPath
}

// lookPath finds file the way execvp does, without reading the process
// environment. Empty entries mean the script's working directory; a
// relative result is relative to dir, as exec.Cmd.Path is.
func lookPath(file, pathList, dir string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		cand := d + "/" + file
		abs := cand
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, cand)
		}
		if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return cand, nil
		}
	}
	return "", fmt.Errorf("shell %q not found in PATH", file)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
