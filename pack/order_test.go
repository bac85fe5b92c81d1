package pack

import (
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// compareScript asks the real Node for the two orders npm uses:
// localeCompare("en") for tarball entries, and @isaacs/string-locale-compare
// with sensitivity "case" and numeric ordering for the report's file list.
const compareScript = `
const npmRoot = process.argv[1]
const cmp = require(npmRoot + '/npm/node_modules/@isaacs/string-locale-compare')('en', { sensitivity: 'case', numeric: true })
const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'))
process.stdout.write(JSON.stringify(pairs.map(([a, b]) => [Math.sign(a.localeCompare(b, 'en')), Math.sign(cmp(a, b))])))
`

func TestCollationMatchesNode(t *testing.T) {
	npmtest.NPM(t) // fails loudly when npm (and so node) is missing
	root, err := exec.Command("npm", "root", "-g").Output()
	if err != nil {
		t.Fatalf("npm root -g: %v", err)
	}
	alphabet := []string{"a", "b", "A", "B", "z", "Z", "_", "-", ".", "/", "0", "1", "9", "10", "007",
		"é", "É", "ß", "中", "😀", "~", "$", "@", " ", "ä", "Ä", "i", "I", "ñ", "(", "[", "!", "+", ",", ";", "=", "ø", "æ", "ｂ"}
	rng := rand.New(rand.NewPCG(1, 2))
	var pairs [][2]string
	for range 4000 {
		var a, b strings.Builder
		for range 1 + rng.IntN(6) {
			c := alphabet[rng.IntN(len(alphabet))]
			a.WriteString(c)
			if rng.IntN(3) == 0 {
				c = alphabet[rng.IntN(len(alphabet))]
			}
			b.WriteString(c)
		}
		pairs = append(pairs, [2]string{a.String(), b.String()})
	}
	in, _ := json.Marshal(pairs)
	cmd := exec.Command("node", "-e", compareScript, strings.TrimSpace(string(root)))
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want [][2]int
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, p := range pairs {
		entry := collator.CompareString(p[0], p[1])
		report := compareCaseNumeric(p[0], p[1])
		if entry != want[i][0] || report != want[i][1] {
			bad++
			if bad <= 10 {
				t.Errorf("%q vs %q: localeCompare node=%d go=%d; report order node=%d go=%d", p[0], p[1], want[i][0], entry, want[i][1], report)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pairs ordered differently from Node", bad, len(pairs))
	}
}

func TestJSExtname(t *testing.T) {
	for in, want := range map[string]string{
		"a.js": ".js", "dir/a.min.js": ".js", ".npmrc": "", "a": "", "a.": ".", "..": "", "...": ".", "..a": ".a", ".a.b": ".b", "x/.eslintrc": "",
	} {
		if got := jsExtname(in); got != want {
			t.Errorf("jsExtname(%q) = %q, want %q", in, got, want)
		}
	}
}
