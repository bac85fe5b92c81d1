// Package manifest reads package.json the way npm's pack reads it: the same
// normalization of bin, bundleDependencies and dependency lists, plus the
// name and version checks a publishable package must pass.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

// Manifest is a package.json after npm's normalization.
type Manifest struct {
	// Raw is the parsed document with npm's normalization applied (bin as
	// an object, bundleDependencies as an array, _id set). Lifecycle
	// scripts read it for npm_package_* variables.
	Raw map[string]any

	Name    string
	Version string
	// Bin maps command names to package-relative targets.
	Bin map[string]string
	// Main and Browser hold the fields as JavaScript would print them,
	// because npm builds file rules by string interpolation; "" when absent.
	Main, Browser string
	// Files is the "files" field; nil when absent.
	Files []string
	// BundleDependencies lists the names to bundle, in document order.
	BundleDependencies []string
	// Dependency names per kind, in document order.
	Dependencies, OptionalDependencies, DevDependencies, PeerDependencies, PeerOptionalDependencies []string
	Scripts                                                                                         map[string]string
	// Workspaces is true when the package declares workspaces.
	Workspaces bool
}

// ID is name@version, as npm writes the _id field.
func (m *Manifest) ID() string { return m.Name + "@" + m.Version }

// Error describes a package.json that cannot be used, with the file it
// came from and what to do about it.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrNotExist reports a directory without package.json.
var ErrNotExist = errors.New("no package.json")

// Read reads and normalizes dir/package.json. Fields that need the file
// system (directories.bin) are resolved against dir.
func Read(dir string) (*Manifest, error) {
	file := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hint.With(&Error{File: file, Err: ErrNotExist}, "run airlock in the package's folder, or pass that folder as the argument")
		}
		return nil, &Error{File: file, Err: err}
	}
	m, err := Parse(data, os.DirFS(dir))
	if err != nil {
		var me *Error
		if errors.As(err, &me) {
			me.File = file
			return nil, err
		}
		return nil, &Error{File: file, Err: err}
	}
	return m, nil
}

// Parse normalizes package.json contents. pkgFS, when not nil, is the
// package folder, used to expand directories.bin.
func Parse(data []byte, pkgFS fs.FS) (*Manifest, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Raw: raw}
	if err := m.normalize(pkgFS, keyOrder(trimBOM(data))); err != nil {
		return nil, &Error{Err: err}
	}
	return m, nil
}

func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) }

// decodeObject decodes package.json contents, which must be one JSON
// object, keeping numbers as written.
func decodeObject(data []byte) (map[string]any, error) {
	data = trimBOM(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, hint.With(&Error{Err: describeJSONError(data, err)}, "fix the JSON syntax of package.json")
	}
	if dec.More() {
		return nil, &Error{Err: errors.New("invalid JSON: unexpected data after the top-level value")}
	}
	raw, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Err: errors.New("package.json must contain a JSON object")}
	}
	return raw, nil
}

func (m *Manifest) normalize(pkgFS fs.FS, order map[string][]string) error {
	raw := m.Raw
	name, _ := raw["name"].(string)
	version, _ := raw["version"].(string)
	m.Name, m.Version = name, version
	for k := range raw {
		if strings.HasPrefix(k, "_") {
			delete(raw, k)
		}
	}
	if name != "" && version != "" {
		raw["_id"] = name + "@" + version
	}

	if _, ok := raw["bundleDependencies"]; !ok {
		if bd, ok := raw["bundledDependencies"]; ok {
			raw["bundleDependencies"] = bd
		}
	}
	delete(raw, "bundledDependencies")

	// bundleDependencies: true means every dependency, read before
	// optionalDedupe as npm does.
	switch bd := raw["bundleDependencies"].(type) {
	case bool:
		if bd {
			m.BundleDependencies = append([]string{}, objectKeys(raw, "dependencies", order)...)
		} else {
			m.BundleDependencies = []string{}
		}
		raw["bundleDependencies"] = stringsToAny(m.BundleDependencies)
	case []any:
		m.BundleDependencies = []string{}
		for _, v := range bd {
			m.BundleDependencies = append(m.BundleDependencies, jsvalue.String(v))
		}
	case map[string]any:
		m.BundleDependencies = objectKeys(raw, "bundleDependencies", order)
		raw["bundleDependencies"] = stringsToAny(m.BundleDependencies)
	case nil:
		delete(raw, "bundleDependencies")
	default:
		delete(raw, "bundleDependencies")
	}

	// optionalDedupe: a name in both lists is optional only.
	if deps, ok := raw["dependencies"].(map[string]any); ok {
		if opt, ok := raw["optionalDependencies"].(map[string]any); ok {
			for k := range opt {
				delete(deps, k)
			}
			if len(deps) == 0 {
				delete(raw, "dependencies")
			}
		}
	}
	m.Dependencies = objectKeys(raw, "dependencies", order)
	m.OptionalDependencies = objectKeys(raw, "optionalDependencies", order)
	m.DevDependencies = objectKeys(raw, "devDependencies", order)
	if _, ok := raw["peerDependencies"].(map[string]any); ok {
		meta, _ := raw["peerDependenciesMeta"].(map[string]any)
		for _, k := range objectKeys(raw, "peerDependencies", order) {
			if entry, ok := meta[k].(map[string]any); ok && jsvalue.Truthy(entry["optional"]) {
				m.PeerOptionalDependencies = append(m.PeerOptionalDependencies, k)
			} else {
				m.PeerDependencies = append(m.PeerDependencies, k)
			}
		}
	}

	if s, ok := raw["scripts"].(map[string]any); ok {
		m.Scripts = map[string]string{}
		for k, v := range s {
			if str, ok := v.(string); ok {
				m.Scripts[k] = str
			} else {
				delete(s, k)
			}
		}
	} else if _, present := raw["scripts"]; present {
		delete(raw, "scripts")
	}
	if f, ok := raw["funding"].(string); ok && f != "" {
		raw["funding"] = map[string]any{"url": f}
	}

	if err := m.normalizeBin(pkgFS, order); err != nil {
		return err
	}

	if v, ok := raw["main"]; ok && jsvalue.Truthy(v) {
		m.Main = jsvalue.String(v)
	}
	if v, ok := raw["browser"]; ok && jsvalue.Truthy(v) {
		m.Browser = jsvalue.String(v)
	}
	switch f := raw["files"].(type) {
	case nil:
	case []any:
		m.Files = []string{}
		for i, v := range f {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf(`"files"[%d] must be a string, found %s`, i, jsonType(v))
			}
			m.Files = append(m.Files, s)
		}
	case string:
		// npm iterates a string value character by character.
		m.Files = []string{}
		for _, r := range f {
			m.Files = append(m.Files, string(r))
		}
	default:
		if jsvalue.Truthy(f) {
			return fmt.Errorf(`"files" must be an array of strings, found %s`, jsonType(f))
		}
	}
	if w, ok := raw["workspaces"]; ok && w != nil {
		m.Workspaces = true
	}
	return nil
}

