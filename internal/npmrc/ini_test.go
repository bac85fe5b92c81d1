package npmrc

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// iniCases are .npmrc texts and what npm's ini module makes of them, as
// JSON in JavaScript's key order. TestParseMatchesNPM checks every one
// against the real ini module too.
var iniCases = []struct {
	name, in, want string
}{
	{"empty", "", `{}`},
	{"key value", "registry=https://r.example/\n", `{"registry":"https://r.example/"}`},
	{"spaces around", "  tag  =  beta  \n", `{"tag":"beta"}`},
	{"split at first equals", "a=b=c\n", `{"a":"b=c"}`},
	{"crlf and blank lines", "a=1\r\n\r\n\r\nb=2\r\n", `{"a":"1","b":"2"}`},
	{"lone cr", "a=1\rb=2", `{"a":"1","b":"2"}`},
	{"semicolon comment line", "; a=1\nb=2", `{"b":"2"}`},
	{"hash comment line", "  # a=1\nb=2", `{"b":"2"}`},
	{"inline comment", "a=1 ; note\nb=2 # note", `{"a":"1","b":"2"}`},
	{"escaped comment chars", `a=x\;y\#z`, `{"a":"x;y#z"}`},
	{"other escapes kept", `a=x\ny\\z`, `{"a":"x\\ny\\z"}`},
	{"trailing backslash", `a=x\`, `{"a":"x\\"}`},
	{"double quoted json", `a="x;y # z"`, `{"a":"x;y # z"}`},
	{"double quoted escapes", `a="tab\tnew\nline"`, `{"a":"tab\tnew\nline"}`},
	{"invalid json keeps quotes", `a="x\q"`, `{"a":"\"x\\q\""}`},
	{"single quoted", `a='x;y'`, `{"a":"x;y"}`},
	{"single quoted json string", `a='"x"'`, `{"a":"x"}`},
	{"single quoted number", `a='5'`, `{"a":5}`},
	{"single quoted true", `a='true'`, `{"a":true}`},
	{"quoted json object", `a='{"b":1}'`, `{"a":{"b":1}}`},
	{"half quoted", `a="x`, `{"a":"\"x"}`},
	{"lone quote", `a="`, `{"a":"\""}`},
	{"quoted then comment", `a="public" ; c`, `{"a":"\"public\""}`},
	{"true false null", "a=true\nb=false\nc=null\nd=TRUE", `{"a":true,"b":false,"c":null,"d":"TRUE"}`},
	{"no equals is true", "dry-run\n", `{"dry-run":true}`},
	{"empty value", "a=\n", `{"a":""}`},
	{"empty key", "  =x\n", `{"":"x"}`},
	{"leading equals ignored", "=x\n", `{}`},
	{"last wins", "a=1\na=2\n", `{"a":"2"}`},
	{"array", "ca[]=x\nca[]=y\n", `{"ca":["x","y"]}`},
	{"array then plain pushes", "a[]=x\na=y\n", `{"a":["x","y"]}`},
	{"plain then array", "a=x\na[]=y\n", `{"a":["x","y"]}`},
	{"brackets alone", "[]=x\n", `{"[]":"x"}`},
	{"short array key", "a[]\n", `{"a":[true]}`},
	{"two char key", "[]\nb=1", `{"":{"b":"1"}}`},
	{"section captures keys", "a=1\n[sec]\nb=2\n", `{"a":"1","sec":{"b":"2"}}`},
	{"section reopened", "[s]\na=1\n[t]\n[s]\nb=2", `{"s":{"a":"1","b":"2"},"t":{}}`},
	{"dotted section nests", "[a.b]\nc=1", `{"a":{"b":{"c":"1"}}}`},
	{"escaped dot", `[a\.b]` + "\nc=1", `{"a.b":{"c":"1"}}`},
	{"section over string", "a=1\n[a.b]\nc=2", `{"a":{"b":{"c":"2"}}}`},
	{"section over truthy value drops keys", "a=1\n[a]\nc=2", `{"a":"1"}`},
	{"section over falsy value replaces it", "a=\n[a]\nc=2", `{"a":{"c":"2"}}`},
	{"section with trailing text is a key", "[a] x", `{"[a] x":true}`},
	{"section with space after", "[a]   \nb=1", `{"a":{"b":"1"}}`},
	{"indented section is a key", " [a]", `{"[a]":true}`},
	{"proto key", "__proto__=1\nb=2", `{"b":"2"}`},
	{"proto section", "[__proto__]\na=1\n[b]\nc=2", `{"b":{"c":"2"}}`},
	{"integer keys first", "b=1\n10=2\n2=3\na=4", `{"2":"3","10":"2","b":"1","a":"4"}`},
	{"dotted key with null moves", "a.b=null\nc=1", `{"c":"1","a":{"b":null}}`},
	{"bom is trimmed from the key", "\ufeffa=1", `{"a":"1"}`},
	{"bom before section", "\ufeff[a]\nb=1", `{"[a]":true,"b":"1"}`},
	{"line separator in value drops line", "a=x\u2028y\nb=1", `{"b":"1"}`},
	{"line separator in key", "a\u2028b=1", `{"a\u2028b":"1"}`},
	{"nbsp trimmed", "\u00a0a\u00a0=\u00a0b\u00a0", `{"a":"b"}`},
	{"invalid utf8", "a=\xff\xfe\xe2\x82x", `{"a":"\ufffd\ufffd\ufffdx"}`},
	{"nerf dart key", "//r.example/:_authToken=${T}", `{"//r.example/:_authToken":"${T}"}`},
	{"scoped registry", "@s:registry=https://s.example", `{"@s:registry":"https://s.example"}`},
	{"key with hash", "a#b=1", `{"a":"1"}`},
	{"quoted key", `"a=b"=1`, `{"\"a":"b\"=1"}`},
	{"quoted key with semicolon", `'a;b'=1`, `{"a;b":"1"}`},
}

func TestParse(t *testing.T) {
	for _, tc := range iniCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in), "test.npmrc")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want, ok := parseJSON(tc.want)
			if !ok {
				t.Fatalf("bad want JSON %s", tc.want)
			}
			if g := stripLines(Value{Kind: KindObject, Obj: got}); !reflect.DeepEqual(g, want) {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tc.in, toJSON(g), tc.want)
			}
		})
	}
}

func TestParseLines(t *testing.T) {
	in := "; comment\n\na=1\r\n\r\nb=2\rc=3\n[s]\nd=4\ne[]=5\n\ne[]=6\n"
	got, err := Parse([]byte(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, s := range got {
		lines[s.Key] = s.Line
	}
	want := map[string]int{"a": 3, "b": 5, "c": 6, "s": 7}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines = %v, want %v", lines, want)
	}
	sec := got[len(got)-1].Value.Obj
	if sec[0].Line != 8 || sec[1].Line != 11 {
		t.Errorf("section lines = %d, %d, want 8, 11", sec[0].Line, sec[1].Line)
	}
}

func TestParseNullParentError(t *testing.T) {
	_, err := Parse([]byte("x=1\na=null\n[a.b]\nc=1\n"), "/home/u/.npmrc")
	if err == nil || !strings.HasPrefix(err.Error(), "/home/u/.npmrc:3: ") {
		t.Fatalf("err = %v, want one naming /home/u/.npmrc:3", err)
	}
}

// TestParseRandomMatchesNPM compares the parser with npm's ini on texts
// assembled at random (with a fixed seed) from the pieces ini treats
// specially.
func TestParseRandomMatchesNPM(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	atoms := []string{"a", "b", "1", "0", "=", "[", "]", ".", `\`, ";", "#", `"`, "'", " ", "\t", "\n", "\r",
		"[]", "true", "null", "false", "__proto__", "{", "}", ":", ",", "\u2028", "\ufeff", "\xff", "é", "${", "x.y", `\.`, "10", "2"}
	texts := make([][]byte, 3000)
	for i := range texts {
		texts[i] = []byte{}
		for range r.IntN(30) {
			texts[i] = append(texts[i], atoms[r.IntN(len(atoms))]...)
		}
	}
	compareWithINI(t, texts)
}

