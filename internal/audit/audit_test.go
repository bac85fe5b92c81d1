package audit

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("audit.update", false, "rewrite the want section of each fixture from what the audit finds")

// TestFixtures audits each testdata/audit/<rule>/<case>.txtar: the files
// of a repository, and a "want" file listing every finding expected, one
// a line as "severity rule path:line:col". No want file: no finding.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("../../testdata/audit/*/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "../../testdata/audit/"), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{}
			want := ""
			wantIndex := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					want, wantIndex = string(f.Data), i
					continue
				}
				fsys[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			r, err := FS(context.Background(), fsys, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := summarize(r)
			if *update {
				if got == "" && wantIndex >= 0 {
					ar.Files = append(ar.Files[:wantIndex], ar.Files[wantIndex+1:]...)
				} else if got != "" && wantIndex >= 0 {
					ar.Files[wantIndex].Data = []byte(got)
				} else if got != "" {
					ar.Files = append(ar.Files, txtar.File{Name: "want", Data: []byte(got)})
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				var full bytes.Buffer
				WriteText(&full, r)
				t.Errorf("findings:\n%s\nwant:\n%s\nreport:\n%s", got, want, full.String())
			}
			// Every position is inside its file.
			for _, f := range append(r.Findings, r.Ignored...) {
				src, ok := fsys[f.Path]
				if !ok {
					t.Errorf("finding in %s, which is not in the fixture", f.Path)
					continue
				}
				lines := strings.Split(string(src.Data), "\n")
				if f.Line < 1 || f.Line > len(lines) || f.Column < 1 || f.Column > len([]rune(lines[f.Line-1]))+1 {
					t.Errorf("%s:%d:%d is outside the file", f.Path, f.Line, f.Column)
				}
				if f.Message == "" || f.Hint == "" {
					t.Errorf("%s:%d: %s without message or hint", f.Path, f.Line, f.Rule)
				}
			}
		})
	}
}

func summarize(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s %s:%d:%d\n", f.Severity, f.Rule, f.Path, f.Line, f.Column)
	}
	for _, f := range r.Ignored {
		fmt.Fprintf(&b, "ignored %s %s:%d:%d %s\n", f.Rule, f.Path, f.Line, f.Column, f.Reason)
	}
	return b.String()
}

// TestThisRepository audits airlock's own workflows and action: the
// release workflow and the action must be examples of what audit wants.
func TestThisRepository(t *testing.T) {
	r, err := Repository(context.Background(), "../..", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) > 0 || len(r.Ignored) > 0 {
		var b bytes.Buffer
		WriteText(&b, r)
		t.Fatalf("airlock's own CI has findings:\n%s", b.String())
	}
	found := false
	for _, f := range r.Files {
		if strings.HasPrefix(f, ".github/workflows/") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no workflow was read: %v", r.Files)
	}
}
