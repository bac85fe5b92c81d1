// Package npmrc resolves npm configuration and registry credentials the way
// npm 11 does, without running anything.
//
// Load reads the same layers as npm, highest priority first: command-line
// flags, npm_config_* environment variables, the project .npmrc, the user
// .npmrc, the global npmrc and npm's defaults. Values get npm's treatment:
// ini parsing, ${VAR} expansion, type coercion and validation. Credentials
// are looked up as npm-registry-fetch does, by nerf-dart: a token stored
// under //host/path/ goes to URLs on that host under that path, and to
// other URLs on the same host as the registry it belongs to; never to
// another host or port.
//
// Nothing here prints, reads the process environment, or puts a credential
// in an error: tokens are Secrets, which print as [redacted].
package npmrc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Sources is everything Load reads besides files: the caller passes the
// environment and paths in.
type Sources struct {
	// Env is the environment, as "NAME=value" strings (os.Environ()).
	// npm_config_* variables are config; any variable can be expanded.
	Env []string
	// UserConfig is the user .npmrc. Empty means npm's rule: the
	// userconfig setting (--userconfig, npm_config_userconfig, the
	// project .npmrc) or else ~/.npmrc. When set, Get("userconfig")
	// reports it with source "caller"; GlobalConfig likewise.
	UserConfig string
	// GlobalConfig is the global npmrc. Empty means npm's rule: the
	// globalconfig setting or else $PREFIX/etc/npmrc, where the prefix
	// comes from the prefix setting or the PREFIX variable. npm falls
	// back to the prefix of the node binary running it; airlock has none,
	// so without either there is no global npmrc.
	GlobalConfig string
	// Home replaces ~ in paths. Empty means $HOME from Env.
	Home string
	// Cwd is where npm would run. Its project .npmrc is read (in the
	// nearest folder up with a package.json or node_modules), and
	// relative paths resolve against it. Empty means no project config,
	// and a config file given by a relative path is an error.
	Cwd string
	// Flags are command-line options as npm would parse them from
	// --key=value (use "true" or "" for a bare --flag). They are loaded
	// in key order, where npm would follow the command line.
	Flags map[string]string
}

// Config is a loaded npm configuration: layered values with where each
// came from.
type Config struct {
	layers   []*layer // highest priority first
	fc       fieldCtx
	src      Sources
	global   string            // global npmrc path, "" if unknown
	loaded   map[string]string // config file path -> layer name, as npm's sources
	flagKeys map[string]bool   // flag names as given, before ${VAR} expansion
	// globalconfigSet: the first layer to set globalconfig sets npm's
	// default instead (an inherited setter), so later layers override it.
	globalconfigSet bool
	warnings        []string
	files           []File
}

type layer struct {
	name string // "publishConfig", "cli", "env", "project", "user", "global", "default"
	file string // for file layers
	data map[string]entry
	keys []string // in load order
}

type entry struct {
	val    Value
	source string
	unset  []string // ${VAR} references left unexpanded
	// vars are the environment variables the setting was made from: its
	// ${VAR} references, set or not, and HOME for a path under ~/.
	vars []string
}

func newLayer(name string) *layer { return &layer{name: name, data: map[string]entry{}} }

func (l *layer) set(k string, e entry) {
	if _, ok := l.data[k]; !ok {
		l.keys = append(l.keys, k)
	}
	l.data[k] = e
}

func (l *layer) del(k string) {
	delete(l.data, k)
	for i, x := range l.keys {
		if x == k {
			l.keys = append(l.keys[:i:i], l.keys[i+1:]...)
			return
		}
	}
}

