package audit

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// FuzzAudit runs every rule over an input that is at once a workflow, a
// composite action it uses, and a GitLab CI file: no panic, and every
// finding inside a file of the input with a message and a hint.
func FuzzAudit(f *testing.F) {
	for _, s := range []string{
		"on: pull_request_target\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - uses: ./x\n      - run: npm ci && npm publish\n",
		"on: workflow_call\npermissions:\n  id-token: write\njobs:\n  p:\n    runs-on: self-hosted\n    steps:\n      - uses: actions/setup-node@v4\n        with: {registry-url: x, node-version: '${{ matrix.n }}', cache: npm}\n      - run: echo \"${{ needs.a.outputs.b }}\" | npm publish\n",
		"runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n      with: {key: a}\n    - uses: ./x\n",
		"default:\n  id_tokens: {T: {aud: 'npm:x'}}\n  cache: {key: k}\np:\n  needs: [q]\n  script: [npm publish]\nq:\n  artifacts: {reports: {dotenv: a.env}}\n  script: [npm ci]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		data := []byte(s)
		fsys := fstest.MapFS{
			".github/workflows/w.yml": {Data: data},
			"x/action.yml":            {Data: data},
			".gitlab-ci.yml":          {Data: data},
			"package.json":            {Data: []byte(`{"scripts":{"build":"npm publish"},"packageManager":"npm@11.0.0"}`)},
		}
		r, err := FS(context.Background(), fsys, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range append(r.Findings, r.Ignored...) {
			file, ok := fsys[x.Path]
			if !ok {
				t.Fatalf("finding in %q", x.Path)
			}
			lines := strings.Split(string(file.Data), "\n")
			if x.Line < 1 || x.Line > len(lines) || x.Column < 1 || x.Column > utf8.RuneCountInString(lines[x.Line-1])+1 {
				t.Fatalf("%s:%d:%d outside the file (%s)", x.Path, x.Line, x.Column, x.Rule)
			}
			if x.Message == "" || x.Hint == "" {
				t.Fatalf("%s without message or hint", x.Rule)
			}
		}
	})
}

// FuzzCommands checks that the script reader keeps every word inside the
// script and never panics.
func FuzzCommands(f *testing.F) {
	for _, s := range []string{"npm ci && npm test", "cat <<EOF\nnpm publish\nEOF\nnpm publish", `echo "$(npm pack)" 'a b' \` + "\n c # d", "FOO=1 sudo -E env X=2 npm publish ${{ x }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range commands(s) {
			if len(c.args) == 0 {
				t.Fatalf("%q: empty command", s)
			}
			for _, w := range c.args {
				if w.offset < 0 || w.offset > len(s) {
					t.Fatalf("%q: word %q at %d", s, w.text, w.offset)
				}
			}
			classify(c, func(string) (string, bool) { return s, true }, 0)
		}
	})
}
