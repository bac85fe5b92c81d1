package npmrc

import (
	"slices"
	"strings"
)

// File is an npmrc file npm's rules lead to, read or not.
type File struct {
	// Layer is "project", "user" or "global".
	Layer string
	// Path is the file; "" when there is none to look for (no project
	// config without a current folder, no global config without a prefix).
	Path string
	// Read reports whether the file was loaded.
	Read bool
	// Reason says why it was not read; "" when it was.
	Reason string
	// ChosenBy says what decided the path: for the project config the rule
	// that found its folder, otherwise the setting ("userconfig (env
	// NPM_CONFIG_USERCONFIG)", "prefix (the PREFIX variable)") or "caller".
	ChosenBy string
	// SetBy is the layer of the setting that named the path ("cli",
	// "env", "project", "user", "default"), or "caller"; "" for the
	// project config, whose place comes from the current folder.
	SetBy string
	// SetIn is where that setting was made, as Get says it ("env
	// NPM_CONFIG_USERCONFIG", "/p/.npmrc:2", "default").
	SetIn string
	// Vars are the environment variables the path was made from, directly
	// or through the file that named it: HOME for ~/.npmrc, PREFIX, or a
	// ${VAR} in the setting.
	Vars []string
}

// Files lists, in npm's order (project, user, global), the npmrc files
// npm would read for this configuration and whether each was, and the
// project .npmrc of the current folder when npm reads another folder's.
func (c *Config) Files() []File {
	out := make([]File, len(c.files))
	for i, f := range c.files {
		f.Vars = slices.Clone(f.Vars)
		out[i] = f
	}
	return out
}

// Assignment is one layer's setting of a key.
type Assignment struct {
	Key   string
	Value Value
	// Layer is "cli", "env", "project", "user", "global" or
	// "publishConfig" (npm's defaults are not assignments).
	Layer string
	// Source is where it was set, as Get says it.
	Source string
	// File is the npmrc it was read from, for file layers.
	File string
	// Vars are the environment variables its key or value was made from
	// (${VAR} references, set or not, and HOME for a path under ~/).
	Vars []string
}

// Assignments returns every setting of any of keys, highest priority
// first: by layer as Get looks them up, and within a layer the one loaded
// last first. That is also the order in which npm's flattened options let
// one key override another (cafile over ca, for example).
func (c *Config) Assignments(keys ...string) []Assignment {
	var out []Assignment
	for _, l := range c.layers {
		if l.name == "default" {
			continue
		}
		for i := len(l.keys) - 1; i >= 0; i-- {
			k := l.keys[i]
			if !slices.Contains(keys, k) {
				continue
			}
			e := l.data[k]
			out = append(out, Assignment{Key: k, Value: e.val, Layer: l.name, Source: e.source, File: l.file, Vars: slices.Clone(e.vars)})
		}
	}
	return out
}

// RegistrySource says which setting RegistryFor(pkgName) took the
// registry from and where that was set: ("@acme:registry",
// "/home/u/.npmrc:2"), ("registry", "env npm_config_registry"), or
// ("registry", "default") for npm's default.
func (c *Config) RegistrySource(pkgName string) (key, source string) {
	try := func(k string) bool {
		if e, ok := c.flat(k); ok {
			key, source = k, e.source
			return true
		}
		return false
	}
	if strings.HasPrefix(pkgName, "@") {
		if i := strings.IndexByte(pkgName, '/'); i > 1 && try(pkgName[:i]+":registry") {
			return key, source
		}
	}
	if s, ok := c.flat("scope"); ok && try("@"+strings.TrimPrefix(jsString(s.val), "@")+":registry") {
		return key, source
	}
	if try("registry") {
		return key, source
	}
	return "registry", "default"
}

// settingVars are the variables a setting read from s (as key k) was
// made from.
func settingVars(fc fieldCtx, s Setting, k string) []string {
	vars := references(s.Key)
	var walk func(v Value)
	walk = func(v Value) {
		switch v.Kind {
		case KindString:
			vars = append(vars, references(v.Str)...)
			vars = append(vars, fc.homeVars(k, v)...)
		case KindList:
			for _, e := range v.List {
				walk(e)
			}
		}
	}
	walk(s.Value)
	slices.Sort(vars)
	return slices.Compact(vars)
}

// homeVars is ["HOME"] when the path setting k, written as v, is under
// ~/ and ~ is $HOME.
func (fc *fieldCtx) homeVars(k string, v Value) []string {
	if fc.homeVar && fc.home != "" && definitions[k].has(typePath) && v.Kind == KindString && strings.HasPrefix(jsTrim(v.Str), "~/") {
		return []string{"HOME"}
	}
	return nil
}
