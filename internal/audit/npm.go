package audit

import (
	"encoding/json"
	"path"
	"strings"
)

// packageJSON is what the rules read of a package.json.
type packageJSON struct {
	path           string
	lines          []string
	Scripts        map[string]string `json:"scripts"`
	PackageManager string            `json:"packageManager"`
	DevEngines     struct {
		PackageManager json.RawMessage `json:"packageManager"`
		Runtime        json.RawMessage `json:"runtime"`
	} `json:"devEngines"`
	Engines struct {
		Node string `json:"node"`
	} `json:"engines"`
	Volta struct {
		Node string `json:"node"`
	} `json:"volta"`
	PublishConfig map[string]json.RawMessage `json:"publishConfig"`
}

// npmManaged reports whether package.json names npm as the package
// manager (packageManager, or devEngines.packageManager).
func (p *packageJSON) npmManaged() bool {
	if strings.HasPrefix(p.PackageManager, "npm@") || p.PackageManager == "npm" {
		return true
	}
	var one struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(p.DevEngines.PackageManager, &one) == nil && one.Name == "npm" {
		return true
	}
	var many []struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(p.DevEngines.PackageManager, &many) == nil && len(many) > 0 && many[0].Name == "npm" {
		return true
	}
	return false
}

// lineOf finds the first line holding s, from 1; 1 when none does.
func (p *packageJSON) lineOf(s string) int {
	for i, l := range p.lines {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 1
}

func (a *auditor) loadPackage() {
	a.pkg = a.packageAt("")
}

// packageAt reads dir/package.json, once; nil when there is none or it is
// not JSON (pack and publish report that; the audit has nothing to add).
func (a *auditor) packageAt(dir string) *packageJSON {
	dir = cleanDir(dir)
	if a.packages == nil {
		a.packages = map[string]*packageJSON{}
	}
	if p, ok := a.packages[dir]; ok {
		return p
	}
	a.packages[dir] = nil
	name := path.Join(dir, "package.json")
	src, ok, err := a.readFile(name)
	if !ok || err != nil {
		return nil
	}
	p := &packageJSON{path: name, lines: strings.Split(string(src), "\n")}
	if json.Unmarshal(src, p) != nil {
		return nil
	}
	a.packages[dir] = p
	if _, seen := a.files[name]; !seen {
		a.order = append(a.order, name)
		a.files[name] = nil
	}
	return p
}

// cleanDir makes a working-directory relative to the root; expressions
// and absolute paths are not followed.
func cleanDir(dir string) string {
	if strings.Contains(dir, "${{") || strings.HasPrefix(dir, "/") || strings.HasPrefix(dir, "$") {
		return ""
	}
	dir = path.Clean("/" + dir)
	return strings.TrimPrefix(dir, "/")
}

// nodeVersionFile reads a node-version-file as setup-node does: a
// version file's first line, or package.json's volta.node,
// devEngines.runtime or engines.node.
func (a *auditor) nodeVersionFile(name string) (string, bool) {
	name = cleanDir(name)
	if path.Base(name) == "package.json" {
		p := a.packageAt(path.Dir(name))
		if p == nil {
			return "", false
		}
		if p.Volta.Node != "" {
			return p.Volta.Node, true
		}
		var rt struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		if json.Unmarshal(p.DevEngines.Runtime, &rt) == nil && rt.Name == "node" && rt.Version != "" {
			return rt.Version, true
		}
		if p.Engines.Node != "" {
			return p.Engines.Node, true
		}
		return "", false
	}
	src, ok, err := a.readFile(name)
	if !ok || err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if v, ok := strings.CutPrefix(line, "nodejs "); ok {
			return strings.TrimSpace(v), true
		}
		if path.Base(name) == ".tool-versions" {
			continue
		}
		return line, true
	}
	return "", false
}

// npmrcToken is a token setting in an npmrc.
type npmrcToken struct {
	path string
	line int
	key  string
	sev  Severity
}

// npmrcFor returns the token settings in the npmrc files a publish step
// reads from the repository (the root's and the working directory's),
// and credential keys in the package's publishConfig.
func (a *auditor) npmrcFor(st *step) []npmrcToken {
	dirs := []string{""}
	for _, n := range []string{st.s.WorkingDirectory.Str(), st.job.j.WorkingDirectory.Str()} {
		if d := cleanDir(n); d != "" {
			dirs = append(dirs, d)
			break
		}
	}
	var out []npmrcToken
	for _, dir := range dirs {
		name := path.Join(dir, ".npmrc")
		src, ok, err := a.readFile(name)
		if !ok || err != nil {
			continue
		}
		if _, seen := a.files[name]; !seen {
			a.order = append(a.order, name)
			a.files[name] = nil
		}
		for i, line := range strings.Split(string(src), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' || line[0] == ';' {
				continue
			}
			key, value, _ := strings.Cut(line, "=")
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			if !strings.HasSuffix(key, "_authToken") && !strings.HasSuffix(key, "_auth") && !strings.HasSuffix(key, "_password") {
				continue
			}
			sev := High
			if strings.HasPrefix(value, "${") {
				// A slot for a token from the environment.
				sev = Medium
			}
			out = append(out, npmrcToken{path: name, line: i + 1, key: key, sev: sev})
		}
		if p := a.packageAt(dir); p != nil {
			for k := range p.PublishConfig {
				if strings.HasSuffix(k, "_authToken") || strings.HasSuffix(k, "_auth") || strings.HasSuffix(k, "_password") {
					out = append(out, npmrcToken{path: p.path, line: p.lineOf(`"` + k + `"`), key: "publishConfig " + k, sev: Medium})
				}
			}
		}
	}
	return out
}
