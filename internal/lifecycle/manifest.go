package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/manifest"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// ReadManifest reads dir/package.json as npm parses it (a leading byte
// order mark is ignored).
func ReadManifest(dir string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\uFEFF")), &m); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, "package.json"), err)
	}
	if m == nil {
		return nil, fmt.Errorf("parsing %s: not a JSON object", filepath.Join(dir, "package.json"))
	}
	return m, nil
}

// publishEvents get the manifest `npm publish` reads itself
// (@npmcli/package-json fix() then prepare()); every other event gets the
// one libnpmpack and pacote read (normalize()). The two differ in what
// run-script sees: fix/prepare trim the name, clean the version, default
// both to "" and strip a leading node_modules/.bin/ from scripts.
var publishEvents = map[string]bool{"prepublishOnly": true, "publish": true, "postpublish": true}

// pkgView is what run-script uses from a normalized manifest.
type pkgView struct {
	scripts map[string]string
	env     [][2]string // package-envs.js output, in npm's order
	id      string      // _id, "name@version" when both are set
}

// The order package-envs.js exports the manifest fields in.
var exportedFields = []string{"name", "version", "config", "engines", "bin"}

// scriptPathRE is package-json's "scriptpath" step, its unescaped dot
// included.
var scriptPathRE = regexp.MustCompile(`^(\.[/\\])?node_modules[/\\].bin[\\/]`)

func normalize(m map[string]any, dir, event string) (*pkgView, error) {
	publish := publishEvents[event]
	fields := make(map[string]any, len(exportedFields))
	for _, f := range exportedFields {
		if v, ok := m[f]; ok {
			fields[f] = v
		}
	}

	if publish {
		if !jsvalue.Truthy(fields["name"]) {
			fields["name"] = ""
		} else {
			name, ok := fields["name"].(string)
			if !ok {
				return nil, fmt.Errorf("name field must be a string")
			}
			name = jsvalue.Trim(name)
			if !validName(name) {
				return nil, fmt.Errorf("invalid name: %s", jsonString(name))
			}
			fields["name"] = name
		}
		if !jsvalue.Truthy(fields["version"]) {
			fields["version"] = ""
		} else {
			v, ok := cleanVersion(fields["version"])
			if !ok {
				return nil, fmt.Errorf("invalid version: %q", jsvalue.String(fields["version"]))
			}
			fields["version"] = v
		}
	}

	bin, err := normalizeBin(m, dir, publish)
	if err != nil {
		return nil, err
	}
	if bin == nil {
		delete(fields, "bin")
	} else {
		fields["bin"] = bin
	}

	view := &pkgView{scripts: map[string]string{}}
	if s, ok := m["scripts"].(map[string]any); ok {
		for k, v := range s {
			str, ok := v.(string)
			if !ok {
				continue
			}
			if publish {
				str = scriptPathRE.ReplaceAllLiteralString(str, "")
			}
			view.scripts[k] = str
		}
	}
	if jsvalue.Truthy(fields["name"]) && jsvalue.Truthy(fields["version"]) {
		view.id = jsvalue.String(fields["name"]) + "@" + jsvalue.String(fields["version"])
	}
	for _, f := range exportedFields {
		if v, ok := fields[f]; ok {
			packageEnvs(&view.env, "npm_package_"+f, v)
		}
	}
	return view, nil
}

// packageEnvs is package-envs.js for one key: null and false become "",
// arrays add _<index>, objects add _<key>. Object keys go in sorted order,
// since a Go map has lost the file's order; that only matters when two
// paths flatten to the same name (config {"a_b":1,"a":{"b":2}}).
func packageEnvs(out *[][2]string, key string, val any) {
	switch v := val.(type) {
	case nil:
		*out = append(*out, [2]string{key, ""})
	case bool:
		if v {
			*out = append(*out, [2]string{key, "true"})
		} else {
			*out = append(*out, [2]string{key, ""})
		}
	case []any:
		for i, item := range v {
			packageEnvs(out, key+"_"+strconv.Itoa(i), item)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			packageEnvs(out, key+"_"+k, v[k])
		}
	case map[string]string:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			*out = append(*out, [2]string{key + "_" + k, v[k]})
		}
	default:
		*out = append(*out, [2]string{key, jsvalue.String(v)})
	}
}