func (m *Manifest) normalizeBin(pkgFS fs.FS, order map[string][]string) error {
	raw := m.Raw
	if dirs, ok := raw["directories"].(map[string]any); ok && pkgFS != nil && !jsvalue.Truthy(raw["bin"]) {
		if binDir, ok := dirs["bin"].(string); ok && binDir != "" {
			m.Bin = ExpandBinDir(pkgFS, SecurePath(binDir))
			raw["bin"] = stringMapToAny(m.Bin)
			return nil
		}
	}
	switch b := raw["bin"].(type) {
	case string:
		if b == "" {
			delete(raw, "bin")
			return nil
		}
		if m.Name == "" {
			delete(raw, "bin")
			return nil
		}
		raw["bin"] = map[string]any{m.Name: b}
	case []any:
		obj := map[string]any{}
		for _, v := range b {
			s := jsvalue.String(v)
			obj[path.Base(s)] = v
		}
		raw["bin"] = obj
	case map[string]any:
	default:
		delete(raw, "bin")
		return nil
	}
	obj := raw["bin"].(map[string]any)
	m.Bin = map[string]string{}
	for k, v := range obj {
		target, ok := v.(string)
		if !ok {
			continue
		}
		base := path.Base(SecurePath(k))
		if SecurePath(k) == "" || base == "" || base == "." {
			continue
		}
		t := SecurePath(target)
		if t == "" {
			continue
		}
		m.Bin[base] = t
	}
	if len(m.Bin) == 0 {
		m.Bin = nil
		delete(raw, "bin")
		return nil
	}
	raw["bin"] = stringMapToAny(m.Bin)
	return nil
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func stringMapToAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func objectKeys(raw map[string]any, field string, order map[string][]string) []string {
	obj, ok := raw[field].(map[string]any)
	if !ok {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	for _, k := range order[field] {
		if _, ok := obj[k]; ok && !seen[k] {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range obj {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// keyOrder records, for each top-level object field, the order of its
// keys in the document: npm walks dependencies in document order.
func keyOrder(data []byte) map[string][]string {
	order := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return order
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return order
		}
		field, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return order
		}
		inner := json.NewDecoder(bytes.NewReader(val))
		if t, err := inner.Token(); err != nil || t != json.Delim('{') {
			continue
		}
		var keys []string
		for inner.More() {
			t, err := inner.Token()
			if err != nil {
				break
			}
			k, _ := t.(string)
			keys = append(keys, k)
			var skip json.RawMessage
			if err := inner.Decode(&skip); err != nil {
				break
			}
		}
		order[field] = keys
	}
	return order
}

func describeJSONError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	line, col := 1, 1
	for i := int64(0); i < off-1 && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, err)
}

// SecurePath is npm's secureAndUnixifyPath: the path made relative to the
// package root, "\\" and ":" read as "/", "" for the root itself. Like
// Node's path.join it keeps a trailing slash.
func SecurePath(ref string) string {
	u := strings.NewReplacer(`\`, "/", ":", "/").Replace(ref)
	p := path.Join("/", u)
	if p == "/" {
		return ""
	}
	p = p[1:]
	if strings.HasSuffix(u, "/") {
		p += "/"
	}
	return p
}

// ExpandBinDir lists binPath in the package as npm expands
// directories.bin (glob "**": no dot files, folders included, links not
// followed), keyed by base name.
func ExpandBinDir(pkgFS fs.FS, binPath string) map[string]string {
	out := map[string]string{}
	root := strings.TrimSuffix(binPath, "/")
	if root == "" {
		root = "."
	}
	_ = fs.WalkDir(pkgFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel := strings.TrimPrefix(p, root+"/")
		out[path.Base(rel)] = binPath + "/" + SecurePath(rel)
		return nil
	})
	return out
}
