package glob

import (
	"fmt"
	"strings"
	"testing"
)

// benchRules is a typical .npmignore and .gitignore together.
const benchRules = `# dependencies
node_modules
/coverage
.nyc_output
*.log
npm-debug.log*
.DS_Store
*.tgz
.env
.env.*
!.env.example
dist/
build/
**/test/**
**/__tests__/**
*.test.js
*.spec.{js,ts}
/docs
.git
.github/
*.md
!README.md
[Rr][Ee][Aa][Dd][Mm][Ee]*
/.wafpickle-*
tsconfig*.json
.*.swp
`

// benchPaths is a package tree of about 5,000 files.
func benchPaths() []string {
	var paths []string
	dirs := []string{"lib", "src", "src/utils", "src/components/button", "test", "test/fixtures", "docs", "dist/esm", "node_modules/dep/lib", "__tests__"}
	exts := []string{".js", ".ts", ".d.ts", ".json", ".md", ".log", ".test.js", ".map"}
	for i := 0; len(paths) < 5000; i++ {
		dir := dirs[i%len(dirs)]
		paths = append(paths, fmt.Sprintf("%s/file%d%s", dir, i, exts[i%len(exts)]))
	}
	return append(paths, "README.md", "package.json", ".env.example", "LICENSE", "Überblick.md")
}

// BenchmarkMatch matches every path against every rule the way ignore-walk
// does for a file: with and without a leading slash, and as a directory.
func BenchmarkMatch(b *testing.B) {
	rules, err := ParseIgnoreFile(benchRules)
	if err != nil {
		b.Fatal(err)
	}
	var inputs []string
	for _, p := range benchPaths() {
		inputs = append(inputs, "/"+p, p, "/"+p+"/", p+"/")
	}
	matches := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, in := range inputs {
			for _, r := range rules {
				if r.Match(in, false) || r.Match(in, strings.HasSuffix(in, "/")) {
					matches++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)*len(rules)*2), "ns/match")
	_ = matches
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseIgnoreFile(benchRules); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	rules, err := ParseIgnoreFile(benchRules)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range benchPaths()[:200] {
		paths = append(paths, p, "/"+p+"/")
	}
	allocs := testing.AllocsPerRun(20, func() {
		for _, p := range paths {
			for _, r := range rules {
				r.Match(p, false)
				r.Match(p, true)
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations for %d paths × %d rules", allocs, len(paths), len(rules))
	}
}
