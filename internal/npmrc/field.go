package npmrc

import (
	"path/filepath"
	"strings"
)

// fieldCtx is what @npmcli/config's parseField and nopt's validators read
// from the process: the environment, the home folder and the cwd.
type fieldCtx struct {
	env  map[string]string
	home string
	// homeVar: home is $HOME from env, not given by the caller.
	homeVar bool
	cwd     string
}

// parseField is @npmcli/config's parseField: trim, split lists, coerce
// the words true/false/null/undefined for keys that are not strings,
// expand ${VAR}, resolve paths, and read numbers. It also returns the
// variables that were referenced but not set.
func (fc *fieldCtx) parseField(v Value, key string, listElement bool) (Value, []string) {
	if v.Kind != KindString && v.Kind != KindList {
		return v, nil
	}
	def := definitions[key]
	isPath := def.has(typePath)
	isBool := def.has(typeBool)
	isString := isPath || def.has(typeString)
	isNumber := def.has(typeNumber)
	isList := !listElement && def.has(typeArray)
	if v.Kind == KindList {
		if !isList {
			return v, nil
		}
		var unset []string
		out := Value{Kind: KindList, List: make([]Value, len(v.List))}
		for i, e := range v.List {
			var u []string
			out.List[i], u = fc.parseField(e, key, true)
			unset = append(unset, u...)
		}
		return out, unset
	}
	f := jsTrim(v.Str)
	if isList {
		parts := strings.Split(f, "\n\n")
		l := Value{Kind: KindList, List: make([]Value, len(parts))}
		for i, p := range parts {
			l.List[i] = str(p)
		}
		return fc.parseField(l, key, false)
	}
	if isBool && !isString && f == "" {
		return boolean(true), nil
	}
	if !isString && !isNumber {
		switch f {
		case "true":
			return boolean(true), nil
		case "false":
			return boolean(false), nil
		case "null":
			return null, nil
		case "undefined":
			return Value{Kind: KindUndefined}, nil
		}
	}
	f, unset := expand(f, fc.env)
	if isPath {
		if strings.HasPrefix(f, "~/") && fc.home != "" {
			f = fc.resolve(fc.home, f[2:])
		} else {
			f = fc.resolve(f)
		}
	}
	if isNumber && !jsIsNaN(str(f)) {
		return number(jsToNumber(f)), unset
	}
	return str(f), unset
}

// resolve is Node's path.resolve against the configured cwd. Without a
// cwd, a relative result stays relative.
func (fc *fieldCtx) resolve(parts ...string) string {
	p := ""
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "" {
			continue
		}
		p = filepath.Join(parts[i], p)
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
	}
	if fc.cwd == "" {
		if p == "" {
			return "."
		}
		return filepath.Clean(p)
	}
	return filepath.Join(fc.cwd, p)
}

// clean is nopt.clean for one key of a layer: it coerces the value to
// the key's type and reports false if nothing valid is left, in which
// case npm drops the key (with a warning) and lower layers show through.
func (fc *fieldCtx) clean(key string, v Value) (Value, bool) {
	def, known := definitions[key]
	isArray := v.Kind == KindList
	vals := []Value{v}
	if isArray {
		vals = v.List
	}
	var out []Value
	for _, e := range vals {
		if e.Kind == KindString {
			e.Str = jsTrim(e.Str)
			switch {
			case e.Str == "null" && (!known || def.has(typeNull)):
				e = null
			case e.Str == "true" && (!known || def.has(typeBool)):
				e = boolean(true)
			case e.Str == "false" && (!known || def.has(typeFalse) || def.has(typeBool)):
				e = boolean(false)
			case known && def.has(typeNumber) && !jsIsNaN(e):
				e = number(jsToNumber(e.Str))
			}
		}
		if !known {
			out = append(out, e)
			continue
		}
		if e.Kind == KindBool && !e.Bool && def.has(typeNull) && !(def.has(typeFalse) || def.has(typeBool)) {
			e = null
		}
		if r, ok := fc.validate(e, def.types); ok {
			out = append(out, r)
		}
	}
	if len(out) == 0 && !(known && def.has(typeArray)) {
		return Value{}, false
	}
	if isArray {
		return Value{Kind: KindList, List: out}, true
	}
	return out[0], true
}

func (fc *fieldCtx) validate(v Value, ts []typ) (Value, bool) {
	for _, t := range ts {
		switch t.kind {
		case typeArray:
			continue
		case typeNull:
			if v.Kind == KindNull {
				return v, true
			}
		case typeFalse:
			if v.Kind == KindBool && !v.Bool {
				return v, true
			}
		case typeLiteral:
			if v.Kind == KindString && v.Str == t.lit {
				return v, true
			}
		case typeString:
			return str(jsString(v)), true
		case typeBool:
			if v.Kind == KindString {
				switch {
				case !jsIsNaN(v):
					return boolean(jsToNumber(v.Str) != 0), true
				case v.Str == "null" || v.Str == "false":
					return boolean(false), true
				}
				return boolean(true), true
			}
			return boolean(truthy(v)), true
		case typeNumber:
			if jsIsNaN(v) {
				continue
			}
			switch v.Kind {
			case KindNumber:
				return v, true
			case KindBool:
				if v.Bool {
					return number(1), true
				}
				return number(0), true
			case KindNull:
				return number(0), true
			}
			return number(jsToNumber(jsString(v))), true
		case typePath:
			if v.Kind == KindBool && v.Bool {
				continue
			}
			if v.Kind == KindNull {
				return v, true
			}
			s := jsString(v)
			if strings.HasPrefix(s, "~/") && fc.home != "" {
				return str(fc.resolve(fc.home, s[2:])), true
			}
			return str(fc.resolve(s)), true
		case typeURL:
			if href, ok := legacyHref(jsString(v)); ok {
				return str(href), true
			}
		}
	}
	return Value{}, false
}
