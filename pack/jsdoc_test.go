package pack

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// jsonCases are package.json texts whose JSON.parse then
// JSON.stringify(v, null, 2) pnpm and yarn write: key order (array-index
// keys first), repeated keys, number forms, escapes, lone surrogates, a
// byte order mark, invalid UTF-8.
var jsonCases = []string{
	`{"name": "x", "version": "1.0.0"}`,
	`{"b": 1, "a": 2, "10": 3, "2": 4, "01": 5, "4294967294": 6, "4294967295": 7, "-1": 8}`,
	`{"a": 1, "b": 2, "a": 3}`,
	`{"n": [1.0, 1e21, 1e-7, -0, 0.1, 123456789012345678901234567890, 5e-324, 1E+2, 2.5e+300]}`,
	`{"s": "\u0000\u001f\b\f\n\r\t\"\\\/ \u007f \u2028 \u2029 é 😀 \ud83d \ude00 \ud83d\ude00 <>&"}`,
	"\ufeff{\"bom\": true}",
	"{\"bad\": \"\xff\xfe\xed\xa0\x80\"}",
	`{"empty": {}, "arr": [], "nested": {"a": [{"b": null}, true, false, "x"]}}`,
	"{ \"ws\" :\t[ 1 ,\r\n 2 ] }",
}

func TestJSONMatchesJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required (npm needs it too): %v", err)
	}
	// Hand node the raw bytes: base64 ([]byte in JSON) keeps invalid
	// UTF-8 intact.
	var b64 bytes.Buffer
	b64.WriteString("[")
	for i, c := range jsonCases {
		if i > 0 {
			b64.WriteString(",")
		}
		enc, _ := json.Marshal([]byte(c))
		b64.Write(enc)
	}
	b64.WriteString("]")
	script := `const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const strip = s => s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
console.log(JSON.stringify(cases.map(c => JSON.stringify(JSON.parse(strip(Buffer.from(c, 'base64').toString('utf8'))), null, 2))));`
	cmd := exec.CommandContext(t.Context(), node, "-e", script)
	cmd.Stdin = &b64
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range jsonCases {
		o, err := parseJSObject([]byte(c))
		if err != nil {
			t.Errorf("case %d %q: %v", i, c, err)
			continue
		}
		got := string(stringifyJS(o))
		if got != want[i] {
			t.Errorf("case %d %q:\ngot  %s\nwant %s", i, c, got, want[i])
		}
	}
}

func TestParseJSObjectRefuses(t *testing.T) {
	for _, c := range []string{``, `[]`, `"x"`, `{`, `{"a": 1,}`, `{"a": 01}`, `{"a": .5}`, `{'a': 1}`, `{"a": 1} x`, "{\"a\": \"\x01\"}", `{"a": "\x"}`, `{"a": NaN}`} {
		if _, err := parseJSObject([]byte(c)); err == nil {
			t.Errorf("parseJSObject(%q) accepted it; JSON.parse throws", c)
		}
	}
}

// FuzzParseJSObject: whatever parses, stringifies to JSON that parses
// back to the same text.
func FuzzParseJSObject(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseJSObject(data)
		if err != nil {
			return
		}
		out := stringifyJS(o)
		o2, err := parseJSObject(out)
		if err != nil {
			t.Fatalf("stringify output does not parse: %v\n%s", err, out)
		}
		if again := stringifyJS(o2); !bytes.Equal(again, out) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
	})
}