// Load reads npm's configuration from src, in npm's order: defaults,
// flags, environment, project, user and global npmrc, then npm's
// validation. Errors name the file and line they are about and never
// include values.
func Load(src Sources) (*Config, error) {
	env := map[string]string{}
	var envNames []string
	for _, kv := range src.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, seen := env[k]; !seen {
			envNames = append(envNames, k)
		}
		env[k] = v
	}
	home, homeVar := src.Home, false
	if home == "" {
		home, homeVar = env["HOME"], true
	}
	c := &Config{
		fc:       fieldCtx{env: env, home: home, homeVar: homeVar, cwd: src.Cwd},
		src:      src,
		loaded:   map[string]string{},
		flagKeys: map[string]bool{},
	}
	c.layers = []*layer{newLayer("cli"), newLayer("env"), c.defaults()}

	var flags []Setting
	for _, k := range sortedKeys(src.Flags) {
		c.flagKeys[k] = true
		flags = append(flags, Setting{Key: k, Value: str(src.Flags[k])})
	}
	if err := c.loadSettings(c.layer("cli"), flags, func(Setting) string { return "flag" }); err != nil {
		return nil, err
	}
	if err := c.loadEnv(envNames); err != nil {
		return nil, err
	}
	if err := c.loadFiles(); err != nil {
		return nil, err
	}

	// What npm's own startup does after loading and before validating.
	for _, l := range c.layers {
		if e, ok := l.data["scope"]; ok {
			if truthy(e.val) && !strings.HasPrefix(jsString(e.val), "@") {
				e.val = str("@" + jsString(e.val))
				l.data["scope"] = e
			}
			break
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) defaults() *layer {
	def := newLayer("default")
	for _, k := range sortedKeys(definitions) {
		v := definitions[k].dflt
		var vars []string
		switch k {
		case "prefix":
			if c.fc.env["PREFIX"] == "" {
				continue // npm would use node's prefix, which airlock cannot know
			}
			v, vars = str(c.fc.env["PREFIX"]), []string{"PREFIX"}
		case "globalconfig":
			continue // computed from prefix, see globalConfigPath
		}
		pv, _ := c.fc.parseField(v, k, false)
		def.set(k, entry{val: pv, source: "default", vars: append(vars, c.fc.homeVars(k, v)...)})
	}
	return def
}

// loadEnv reads npm_config_* variables (any case): the rest of the name
// is the key, lower-cased with "_" after the first character read as "-",
// except that keys starting with "//" are taken as they are. Empty
// variables are ignored.
func (c *Config) loadEnv(names []string) error {
	const prefix = "npm_config_"
	var settings []Setting
	source := map[string]string{}
	for _, name := range names {
		v := c.fc.env[name]
		if len(name) < len(prefix) || !strings.EqualFold(name[:len(prefix)], prefix) || v == "" {
			continue
		}
		key := name[len(prefix):]
		if !strings.HasPrefix(key, "//") && key != "" {
			key = strings.ToLower(key[:1] + strings.ReplaceAll(key[1:], "_", "-"))
		}
		settings = append(settings, Setting{Key: key, Value: str(v)})
		source[key] = "env " + name
	}
	return c.loadSettings(c.layer("env"), settings, func(s Setting) string { return source[s.Key] })
}

// loadFiles reads the project, user and global npmrc. Each can move the
// next: the project npmrc can set userconfig, both can set globalconfig.
// Every file npm's rules lead to is recorded for Files, read or not.
func (c *Config) loadFiles() error {
	switch {
	case c.src.Cwd == "":
		c.files = append(c.files, File{Layer: "project", Reason: "no current folder was given, so there is no project config"})
	case c.globalMode():
		c.files = append(c.files, File{Layer: "project", Reason: "npm reads no project config with --global or location=global"})
	default:
		prefix, why := c.localPrefix(c.src.Cwd)
		project := filepath.Join(prefix, ".npmrc")
		f := File{Layer: "project", Path: project, ChosenBy: why}
		if project == c.userConfigPath() {
			f.Reason = "it is also the user config, and npm reads a file once"
			c.files = append(c.files, f)
		} else if err := c.loadFile(&f); err != nil {
			return err
		}
		if here := filepath.Join(c.src.Cwd, ".npmrc"); here != project && isFile(here) {
			c.files = append(c.files, File{Layer: "project", Path: here, ChosenBy: why,
				Reason: fmt.Sprintf("npm reads the project config of %s, %s, not of the current folder", prefix, why)})
		}
	}
	user := File{Layer: "user", Path: c.userConfigPath(), ChosenBy: "caller", SetBy: "caller", SetIn: "caller"}
	if c.src.UserConfig == "" {
		e, _ := c.get("userconfig")
		user.ChosenBy, user.SetBy, user.SetIn, user.Vars = "userconfig ("+e.source+")", c.layerOfSource(e.source), e.source, e.vars
	}
	if err := c.loadFile(&user); err != nil {
		return err
	}
	c.global = c.src.GlobalConfig
	global := File{Layer: "global", Path: c.global, ChosenBy: "caller", SetBy: "caller", SetIn: "caller"}
	if c.global == "" {
		c.global, global = c.globalConfigPath()
		if global.SetBy == "user" {
			global.Vars = append(global.Vars, user.Vars...)
		}
	}
	if c.global == "" {
		global.Reason = "airlock does not know npm's prefix (npm takes it from the node binary): set globalconfig or PREFIX to read one"
		c.files = append(c.files, global)
		return nil
	}
	return c.loadFile(&global)
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// layerOfSource is the layer a setting made at source (as Get says it)
// belongs to: "cli", "env", "default", "caller", or the layer of the
// npmrc it was read from.
func (c *Config) layerOfSource(source string) string {
	switch {
	case source == "flag":
		return "cli"
	case strings.HasPrefix(source, "env "):
		return "env"
	case source == "default", source == "caller", source == "publishConfig":
		return source
	}
	if i := strings.LastIndexByte(source, ':'); i > 0 {
		for _, l := range c.layers {
			if l.file == source[:i] {
				return l.name
			}
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// loadSettings is @npmcli/config's #loadObject: expand ${VAR} in each key,
// parse the value for the key's type, and refuse mutually exclusive keys.
func (c *Config) loadSettings(l *layer, settings []Setting, source func(Setting) string) error {
outer:
	for _, s := range settings {
		k, kUnset := expand(s.Key, c.fc.env)
		v, vUnset := c.fc.parseField(s.Value, k, false)
		for _, ex := range definitions[s.Key].exclusive {
			if c.isDefault(ex) {
				continue
			}
			if _, ok := c.layer("cli").data[ex]; ok && l.name == "env" {
				continue outer
			}
			return fmt.Errorf("%s: --%s cannot be provided when using --%s", source(s), s.Key, ex)
		}
		e := entry{val: v, source: source(s), unset: append(kUnset, vUnset...), vars: settingVars(c.fc, s, k)}
		if k == "globalconfig" && !c.globalconfigSet {
			c.globalconfigSet = true
			c.layer("default").set(k, e)
			continue
		}
		l.set(k, e)
	}
	return nil
}

func (c *Config) layer(name string) *layer {
	for _, l := range c.layers {
		if l.name == name {
			return l
		}
	}
	return newLayer(name)
}

// isDefault reports whether key is set only by npm's defaults so far.
func (c *Config) isDefault(key string) bool {
	if _, ok := c.layer("default").data[key]; !ok {
		return false
	}
	for _, l := range c.layers {
		if _, ok := l.data[key]; ok && l.name != "default" {
			return false
		}
	}
	return true
}

// loadFile reads an npmrc into a new layer just above the lower ones
// (project, then user, then global), and records f. A missing file is no
// layer; any other read failure is an error, where npm would quietly go
// on without it.
func (c *Config) loadFile(f *File) error {
	name, path := f.Layer, f.Path
	if prev, ok := c.loaded[path]; ok {
		return fmt.Errorf("loading %s config %s: it is already loaded as the %s config", name, path, prev)
	}
	c.loaded[path] = name
	if !filepath.IsAbs(path) {
		// Only without Sources.Cwd; reading it would depend on the process's cwd.
		return fmt.Errorf("loading %s config %s: a relative path needs Sources.Cwd", name, path)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		f.Reason = "it does not exist"
		c.files = append(c.files, *f)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s config: %w", name, err)
	}
	settings, err := Parse(data, path)
	if err != nil {
		return fmt.Errorf("reading %s config: %w", name, err)
	}
	f.Read = true
	c.files = append(c.files, *f)
	l := newLayer(name)
	l.file = path
	n := len(c.layers)
	c.layers = append(c.layers[:n-1:n-1], l, c.layers[n-1])
	return c.loadSettings(l, settings, func(s Setting) string { return fmt.Sprintf("%s:%d", path, s.Line) })
}

// get is the value of key from the highest layer that has it.
func (c *Config) get(key string) (entry, bool) {
	for _, l := range c.layers {
		if e, ok := l.data[key]; ok {
			return e, true
		}
	}
	return entry{}, false
}

func (c *Config) globalMode() bool {
	if e, ok := c.get("global"); ok && e.val.Kind == KindBool && e.val.Bool {
		return true
	}
	e, ok := c.get("location")
	return ok && e.val.Kind == KindString && e.val.Str == "global"
}

// localPrefix is where npm looks for the project .npmrc: --prefix, or the
// nearest folder up from cwd with a package.json or node_modules, or cwd.
// npm also climbs to a workspace root above that; airlock does not. why
// says which rule chose it.
func (c *Config) localPrefix(cwd string) (dir, why string) {
	if e, ok := c.layer("cli").data["prefix"]; ok && truthy(e.val) {
		return jsString(e.val), "as --prefix says"
	}
	for dir := cwd; ; dir = filepath.Dir(dir) {
		if st, err := os.Stat(filepath.Join(dir, "package.json")); err == nil && st.Mode().IsRegular() {
			return dir, "the nearest folder up from the current folder with a package.json"
		}
		if st, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil && st.IsDir() {
			return dir, "the nearest folder up from the current folder with a node_modules"
		}
		if filepath.Dir(dir) == dir {
			return cwd, "the current folder, as no folder up from it has a package.json or node_modules"
		}
	}
}

func (c *Config) userConfigPath() string {
	if c.src.UserConfig != "" {
		return c.src.UserConfig
	}
	e, _ := c.get("userconfig")
	return jsString(e.val)
}

// globalConfigPath is the global npmrc npm would read, "" if airlock
// cannot know it, with what chose it.
func (c *Config) globalConfigPath() (string, File) {
	f := File{Layer: "global"}
	if e, ok := c.get("globalconfig"); ok {
		f.Path, f.ChosenBy, f.SetBy, f.SetIn, f.Vars = jsString(e.val), "globalconfig ("+e.source+")", c.layerOfSource(e.source), e.source, e.vars
		return f.Path, f
	}
	if e, ok := c.get("prefix"); ok && e.val.Kind == KindString {
		f.Path = c.fc.resolve(e.val.Str, "etc/npmrc")
		f.ChosenBy, f.SetBy, f.SetIn, f.Vars = "prefix ("+e.source+")", c.layerOfSource(e.source), e.source, e.vars
		if e.source == "default" {
			f.ChosenBy = "prefix (the PREFIX variable)"
		}
		return f.Path, f
	}
	return "", f
}

func (c *Config) cleanLayer(l *layer) {
	for _, k := range append([]string(nil), l.keys...) {
		e := l.data[k]
		v, ok := c.fc.clean(k, e.val)
		if !ok {
			c.warnings = append(c.warnings, fmt.Sprintf("invalid config %s set in %s ignored (must be %s)", k, e.source, describe(definitions[k])))
			l.del(k)
			continue
		}
		e.val = v
		l.data[k] = e
	}
}

func describe(d definition) string {
	var parts []string
	for _, t := range d.types {
		switch t.kind {
		case typeString:
			parts = append(parts, "a string")
		case typeBool:
			parts = append(parts, "true or false")
		case typeNumber:
			parts = append(parts, "a number")
		case typePath:
			parts = append(parts, "a path")
		case typeURL:
			parts = append(parts, `a full URL with "http://"`)
		case typeNull:
			parts = append(parts, "null")
		case typeFalse:
			parts = append(parts, "false")
		case typeLiteral:
			parts = append(parts, fmt.Sprintf("%q", t.lit))
		}
	}
	return strings.Join(parts, " or ")
}

// Get returns the value of key and where it came from: "flag", "env
// npm_config_x", "/home/u/.npmrc:3", "publishConfig", "default", or ""
// if nothing sets it. Booleans are "true"/"false", null is "", and lists
// are joined by blank lines as npm exports them to the environment.
func (c *Config) Get(key string) (value, source string) {
	switch {
	case key == "userconfig" && c.src.UserConfig != "":
		return c.src.UserConfig, "caller"
	case key == "globalconfig" && c.src.GlobalConfig != "":
		return c.src.GlobalConfig, "caller"
	}
	e, ok := c.get(key)
	if !ok && key == "globalconfig" && c.global != "" {
		return c.global, "default"
	}
	if !ok {
		return "", ""
	}
	return render(e.val), e.source
}

// Warnings are npm's warnings about values it ignored. They name keys and
// where they were set, never values.
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }
