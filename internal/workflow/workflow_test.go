package workflow

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

func TestAnchorsAndMerges(t *testing.T) {
	src := `base: &base
  image: node:24
  script: [npm ci]
job:
  <<: *base
  script: [npm test]
list: &l [a, b]
again: *l
`
	root, _, err := ParseYAML("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	job := root.Get("job")
	if job.Get("image").Str() != "node:24" || job.Get("script").Items[0].Str() != "npm test" {
		t.Fatalf("merge key: image %q, script %q", job.Get("image").Str(), job.Get("script").Items[0].Str())
	}
	if img := job.Get("image"); img.Pos != (Pos{2, 10}) {
		t.Fatalf("a merged value keeps where it was written: %v", img.Pos)
	}
	if root.Get("again") != root.Get("list") {
		t.Fatal("an alias shares its anchor's node")
	}
	if _, _, err := ParseYAML("x.yml", []byte("a: &x [*x]\n")); err == nil {
		t.Fatal("an alias inside its own anchor parsed")
	}
	if _, _, err := ParseYAML("x.yml", []byte("a: [1, 2\nb: c")); err == nil || !strings.Contains(err.Error(), "x.yml:1:1: invalid YAML") {
		t.Fatalf("syntax error: %v", err)
	}
	if _, _, err := ParseYAML("x.yml", nil); err == nil {
		t.Fatal("an empty file parsed")
	}
}

func TestComments(t *testing.T) {
	src := `# top
jobs: # on the key
  run: |
    # inside the block, not a comment
    echo "# nor this"
  x: "a # b" # after a string
`
	_, f, err := ParseYAML("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]Comment{1: {1, "# top"}, 2: {7, "# on the key"}, 6: {14, "# after a string"}}
	if len(f.Comments) != len(want) {
		t.Fatalf("comments %v, want %v", f.Comments, want)
	}
	for l, c := range want {
		if f.Comments[l] != c {
			t.Errorf("line %d: %+v, want %+v", l, f.Comments[l], c)
		}
	}
}

func TestLocate(t *testing.T) {
	src := "steps:\n  - run: |\n      echo a\n      echo ${{ x }} ${{ x }}\n  - run: echo ${{ y }}\n  - run: \"q ${{ z }}\"\n"
	root, f, err := ParseYAML("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	steps := root.Get("steps").Items
	block := steps[0].Get("run")
	second := strings.LastIndex(block.Value, "${{")
	if got := f.Locate(block, second, 8); got != (Pos{4, 21}) {
		t.Errorf("block: %v", got)
	}
	if got := f.Locate(block, strings.Index(block.Value, "${{"), 8); got != (Pos{4, 12}) {
		t.Errorf("block, first: %v", got)
	}
	plain := steps[1].Get("run")
	if got := f.Locate(plain, 5, 8); got != (Pos{5, 15}) {
		t.Errorf("plain: %v", got)
	}
	quoted := steps[2].Get("run")
	if got := f.Locate(quoted, 2, 8); got != (Pos{6, 13}) {
		t.Errorf("quoted: %v", got)
	}
}

func TestWorkflow(t *testing.T) {
	src := `on:
  pull_request_target:
    types: [opened]
  push:
permissions:
  contents: read
jobs:
  a:
    runs-on: [self-hosted, linux]
    permissions: write-all
    needs: b
    steps:
      - uses: actions/checkout@v4
        with: {ref: main}
  b:
    runs-on: {group: g, labels: x}
    uses: ./.github/workflows/r.yml
`
	w, err := ParseWorkflow(".github/workflows/w.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.On) != 2 || w.Event("pull_request_target") == nil || w.Event("push").Config != nil && w.Event("push").Config.IsMap() {
		t.Fatalf("on: %+v", w.On)
	}
	if lvl, _ := w.Permissions.Level("contents"); lvl != "read" {
		t.Fatalf("contents: %s", lvl)
	}
	if lvl, _ := w.Permissions.Level("id-token"); lvl != "none" {
		t.Fatalf("id-token: %s", lvl)
	}
	a := w.Job("a")
	if lvl, _ := a.Permissions.Level("id-token"); lvl != "write" {
		t.Fatalf("write-all: id-token %s", lvl)
	}
	if len(a.RunsOn) != 2 || a.Needs[0].Str() != "b" || a.Steps[0].Input("ref").Str() != "main" {
		t.Fatalf("job a: %+v", a)
	}
	if b := w.Job("b"); len(b.RunsOn) != 2 || b.Uses.Str() != "./.github/workflows/r.yml" {
		t.Fatalf("job b: %+v", b)
	}
	for _, bad := range []string{"jobs: [a]", "jobs:\n  a:\n    steps: x", "jobs:\n  a:\n    steps: [x]", "- a"} {
		if _, err := ParseWorkflow("w.yml", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestGitLab(t *testing.T) {
	fsys := fstest.MapFS{
		".gitlab-ci.yml": {Data: []byte(`include:
  - local: ci/*.yml
  - project: other/group
    file: x.yml
default:
  before_script: [npm ci]
  id_tokens:
    T: {aud: "npm:registry.npmjs.org"}
.base:
  image: node:22
  timeout: 1h
  script: [echo base]
.more:
  extends: .base
  image: node:24
job:
  extends: [.more]
  script:
    - !reference [.base, script]
    - echo job
off:
  inherit:
    default: [id_tokens]
  script: [echo off]
`)},
		"ci/a.yml": {Data: []byte("job:\n  stage: build\n  image: node:20\nincluded:\n  script: [echo]\n")},
	}
	p, errs := LoadGitLab(fsys, ".gitlab-ci.yml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	job := p.Job("job")
	// The included file's keys are the job's own, so they win over the
	// templates it extends.
	if job.Get("image").Str() != "node:20" || job.Stage() != "build" || job.Get("timeout").Str() != "1h" ||
		p.Job(".more").Get("image").Str() != "node:24" {
		t.Fatalf("extends and includes: image %q, stage %q", job.Get("image").Str(), job.Stage())
	}
	var lines []string
	for _, l := range job.Script() {
		lines = append(lines, l.Str())
	}
	if strings.Join(lines, ";") != "npm ci;echo base;echo job" {
		t.Fatalf("script: %q", lines)
	}
	if !job.FromDefault["id_tokens"] || job.Get("id_tokens").Get("T") == nil {
		t.Fatal("default: id_tokens not inherited")
	}
	if off := p.Job("off"); off.FromDefault["before_script"] || !off.FromDefault["id_tokens"] {
		t.Fatalf("inherit: %v", off.FromDefault)
	}
	if p.Job("included") == nil || !p.Job(".base").Hidden {
		t.Fatal("included job or template missing")
	}
	if len(p.Files) != 2 {
		t.Fatalf("files: %d", len(p.Files))
	}

	loop := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: [x]\n")}}
	if _, errs := LoadGitLab(loop, ".gitlab-ci.yml"); len(errs) == 0 {
		t.Fatal("an extends loop loaded")
	}
}

func TestRuleIf(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"$CI_COMMIT_TAG", "$CI_COMMIT_TAG"},
		{`$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $X != "a"`, `(($CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH) && ($X != "a"))`},
		{`$A =~ /^v\d+/ || ($B == null)`, `(($A =~ /^v\d+/) || ($B == null))`},
		{`${CI_COMMIT_TAG}`, `$CI_COMMIT_TAG`},
	} {
		e, err := ParseRuleIf(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if e.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.in, e, tc.want)
		}
	}
	for _, bad := range []string{"", "$", "$A ==", "(a", `"x`, "/x", "$A $B"} {
		if _, err := ParseRuleIf(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// checkPositions fails when a node of the tree points outside the source.
func checkPositions(t *testing.T, n *Node, f *File, seen map[*Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Pos.Line < 1 || n.Pos.Line > f.Lines() || n.Pos.Col < 1 || n.Pos.Col > utf8.RuneCountInString(f.Line(n.Pos.Line))+1 {
		t.Fatalf("node %q at %v, outside the input (line: %q)", n.Value, n.Pos, f.Line(n.Pos.Line))
	}
	for _, kv := range n.Pairs {
		checkPositions(t, kv.Key, f, seen)
		checkPositions(t, kv.Value, f, seen)
	}
	for _, it := range n.Items {
		checkPositions(t, it, f, seen)
	}
}

// FuzzWorkflow checks that any input either parses into a model whose
// every position is inside the input, or is a ParseError, without
// panicking.
func FuzzWorkflow(f *testing.F) {
	for _, s := range []string{
		"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.head_ref }}\n",
		"on: [pull_request_target]\npermissions: write-all\njobs:\n  a:\n    uses: ./x.yml\n",
		"x: &a {b: [1, *a]}\n",
		"a: &a {x: 1}\nb:\n  <<: [*a]\n  y: |\n    z # not a comment\n",
		"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4 # v4\n        with:\n          ref: \"${{ 'x' }}\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWorkflow("w.yml", []byte(s))
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		checkPositions(t, w.Root, w.File, map[*Node]bool{})
		for line := range w.File.Comments {
			if line < 1 || line > w.File.Lines() {
				t.Fatalf("comment on line %d", line)
			}
		}
		for _, j := range w.Jobs {
			for _, st := range j.Steps {
				if st.Run.IsScalar() {
					for i := 0; i < len(st.Run.Value); i += 7 {
						p := w.File.Locate(st.Run, i, 3)
						if p.Line < 1 || p.Line > w.File.Lines() {
							t.Fatalf("Locate gave %v", p)
						}
					}
				}
			}
		}
		ParseAction("action.yml", []byte(s))
	})
}

// FuzzGitLab checks the GitLab loader the same way, with the input as the
// main file and as an included one.
func FuzzGitLab(f *testing.F) {
	for _, s := range []string{
		"include: [b.yml]\n.t: &t {script: [a]}\nj:\n  <<: *t\n  extends: .t\n  script: [!reference [.t, script]]\n",
		"default:\n  id_tokens: {T: {aud: npm:x}}\nj:\n  rules: [{if: $CI_COMMIT_TAG}]\n  script: x\n",
		"a: &a [*a]\n",
		".a: {extends: .a}\nj: {extends: .a}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fsys := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(s)}, "b.yml": {Data: []byte(s)}}
		p, errs := LoadGitLab(fsys, ".gitlab-ci.yml")
		for _, err := range errs {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
		}
		if p == nil {
			return
		}
		for _, j := range p.Jobs {
			j.Script()
			for _, r := range j.Get("rules").List() {
				ParseRuleIf(r.Get("if").Str())
			}
		}
	})
}

// FuzzRuleIf checks that a parsed expression prints as one that parses
// to the same.
func FuzzRuleIf(f *testing.F) {
	for _, s := range []string{`$CI_COMMIT_TAG`, `$A == "x" && ($B =~ /y/i || $C != null)`, `'a' == $B`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseRuleIf(s)
		if err != nil {
			return
		}
		again, err := ParseRuleIf(e.String())
		if err != nil || again.String() != e.String() {
			t.Fatalf("%q printed as %q, then %v %v", s, e.String(), again, err)
		}
	})
}
