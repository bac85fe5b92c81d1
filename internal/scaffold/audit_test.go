package scaffold

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/airlockdev/airlock/internal/audit"
)

// What init writes has no finding in airlock audit, for every
// combination of its options.
func TestAuditFindsNothing(t *testing.T) {
	pkgJSON := []byte(`{"name":"@example/pkg","version":"1.0.0","repository":{"type":"git","url":"git+https://github.com/example/pkg.git"},"scripts":{"test":"node test.js"}}`)
	for _, c := range combinations() {
		t.Run(c.name, func(t *testing.T) {
			wf, err := Render(c.pkg, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			fsys := fstest.MapFS{
				wf.Path:             {Data: wf.Content},
				"package.json":      {Data: pkgJSON},
				"package-lock.json": {Data: []byte("{}")},
			}
			rep, err := audit.FS(context.Background(), fsys, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range append(rep.Findings, rep.Ignored...) {
				t.Errorf("%s:%d:%d: %s [%s] %s", f.Path, f.Line, f.Column, f.Severity, f.Rule, f.Message)
			}
			if len(rep.Files) == 0 {
				t.Errorf("audit read no file")
			}
		})
	}
}
