package publishdoc

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Pools of package.json field values (raw JSON), chosen for the branches
// of package-json's prepare steps; prepareCases combines them.
var fieldPool = map[string][]string{
	"name":                 {`"p"`, `"p"`, `"p"`, `" p "`, `"@s/p"`, `"P"`, `""`, `null`, `5`, `"a b"`, `"@s/.x"`},
	"version":              {`"1.0.0"`, `"1.0.0"`, `"1.0.0"`, `"v1.0.0"`, `"1.0"`, `""`, `null`, `"1.0.0-x"`, `1`, `" =1.2.3beta "`},
	"description":          {`"d"`, `""`, `null`, `{"a":1}`, `["x"]`, `0`, `"  spaced  "`},
	"readme":               {`"r"`, `""`, `{"x":1}`, `"# h\n\npara\ngraph\n\nnext"`, `"ERROR: No README data found!"`, `5`},
	"repository":           {`"u/r"`, `"github:u/r"`, `"git@gitlab.com:g/p.git"`, `{"url":"https://github.com/u/r"}`, `{"url":5}`, `{}`, `["x"]`, `"https://example.com/r"`, `""`, `null`, `5`, `{"type":"svn","url":"gist:abc"}`, `"sourcehut:~u/p"`},
	"repositories":         {`[]`, `["u/r"]`, `"abc"`, `{"0":"u/r"}`, `[{"url":"bitbucket:u/r"}]`},
	"bugs":                 {`"x@y.z"`, `"http://b"`, `"nope"`, `{"url":"http://b","email":"e@f.g"}`, `{"name":"http://n","web":"http://w"}`, `{"url":["http://x"]}`, `[]`, `5`, `""`, `null`, `{"email":5}`},
	"homepage":             {`"h.com"`, `"http://h"`, `{"x":1}`, `""`, `null`, `5`, `"foo:bar"`, `"http://"`},
	"author":               {`"A <a@b> (u)"`, `{"name":"N","email":"e"}`, `5`, `true`, `""`, `[1]`, `{"name":{"x":1},"web":"w"}`, `"(u) <e>"`, `{"name":5,"mail":["m"]}`},
	"contributors":         {`["a"]`, `[null]`, `"str"`, `[{"web":"w"}]`, `[]`, `5`, `["<e> x", {"name":"n"}]`},
	"maintainers":          {`[{"name":"m"}]`, `"m"`, `[""]`},
	"keywords":             {`"a, b"`, `["a","",1]`, `""`, `5`, `[]`, `"x,y"`},
	"dependencies":         {`{"a":"u/r","b":1}`, `["a@1","b",5,"c >=2"]`, `"a b,c"`, `5`, `null`, `""`, `[]`, `{"__proto__":"x","q":"1"}`, `{"a":"github:u/r#x","b":"git://gitlab.com/g/p"}`, `{}`},
	"devDependencies":      {`{"a":"git+ssh://git@github.com:u/r.git"}`, `["d@2"]`, `"x"`, `false`, `{"b":null}`},
	"optionalDependencies": {`{"a":"1"}`, `["o"]`, `"o p"`, `5`},
	"bundleDependencies":   {`true`, `false`, `["a",""]`, `{"a":1}`, `"a"`, `null`, `["zz"]`},
	"bundledDependencies":  {`["a"]`, `true`, `{"b":1}`},
	"bin":                  {`"x.js"`, `["a/b.js","c"]`, `{"a/b":"x","c":"..","d":5,"__proto__":"p","1":"one"}`, `5`, `""`, `{"":"x"}`, `{"x":"./a/../b"}`},
	"directories":          {`{"bin":"bin"}`, `{"man":"man"}`, `{"man":["m"]}`, `"str"`, `{"bin":"."}`, `{"man":"./"}`, `{"bin":"bin/","man":"man/s"}`, `null`},
	"man":                  {`"x.1"`, `["a.1",5,"../b.2"]`, `5`, `[]`, `""`},
	"scripts":              {`{"a":"node_modules/.bin/x","b":1}`, `"s"`, `[1,"./node_modules/.bin/y"]`, `null`, `5`, `{"install":"x"}`, `{"start":"","preinstall":"p"}`, `{}`},
	"gypfile":              {`false`, `true`, `"x"`},
	"main":                 {`"lib/x.js"`, `""`, `"/abs/y.js"`, `"../z.js"`, `"x"`, `"lib/"`, `"y.mjs"`},
	"types":                {`"t.d.ts"`},
	"typings":              {`null`},
	"files":                {`["a","",null]`, `"x"`, `5`, `[]`},
	"modules":              {`{"a":1}`, `0`},
	"funding":              {`"f"`},
	"_x":                   {`1`},
	"_id":                  {`"q"`},
	"license":              {`"MIT"`, `"nope"`},
	"gitHead":              {`"abc"`},
	"10":                   {`"ten"`},
}

var filePool = map[string]string{
	"README.md":            "# Title\n\nThe description\nline two.\n",
	"readme":               "lower\n",
	"README":               "plain\n",
	"readme.markdown":      "md\n",
	"Readme.txt":           "txt\n",
	"AUTHORS":              "# c\nX <x@y>\n\nY (http://y)\n",
	"x.gyp":                "{}",
	"server.js":            "",
	"index.d.ts":           "",
	"lib/x.d.ts":           "",
	"x.d.ts":               "",
	"abs/y.d.ts":           "",
	"bin/a":                "",
	"bin/sub/b":            "",
	"bin/.c":               "",
	"man/a.1":              "",
	"man/s/b.2":            "",
	"man/s/c.txt":          "",
	".git/HEAD":            "ref: refs/heads/main\n",
	".git/refs/heads/main": "0123456789abcdef0123456789abcdef01234567\n",
}

func prepareCases() []map[string]string {
	var cases []map[string]string
	fields := sortedKeys(fieldPool)
	files := sortedKeys(filePool)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 800; i++ {
		c := map[string]string{}
		var pj []string
		// name and version usually present and valid, so most cases get
		// past the name and version checks.
		pj = append(pj, `"name":`+pick(r, fieldPool["name"][:3], fieldPool["name"]), `"version":`+pick(r, fieldPool["version"][:3], fieldPool["version"]))
		for _, f := range fields {
			if f == "name" || f == "version" || r.IntN(5) != 0 {
				continue
			}
			vals := fieldPool[f]
			pj = append(pj, `"`+f+`":`+vals[r.IntN(len(vals))])
		}
		r.Shuffle(len(pj), func(a, b int) { pj[a], pj[b] = pj[b], pj[a] })
		c["package.json"] = "{" + strings.Join(pj, ",") + "}"
		for _, f := range files {
			if r.IntN(4) == 0 {
				c[f] = filePool[f]
			}
		}
		cases = append(cases, c)
	}
	return cases
}

// pick mostly returns a value from common, sometimes from all.
func pick(r *rand.Rand, common, all []string) string {
	if r.IntN(8) == 0 {
		return all[r.IntN(len(all))]
	}
	return common[r.IntN(len(common))]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readDirInput(dir string) (Input, error) {
	pj, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return Input{}, err
	}
	return Input{PackageJSON: pj, Files: os.DirFS(dir)}, nil
}
