package scaffold

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// readmeBlock is a YAML block of README.md marked as init's output by an
// HTML comment on the line before its fence:
//
//	<!-- airlock init github --airlock-ref … --airlock-version v1.2.3 -->
type readmeBlock struct {
	line    int // the marker's, from 1
	end     int // the closing fence's, from 1
	command string
	yaml    string
}

// update rewrites README.md's marked blocks with init's output:
// go test ./internal/scaffold -run TestREADMEWorkflowsAreInitsOutput -update
var update = flag.Bool("update", false, "rewrite README.md's workflows with init's output")

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var blocks []readmeBlock
	for i := 0; i < len(lines); i++ {
		cmd, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "<!-- airlock init ")
		if !ok {
			continue
		}
		cmd, ok = strings.CutSuffix(cmd, " -->")
		if !ok || i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```yaml" {
			t.Fatalf("README.md:%d: a marker must be <!-- airlock init ARGS --> right before a ```yaml fence", i+1)
		}
		var b strings.Builder
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			b.WriteString(lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: the YAML block never ends", i+1)
		}
		blocks = append(blocks, readmeBlock{line: i + 1, end: j + 1, command: cmd, yaml: b.String()})
		i = j
	}
	return blocks
}

// readmeOptions reads a marker's arguments as airlock init reads them,
// for the flags README examples use.
func readmeOptions(t *testing.T, command string) Options {
	t.Helper()
	args := strings.Fields(command)
	if len(args) == 0 || (args[0] != string(GitHub) && args[0] != string(GitLab)) {
		t.Fatalf("marker %q: want github or gitlab first", command)
	}
	opts := Options{CI: CI(args[0])}
	fs := flag.NewFlagSet("airlock init", flag.ContinueOnError)
	fs.BoolVar(&opts.Stage, "stage", false, "")
	fs.StringVar(&opts.Environment, "environment", "", "")
	fs.StringVar(&opts.TagPattern, "tag-pattern", "", "")
	fs.StringVar(&opts.NodeVersion, "node-version", "", "")
	fs.StringVar(&opts.PackageManager, "package-manager", "", "")
	fs.StringVar(&opts.AirlockRef, "airlock-ref", "", "")
	fs.StringVar(&opts.AirlockVersion, "airlock-version", "", "")
	fs.BoolVar(&opts.Workspaces, "workspaces", false, "")
	fs.StringVar(&opts.Branch, "branch", "", "")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		t.Fatalf("marker %q: %v %v", command, err, fs.Args())
	}
	return opts
}

// The workflows in README.md are init's output, byte for byte, for a
// package with package-lock.json and a test script, or with --workspaces
// for a pnpm workspace whose root has a test script (README says so where
// it shows them).
func TestREADMEWorkflowsAreInitsOutput(t *testing.T) {
	blocks := readmeBlocks(t)
	seen := map[CI]bool{}
	var rendered []string
	for _, b := range blocks {
		opts := readmeOptions(t, b.command)
		seen[opts.CI] = true
		pkg := npmPackage()
		if opts.Workspaces {
			pkg = &Package{PackageManager: "pnpm", PackageManagerSource: "pnpm-lock.yaml", Lockfiles: map[string]string{"pnpm": "pnpm-lock.yaml"}, HasTest: true, Workspace: true}
		}
		wf, err := Render(pkg, opts)
		if err != nil {
			t.Fatalf("README.md:%d: airlock init %s: %v", b.line, b.command, err)
		}
		rendered = append(rendered, string(wf.Content))
		if string(wf.Content) != b.yaml && !*update {
			t.Errorf("README.md:%d: the block is not the output of airlock init %s; replace it with:\n%s", b.line, b.command, wf.Content)
		}
	}
	if *update {
		data, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		var out strings.Builder
		next := 0
		for i, b := range blocks {
			// Keep the marker and the opening fence; replace up to the closing one.
			out.WriteString(strings.Join(lines[next:b.line+1], ""))
			out.WriteString(rendered[i])
			next = b.end - 1
		}
		out.WriteString(strings.Join(lines[next:], ""))
		if err := os.WriteFile("../../README.md", []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !seen[GitHub] || !seen[GitLab] {
		t.Errorf("README.md shows %d marked workflows; want init's output for github and for gitlab", len(blocks))
	}
}
