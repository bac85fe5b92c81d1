package npmrc

import (
	"reflect"
	"strconv"
	"testing"
)

// TestDefinitionsMatchNPM checks the types, defaults and exclusions of
// every definition airlock carries against npm's definitions.js.
func TestDefinitionsMatchNPM(t *testing.T) {
	t.Parallel()
	keys := sortedKeys(definitions)
	resp := askNPM(t, baseEnv(t), oracleRequest{Definitions: keys})
	for _, k := range keys {
		want := resp.Definitions[k]
		if want == nil {
			t.Errorf("npm has no definition for %q", k)
			continue
		}
		def := definitions[k]
		var got []string
		for _, ty := range def.types {
			got = append(got, typeName(ty))
		}
		if !reflect.DeepEqual(got, want.Types) {
			t.Errorf("%s: types %q, npm has %q", k, got, want.Types)
		}
		wantDefault, ok := parseJSON(string(want.Default))
		if !ok {
			wantDefault = Value{Kind: KindUndefined}
		}
		if !reflect.DeepEqual(stripLines(def.dflt), stripLines(wantDefault)) {
			t.Errorf("%s: default %s, npm has %s", k, toJSON(def.dflt), want.Default)
		}
		if !reflect.DeepEqual(def.exclusive, want.Exclusive) {
			t.Errorf("%s: exclusive %q, npm has %q", k, def.exclusive, want.Exclusive)
		}
	}
}

func typeName(t typ) string {
	switch t.kind {
	case typeString:
		return "String"
	case typeBool:
		return "Boolean"
	case typeNumber:
		return "Number"
	case typePath:
		return "path"
	case typeURL:
		return "url"
	case typeNull:
		return "null"
	case typeFalse:
		return "false"
	case typeArray:
		return "Array"
	}
	return strconv.Quote(t.lit)
}
