package release

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/devtools"
	"go.yaml.in/yaml/v3"
)

// actionlint is the binary make deps builds into .cache/tools/actionlint
// (or $AIRLOCK_ACTIONLINT). A missing one fails the test: the workflows
// are not checked without it. ShellCheck must be on PATH too, since
// actionlint checks run: scripts with it only when it finds it.
func actionlint(t *testing.T) string {
	t.Helper()
	dir, err := devtools.Dir("AIRLOCK_ACTIONLINT", "actionlint")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "actionlint")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("actionlint is not installed at %s; run make deps, or point $AIRLOCK_ACTIONLINT at a folder holding it", bin)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck is not on PATH, and actionlint would skip the run: scripts without it; run make deps")
	}
	return bin
}

// runActionlint lints the workflows of the project at dir (all of
// .github/workflows when no file is given).
func runActionlint(t *testing.T, dir string, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(actionlint(t), append([]string{"-no-color", "-shellcheck=shellcheck"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestWorkflowsLint runs actionlint over every workflow in
// .github/workflows.
func TestWorkflowsLint(t *testing.T) {
	root, err := devtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if len(files) == 0 {
		t.Fatal("no workflows in .github/workflows")
	}
	if out, err := runActionlint(t, root); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

// TestActionlintFindsProblems makes sure the linter above is awake: it
// must report an injection of an untrusted expression into a script, a
// ShellCheck finding, and an input the local action does not have.
func TestActionlintFindsProblems(t *testing.T) {
	root, _ := devtools.RepoRoot()
	dir := t.TempDir()
	copyFile(filepath.Join(root, "action.yml"), filepath.Join(dir, "action.yml"), 0o644)
	copyFile(filepath.Join(root, "install.sh"), filepath.Join(dir, "install.sh"), 0o755)
	writeWorkflow(t, dir, "bad.yml", `on: issues
permissions: {}
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
      - run: cat $FILE
      - uses: ./
        with:
          bogus: x
`)
	out, err := runActionlint(t, dir)
	if err == nil {
		t.Fatalf("actionlint accepted a bad workflow:\n%s", out)
	}
	for _, want := range []string{"github.event.issue.title", "SC2086", `input "bogus" is not defined`} {
		if !strings.Contains(out, want) {
			t.Errorf("actionlint did not report %q:\n%s", want, out)
		}
	}
}

// writeWorkflow writes a workflow into a project at dir, a Git repository
// as actionlint wants.
func writeWorkflow(t *testing.T, dir, name, text string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

type actionMeta struct {
	Name        string
	Description string
	Author      string
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct {
		Description string
		Value       string
	}
	Runs struct {
		Using string
		Steps []map[string]any
	}
}

func readAction(t *testing.T) (actionMeta, []byte) {
	t.Helper()
	root, _ := devtools.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta actionMeta
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&meta); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return meta, data
}

// TestActionMetadata checks action.yml against the metadata syntax and
// against what the action promises: a composite action whose steps are
// shell only (no Node, no other action, so no cache), inputs reaching the
// script through env: and never through ${{ }} in the script itself.
func TestActionMetadata(t *testing.T) {
	meta, _ := readAction(t)
	if meta.Name == "" || meta.Description == "" {
		t.Error("name and description are required")
	}
	if meta.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", meta.Runs.Using)
	}
	var inputs []string
	for name, in := range meta.Inputs {
		inputs = append(inputs, name)
		if in.Description == "" || in.Required || in.Default == nil || *in.Default != "" {
			t.Errorf("input %s: want a description, optional, default empty", name)
		}
	}
	slices.Sort(inputs)
	if !slices.Equal(inputs, []string{"base-url", "version"}) {
		t.Errorf("inputs %v, want base-url and version", inputs)
	}
	if meta.Outputs["path"].Value != "${{ steps.install.outputs.path }}" {
		t.Errorf("output path = %q", meta.Outputs["path"].Value)
	}
	if len(meta.Runs.Steps) == 0 {
		t.Fatal("no steps")
	}
	for i, step := range meta.Runs.Steps {
		if _, ok := step["uses"]; ok {
			t.Errorf("step %d uses another action: the action runs install.sh only", i)
		}
		run, _ := step["run"].(string)
		if run == "" {
			t.Errorf("step %d runs no script", i)
		}
		if strings.Contains(run, "${{") {
			t.Errorf("step %d puts an expression into its script (template injection): pass it through env:", i)
		}
		if shell, _ := step["shell"].(string); shell != "bash" && shell != "sh" {
			t.Errorf("step %d: shell %q, want bash or sh", i, shell)
		}
	}
	run, _ := meta.Runs.Steps[0]["run"].(string)
	env, _ := meta.Runs.Steps[0]["env"].(map[string]any)
	if !strings.Contains(run, `"$AIRLOCK_ACTION_PATH/install.sh"`) || env["AIRLOCK_ACTION_PATH"] != "${{ github.action_path }}" {
		t.Error("the action must run the install.sh of its own checkout (github.action_path)")
	}
	if !strings.Contains(run, `>>"$GITHUB_PATH"`) {
		t.Error("the action must put the binary's folder on PATH")
	}
}

// TestActionLintsAsUsed lints action.yml the two ways actionlint can:
// used from a workflow (it then checks the metadata and the with: inputs),
// and with its steps copied into a workflow job (it does not check a
// composite action's steps, so this is how their scripts, expressions and
// ShellCheck findings are checked).
func TestActionLintsAsUsed(t *testing.T) {
	root, _ := devtools.RepoRoot()
	meta, _ := readAction(t)
	dir := t.TempDir()
	copyFile(filepath.Join(root, "action.yml"), filepath.Join(dir, "action.yml"), 0o644)
	copyFile(filepath.Join(root, "install.sh"), filepath.Join(dir, "install.sh"), 0o755)
	steps, err := yaml.Marshal(meta.Runs.Steps)
	if err != nil {
		t.Fatal(err)
	}
	var inlined strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(steps), "\n"), "\n") {
		inlined.WriteString("      " + line + "\n")
	}
	writeWorkflow(t, dir, "use.yml", `on:
  workflow_dispatch:
    inputs:
      version:
        type: string
        required: false
      base-url:
        type: string
        required: false
permissions: {}
jobs:
  use:
    runs-on: ubuntu-latest
    steps:
      - id: airlock
        uses: ./
        with:
          version: ${{ inputs.version }}
          base-url: ${{ inputs.base-url }}
      - run: '"$AIRLOCK" version --json'
        env:
          AIRLOCK: ${{ steps.airlock.outputs.path }}
  inlined:
    runs-on: ubuntu-latest
    steps:
`+inlined.String())
	if out, err := runActionlint(t, dir); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}

var pinnedUseRE = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$`)

type workflow struct {
	Permissions any
	Jobs        map[string]struct {
		Permissions map[string]string
		Steps       []struct {
			Uses string
			Run  string
			With map[string]any
		}
	}
}

// TestReleaseWorkflowPolicy checks what actionlint does not: every action
// pinned by commit SHA with its version in a comment, no permissions at
// the top, each job only its own (the OIDC token in the attest job alone,
// contents: write in the upload job alone), checkout without persisted
// credentials, setup-go without a cache, no expression inside a script.
func TestReleaseWorkflowPolicy(t *testing.T) {
	root, _ := devtools.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "uses:") && !pinnedUseRE.MatchString(line) {
			t.Errorf("release.yml:%d: %q: pin actions by commit SHA, with the version as a comment", i+1, strings.TrimSpace(line))
		}
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	if p, ok := wf.Permissions.(map[string]any); !ok || len(p) != 0 {
		t.Errorf("top-level permissions = %v, want {} (each job says what it needs)", wf.Permissions)
	}
	want := map[string]map[string]string{
		"build":  {"contents": "read"},
		"attest": {"id-token": "write", "attestations": "write"},
		"upload": {"contents": "write"},
	}
	if len(wf.Jobs) != len(want) {
		t.Errorf("jobs %v, want build, attest, upload", sortedKeys(wf.Jobs))
	}
	for name, job := range wf.Jobs {
		if w, ok := want[name]; !ok || !maps.Equal(job.Permissions, w) {
			t.Errorf("job %s: permissions %v, want %v", name, job.Permissions, want[name])
		}
		for i, step := range job.Steps {
			if strings.Contains(step.Run, "${{") {
				t.Errorf("job %s step %d: an expression inside the script; pass it through env:", name, i)
			}
			switch {
			case strings.HasPrefix(step.Uses, "actions/checkout@"):
				if step.With["persist-credentials"] != false {
					t.Errorf("job %s: checkout must set persist-credentials: false", name)
				}
			case strings.HasPrefix(step.Uses, "actions/setup-go@"):
				if step.With["cache"] != false {
					t.Errorf("job %s: setup-go must set cache: false", name)
				}
			}
		}
	}
}
