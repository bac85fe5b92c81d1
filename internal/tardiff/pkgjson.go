package tardiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/airlockdev/airlock/internal/registry"
)

// installScripts are the scripts npm runs when a package is installed
// (prepare for git and local installs), in the order it runs them.
var installScripts = []string{"preinstall", "install", "postinstall", "prepare"}

// dependencyFields are the dependencies a consumer's install fetches.
var dependencyFields = []string{"dependencies", "optionalDependencies", "peerDependencies"}

// entryFields decide which file runs when the package is required or
// imported.
var entryFields = []string{"main", "exports", "module", "browser"}

// shown makes a value from a tarball safe for a terminal and short.
func shown(s string) string { return registry.Sanitize(s, nil) }

// topFields decodes package.json's top level; inspection has parsed it
// already, so a failure here leaves the fields empty.
func topFields(b []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

// CompactJSON is a field's value as compact JSON, "" when absent; a
// value that is not valid JSON is returned as it is.
func CompactJSON(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// specs reads a dependency object: name to spec. A value that is not a
// string is kept as its JSON, which npm would refuse to install anyway.
func specs(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = CompactJSON(v)
		}
		out[k] = s
	}
	return out
}

// manifestSignals compares the package.json of old and new.
func manifestSignals(old, new *Package, changed map[string]bool) []Signal {
	var out []Signal
	add := func(kind string, sev Severity, field, oldV, newV, msg string) {
		out = append(out, Signal{ID: signalID(kind, field), Kind: kind, Severity: sev, File: "package.json", Field: field,
			Old: shown(oldV), New: shown(newV), Message: msg})
	}
	om, nm := old.Manifest, new.Manifest
	ot, nt := topFields(old.PackageJSON), topFields(new.PackageJSON)

	for _, name := range installScripts {
		o, n := om.Scripts[name], nm.Scripts[name]
		field := "scripts." + name
		switch {
		case o == n:
		case o == "":
			add(KindInstallScript, High, field, "", n, fmt.Sprintf("%s added: npm runs it on install: %q", field, shown(n)))
		case n == "":
			add(KindInstallScriptRemoved, Info, field, o, "", field+" removed")
		default:
			add(KindInstallScript, High, field, o, n, fmt.Sprintf("%s changed: %q, was %q", field, shown(n), shown(o)))
		}
	}
	newGyp := implicitGyp(new, nt) && !implicitGyp(old, ot)
	if newGyp {
		out = append(out, Signal{ID: signalID(KindImplicitInstallScript, "binding.gyp"), Kind: KindImplicitInstallScript, Severity: High,
			File: "binding.gyp", Field: "scripts.install", New: "node-gyp rebuild",
			Message: "binding.gyp is new and package.json has no install or preinstall script: npm runs node-gyp rebuild on install, compiling and running the package's build"})
	}
	out = append(out, installFileSignals(new, nt, changed, newGyp)...)

	for _, cmd := range slices.Sorted(maps.Keys(nm.Bin)) {
		o, had := om.Bin[cmd]
		n := nm.Bin[cmd]
		switch {
		case !had:
			add(KindBinAdded, Medium, "bin."+cmd, "", n, fmt.Sprintf("command %q added, running %s", shown(cmd), shown(n)))
		case o != n:
			add(KindBinChanged, Medium, "bin."+cmd, o, n, fmt.Sprintf("command %q now runs %s, was %s", shown(cmd), shown(n), shown(o)))
		}
	}
	for _, cmd := range slices.Sorted(maps.Keys(om.Bin)) {
		if _, ok := nm.Bin[cmd]; !ok {
			add(KindBinRemoved, Info, "bin."+cmd, om.Bin[cmd], "", fmt.Sprintf("command %q removed", shown(cmd)))
		}
	}

	for _, fieldName := range dependencyFields {
		was, ns := specs(ot[fieldName]), specs(nt[fieldName])
		for _, dep := range slices.Sorted(maps.Keys(ns)) {
			n := ns[dep]
			o, had := was[dep]
			field := fieldName + "." + dep
			what := "added"
			if had {
				if o == n {
					continue
				}
				what = "changed from " + shown(o)
			}
			switch kind := ClassifySpec(n); kind {
			case SpecGit:
				add(KindDependencySource, High, field, o, n, fmt.Sprintf("%s %s (%s) is fetched from git, outside the registry: no integrity the registry vouches for, and npm runs its prepare script on install", fieldName, shown(dep), what))
			case SpecURL:
				add(KindDependencySource, High, field, o, n, fmt.Sprintf("%s %s (%s) is fetched from a URL, outside the registry: no integrity the registry vouches for", fieldName, shown(dep), what))
			case SpecFile:
				add(KindDependencySource, High, field, o, n, fmt.Sprintf("%s %s (%s) is a local path: it installs whatever the installing machine has there", fieldName, shown(dep), what))
			case SpecAlias:
				add(KindDependencyAlias, Medium, field, o, n, fmt.Sprintf("%s %s (%s) is an alias of another package: %s", fieldName, shown(dep), what, shown(n)))
			default:
				if had {
					add(KindDependencyChanged, Low, field, o, n, fmt.Sprintf("%s %s re-ranged: %s, was %s", fieldName, shown(dep), shown(n), shown(o)))
				} else {
					add(KindDependencyAdded, Medium, field, "", n, fmt.Sprintf("%s %s added (%s)", fieldName, shown(dep), shown(n)))
				}
			}
		}
		for _, dep := range slices.Sorted(maps.Keys(was)) {
			if _, ok := ns[dep]; !ok {
				add(KindDependencyRemoved, Info, fieldName+"."+dep, was[dep], "", fmt.Sprintf("%s %s removed", fieldName, shown(dep)))
			}
		}
	}
	oldBundled := map[string]bool{}
	for _, d := range om.BundleDependencies {
		oldBundled[d] = true
	}
	for _, d := range nm.BundleDependencies {
		if !oldBundled[d] {
			add(KindBundledDependency, Medium, "bundleDependencies."+d, "", d, fmt.Sprintf("%s is bundled: its files ship inside this tarball, not from the registry", shown(d)))
		}
	}

	for _, f := range entryFields {
		o, n := CompactJSON(ot[f]), CompactJSON(nt[f])
		if o != n {
			add(KindEntryPoint, Medium, f, o, n, fmt.Sprintf("%s changed: what runs on require or import is %s, was %s", f, orNone(shown(n)), orNone(shown(o))))
		}
	}
	if o, n := CompactJSON(ot["files"]), CompactJSON(nt["files"]); o != n {
		add(KindFilesField, Low, "files", o, n, fmt.Sprintf("files changed: %s, was %s", orNone(shown(n)), orNone(shown(o))))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// implicitGyp is npm's gypfile rule: a binding.gyp at the top and no
// install or preinstall script make the install run node-gyp rebuild,
// unless "gypfile" is false.
func implicitGyp(p *Package, top map[string]json.RawMessage) bool {
	if p.Manifest.Scripts["install"] != "" || p.Manifest.Scripts["preinstall"] != "" || CompactJSON(top["gypfile"]) == "false" {
		return false
	}
	for _, f := range p.Files {
		if f.Path == "binding.gyp" {
			return true
		}
	}
	return false
}

// installFileSignals finds install scripts that run a file this release
// adds or changes: the script's text is unchanged, what it runs is not.
func installFileSignals(p *Package, top map[string]json.RawMessage, changed map[string]bool, gypReported bool) []Signal {
	var out []Signal
	seen := map[string]bool{}
	for _, name := range installScripts {
		script := p.Manifest.Scripts[name]
		for _, tok := range strings.FieldsFunc(script, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\n' || r == ';' || r == '&' || r == '|' || r == '(' || r == ')' || r == '<' || r == '>' || r == '=' || r == '`'
		}) {
			tok = strings.Trim(tok, `'"`)
			if tok == "" || strings.HasPrefix(tok, "-") {
				continue
			}
			f := path.Clean(strings.TrimPrefix(tok, "./"))
			if !changed[f] || seen[f] {
				continue
			}
			seen[f] = true
			out = append(out, Signal{ID: signalID(KindInstallScriptFile, f), Kind: KindInstallScriptFile, Severity: High, File: f, Field: "scripts." + name,
				Message: fmt.Sprintf("scripts.%s runs %s, which this release adds or changes", name, f)})
		}
	}
	if !gypReported && implicitGyp(p, top) && changed["binding.gyp"] && !seen["binding.gyp"] {
		out = append(out, Signal{ID: signalID(KindInstallScriptFile, "binding.gyp"), Kind: KindInstallScriptFile, Severity: High, File: "binding.gyp", Field: "scripts.install",
			Message: "binding.gyp, which node-gyp builds on install, is changed"})
	}
	return out
}
