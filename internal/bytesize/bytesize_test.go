package bytesize

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// String prints what npm's own format-bytes.js prints, run by node on the
// same numbers: every unit boundary, the ties toFixed rounds up, and a
// spread of ordinary sizes.
func TestStringMatchesNPM(t *testing.T) {
	npm := npmtest.NPM(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run npm's format-bytes.js: %v", err)
	}
	root, err := exec.Command(npm, "root", "-g").Output()
	if err != nil {
		t.Fatalf("npm root -g: %v", err)
	}
	script := filepath.Join(strings.TrimSpace(string(root)), "npm", "lib", "utils", "format-bytes.js")
	var ns []int64
	for _, b := range []int64{0, 999, 1000, 999_949, 999_950, 999_999, 1_000_000, 999_949_999, 999_950_000, 5e12} {
		ns = append(ns, b-1, b, b+1)
	}
	for n := int64(1000); n < 20_000; n += 50 { // ties: 1250, 1750, 2250, ...
		ns = append(ns, n)
	}
	for n := int64(1); n < 1e11; n = n*7 + 3 {
		ns = append(ns, n)
	}
	var args []string
	for _, n := range ns {
		if n >= 0 {
			args = append(args, strconv.FormatInt(n, 10))
		}
	}
	cmd := exec.Command(node, append([]string{"-e", `const f = require(process.argv[1]); for (const n of process.argv.slice(2)) console.log(f(Number(n), false))`, script}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running %s: %v", script, err)
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(want) != len(args) {
		t.Fatalf("node printed %d lines for %d numbers", len(want), len(args))
	}
	for i, a := range args {
		n, _ := strconv.ParseInt(a, 10, 64)
		if g := String(n); g != want[i] {
			t.Errorf("String(%d) = %q, npm prints %q", n, g, want[i])
		}
	}
}
