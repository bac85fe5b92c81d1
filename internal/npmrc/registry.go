package npmrc

import (
	"fmt"
	"strings"
)

// RegistryFor returns the registry npm would publish pkgName to: the
// package scope's @scope:registry, else the registry of the scope setting,
// else registry. The result ends with exactly one added "/" as npm
// appends paths to it.
func (c *Config) RegistryFor(pkgName string) string {
	reg := c.pickRegistry(pkgName)
	reg = strings.TrimSuffix(jsTrim(reg), "/")
	return reg + "/"
}

// pickRegistry is npm-registry-fetch's pickRegistry, unnormalized.
func (c *Config) pickRegistry(pkgName string) string {
	scopeReg := func(scope string) string {
		if e, ok := c.flat("@" + strings.TrimPrefix(scope, "@") + ":registry"); ok {
			return jsString(e.val)
		}
		return ""
	}
	reg := ""
	if strings.HasPrefix(pkgName, "@") {
		if i := strings.IndexByte(pkgName, '/'); i > 1 {
			reg = scopeReg(pkgName[:i])
		}
	}
	if reg == "" {
		if s, ok := c.flat("scope"); ok {
			reg = scopeReg(jsString(s.val))
		}
	}
	if reg == "" {
		if r, ok := c.flat("registry"); ok {
			reg = jsString(r.val)
		} else {
			reg = DefaultRegistry
		}
	}
	return reg
}

// WithPublishConfig returns a copy of c with a package.json publishConfig
// applied as npm publish applies it: above every layer except flags (a key
// given as a flag keeps the flag's value), with values taken as written,
// no ${VAR} expansion and no validation. Unlike npm, credential keys
// ("//host/:_authToken" and the like) are ignored: the tarball is not
// trusted to choose credentials.
func (c *Config) WithPublishConfig(pc map[string]any) *Config {
	l := newLayer("publishConfig")
	for _, k := range sortedKeys(pc) {
		if c.flagKeys[k] || strings.HasPrefix(k, "//") {
			continue
		}
		l.set(k, entry{val: fromJSON(pc[k]), source: "publishConfig"})
	}
	cp := *c
	cp.layers = make([]*layer, 0, len(c.layers)+1)
	cp.layers = append(cp.layers, c.layers[0], l)
	cp.layers = append(cp.layers, c.layers[1:]...)
	return &cp
}

func fromJSON(v any) Value {
	switch v := v.(type) {
	case nil:
		return null
	case string:
		return str(v)
	case bool:
		return boolean(v)
	case float64:
		return number(v)
	case int:
		return number(float64(v))
	case interface{ Float64() (float64, error) }:
		f, _ := v.Float64()
		return number(f)
	case []any:
		l := Value{Kind: KindList}
		for _, e := range v {
			l.List = append(l.List, fromJSON(e))
		}
		return l
	case map[string]any:
		o := Value{Kind: KindObject}
		for _, k := range sortedKeys(v) {
			o.Obj = append(o.Obj, Setting{Key: k, Value: fromJSON(v[k])})
		}
		return o
	}
	return str(fmt.Sprint(v))
}