// normalizeBin returns the "bin" npm exports, or nil for none. It follows
// package-json's "bin"/"binDir" steps (and, for publish, "binRefs" first):
// a string becomes {name: path}, an array {basename: path}, keys become
// basenames, paths are made relative and unixified, bad entries dropped;
// with "directories.bin" and no bin, the files under that folder.
func normalizeBin(m map[string]any, dir string, publish bool) (map[string]string, error) {
	raw := m["bin"]
	var bin map[string]string
	if publish {
		bin = binObject(raw, m["name"])
		raw = nil
		if bin != nil {
			raw = bin
		}
	}
	dirs, _ := m["directories"].(map[string]any)
	if binDir := dirs["bin"]; jsvalue.Truthy(binDir) && !jsvalue.Truthy(raw) {
		s, ok := binDir.(string)
		if !ok {
			return nil, fmt.Errorf("directories.bin must be a string")
		}
		return manifest.ExpandBinDir(os.DirFS(dir), manifest.SecurePath(s)), nil
	}
	if publish {
		return bin, nil
	}
	return binObject(raw, m["name"]), nil
}

func binObject(raw, name any) map[string]string {
	if !jsvalue.Truthy(raw) {
		return nil
	}
	entries := map[string]any{}
	switch v := raw.(type) {
	case string:
		if !jsvalue.Truthy(name) {
			return nil
		}
		entries[jsvalue.String(name)] = v
	case []any:
		for _, item := range v {
			if s, ok := item.(string); ok {
				entries[path.Base(s)] = s
			}
		}
	case map[string]any:
		entries = v
	case map[string]string:
		for k, s := range v {
			entries[k] = s
		}
	default:
		return nil
	}
	out := map[string]string{}
	// Sorted, so a clash of two keys with one basename resolves the same
	// way every time.
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		target, ok := entries[k].(string)
		if !ok {
			continue
		}
		base := manifest.SecurePath(k)
		if base == "" {
			continue
		}
		base = path.Base(base)
		if t := manifest.SecurePath(target); t != "" {
			out[base] = t
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// validName is the name check of package-json's fixName step.
func validName(name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(name, ".") || lower == "node_modules" || lower == "favicon.ico" {
		return false
	}
	if scope, pkg, ok := strings.Cut(strings.TrimPrefix(name, "@"), "/"); ok && strings.HasPrefix(name, "@") {
		return scope != "" && pkg != "" && !strings.Contains(pkg, "/") && uriUnreserved(scope) && uriUnreserved(pkg)
	}
	return uriUnreserved(name)
}

// uriUnreserved reports whether encodeURIComponent leaves s unchanged.
func uriUnreserved(s string) bool {
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("-_.!~*'()", c):
		default:
			return false
		}
	}
	return true
}

// JavaScript's \s, which trim() and node-semver's patterns use.
const jsSpaceClass = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// looseSemver is node-semver's LOOSE pattern.
var looseSemver = regexp.MustCompile(`^[v=` + jsSpaceClass + `]*(\d+)\.(\d+)\.(\d+)` +
	`(?:-?((?:\d*[a-zA-Z-][a-zA-Z0-9-]*|\d+)(?:\.(?:\d*[a-zA-Z-][a-zA-Z0-9-]*|\d+))*))?` +
	`(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))?$`)

var leadingEqV = regexp.MustCompile(`^[=v]+`)

const maxSafeInteger = 1<<53 - 1

// cleanVersion is semver.clean(v, loose), which npm publish applies
// (fixVersionField): build metadata and leading "v"/"=" go, numbers lose
// leading zeros. ok is false for what semver.valid rejects.
func cleanVersion(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || !parsesLoose(s) {
		return "", false
	}
	s = leadingEqV.ReplaceAllLiteralString(jsvalue.Trim(s), "")
	if !parsesLoose(s) {
		return "", false
	}
	m := looseSemver.FindStringSubmatch(jsvalue.Trim(s))
	out := ""
	for i := 1; i <= 3; i++ {
		n, _ := strconv.ParseFloat(m[i], 64)
		if i > 1 {
			out += "."
		}
		out += strconv.FormatInt(int64(n), 10)
	}
	if m[4] != "" {
		ids := strings.Split(m[4], ".")
		for i, id := range ids {
			if strings.Trim(id, "0123456789") == "" {
				if n, _ := strconv.ParseFloat(id, 64); n < maxSafeInteger {
					ids[i] = strconv.FormatInt(int64(n), 10)
				}
			}
		}
		out += "-" + strings.Join(ids, ".")
	}
	return out, true
}

// parsesLoose reports whether new SemVer(s, {loose: true}) succeeds.
func parsesLoose(s string) bool {
	if len(utf16.Encode([]rune(s))) > 256 {
		return false
	}
	m := looseSemver.FindStringSubmatch(jsvalue.Trim(s))
	if m == nil {
		return false
	}
	for i := 1; i <= 3; i++ {
		if n, _ := strconv.ParseFloat(m[i], 64); n > maxSafeInteger {
			return false
		}
	}
	return true
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
