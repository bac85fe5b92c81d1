package pack_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// TestFixturesMatchNPM packs every fixture in testdata/pack (one per
// npm-packlist rule; each says in its comment what it covers) with npm and
// with airlock and wants the same tarball and report.
func TestFixturesMatchNPM(t *testing.T) {
	paths, err := filepath.Glob("../testdata/pack/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in ../testdata/pack (err %v)", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".txtar"), func(t *testing.T) {
			t.Parallel()
			checkAgainstNPM(t, npmtest.Materialize(t, p))
		})
	}
}