func TestParseMatchesNPM(t *testing.T) {
	t.Parallel()
	var texts [][]byte
	for _, tc := range iniCases {
		texts = append(texts, []byte(tc.in))
	}
	for _, s := range fuzzSeeds {
		texts = append(texts, []byte(s))
	}
	compareWithINI(t, texts)
}

func compareWithINI(t *testing.T, texts [][]byte) {
	t.Helper()
	resp := askNPM(t, baseEnv(t), oracleRequest{INI: texts})
	for i, in := range texts {
		got, err := Parse(in, "x")
		n := resp.INI[i]
		if n.Error != "" || err != nil {
			if (n.Error != "") != (err != nil) {
				t.Errorf("Parse(%q): error %v, npm's ini: %q", in, err, n.Error)
			}
			continue
		}
		want, ok := parseJSON(string(n.Value))
		if !ok {
			t.Fatalf("ini gave %s", n.Value)
		}
		if g := stripLines(Value{Kind: KindObject, Obj: got}); !reflect.DeepEqual(g, want) {
			t.Errorf("Parse(%q)\n  got %s\n  ini %s", in, toJSON(g), n.Value)
		}
	}
}

func stripLines(v Value) Value {
	for i := range v.List {
		v.List[i] = stripLines(v.List[i])
	}
	for i := range v.Obj {
		v.Obj[i].Line = 0
		v.Obj[i].Value = stripLines(v.Obj[i].Value)
	}
	if v.Kind == KindList && v.List == nil {
		v.List = []Value{}
	}
	if v.Kind == KindObject && v.Obj == nil {
		v.Obj = []Setting{}
	}
	return v
}

// toJSON shows a value for failure messages.
func toJSON(v Value) string {
	switch v.Kind {
	case KindString:
		return strconvQuote(v.Str)
	case KindList:
		var parts []string
		for _, e := range v.List {
			parts = append(parts, toJSON(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case KindObject:
		var parts []string
		for _, s := range v.Obj {
			parts = append(parts, strconvQuote(s.Key)+":"+toJSON(s.Value))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return jsString(v)
}

func strconvQuote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, []byte(`\u00`)...)
			b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}
