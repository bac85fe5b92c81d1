package scaffold

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/airlockdev/airlock/internal/devtools"
)

// combination is one set of init's choices; every test below runs them all.
type combination struct {
	name string
	pkg  *Package
	opts Options
}

func packages() map[string]*Package {
	return map[string]*Package{
		"npm":         npmPackage(),
		"pnpm":        {PackageManager: "pnpm", PackageManagerSource: "the packageManager field", Lockfiles: map[string]string{"pnpm": "pnpm-lock.yaml"}, HasTest: true},
		"yarn":        {PackageManager: "yarn", PackageManagerSource: "yarn.lock", Lockfiles: map[string]string{"yarn": "yarn.lock"}, HasTest: true},
		"yarnclassic": {PackageManager: "yarn", PackageManagerSource: "yarn.lock", YarnClassic: true, Lockfiles: map[string]string{"yarn": "yarn.lock"}},
	}
}

// combinations is github/gitlab × staged or not × npm, pnpm, yarn, yarn 1
// × with or without a build × default or custom environment and tags ×
// the detected, no or a custom test command; and a custom registry.
func combinations() []combination {
	none, custom := "", "npm run test:ci && npm run lint"
	var cs []combination
	for _, ci := range []CI{GitHub, GitLab} {
		for _, stage := range []bool{false, true} {
			for pmName, pkg := range packages() {
				for _, build := range []string{"", "npm run build"} {
					for _, env := range []struct{ env, tags string }{{"", ""}, {"npm-release", "release/v*"}} {
						for ti, test := range []*string{nil, &none, &custom} {
							o := testOptions(ci)
							o.Stage, o.BuildCommand, o.Environment, o.TagPattern, o.TestCommand = stage, build, env.env, env.tags, test
							cs = append(cs, combination{fmt.Sprintf("%s-stage=%v-%s-build=%v-env=%q-test%d", ci, stage, pmName, build != "", env.env, ti), pkg, o})
						}
					}
				}
			}
		}
		o := testOptions(ci)
		o.Registry, o.NodeVersion = "https://npm.example.com/", "22"
		cs = append(cs, combination{string(ci) + "-registry", npmPackage(), o})
		cs = append(cs, workspaceCombinations(ci)...)
	}
	return cs
}

func workspacePackages() map[string]*Package {
	ps := map[string]*Package{}
	for name, p := range packages() {
		if p.YarnClassic {
			continue // airlock pack --workspaces refuses Yarn 1
		}
		p.Workspace, p.Packages = true, []string{"@example/a", "@example/b"}
		ps[name] = p
	}
	return ps
}

// workspaceCombinations is --workspaces × staged or not × npm, pnpm, yarn
// × with or without a build × released from tags or from a branch; and a
// custom registry with --package-manager.
func workspaceCombinations(ci CI) []combination {
	var cs []combination
	for _, stage := range []bool{false, true} {
		for pmName, pkg := range workspacePackages() {
			for _, build := range []string{"", "pnpm -r build"} {
				for _, trigger := range []struct{ branch, tags string }{{"", ""}, {"", "release/v*"}, {"main", ""}} {
					o := testOptions(ci)
					o.Workspaces, o.Stage, o.BuildCommand, o.Branch, o.TagPattern = true, stage, build, trigger.branch, trigger.tags
					cs = append(cs, combination{fmt.Sprintf("%s-workspaces-stage=%v-%s-build=%v-branch=%q-tags=%q", ci, stage, pmName, build != "", trigger.branch, trigger.tags), pkg, o})
				}
			}
		}
	}
	o := testOptions(ci)
	o.Workspaces, o.Registry, o.PackageManager = true, "https://npm.example.com/", "pnpm"
	cs = append(cs, combination{string(ci) + "-workspaces-registry", workspacePackages()["pnpm"], o})
	return cs
}

var pinnedUses = regexp.MustCompile(`^\s*(- )?uses: ([\w.-]+/[\w.-]+)@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)

func TestCombinationsAreHardened(t *testing.T) {
	for _, c := range combinations() {
		t.Run(c.name, func(t *testing.T) {
			wf, err := Render(c.pkg, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(wf.Content, &doc); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, wf.Content)
			}
			for _, line := range strings.Split(string(wf.Content), "\n") {
				if strings.Contains(line, "uses:") && !strings.HasPrefix(strings.TrimSpace(line), "#") && !pinnedUses.MatchString(line) {
					t.Errorf("not pinned by commit with its version: %s", line)
				}
			}
			if c.opts.CI == GitHub {
				checkGitHub(t, c, doc)
			} else {
				checkGitLab(t, c, doc, string(wf.Content))
			}
		})
	}
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func checkGitHub(t *testing.T, c combination, doc map[string]any) {
	t.Helper()
	if p, ok := doc["permissions"].(map[string]any); !ok || len(p) != 0 {
		t.Errorf("workflow permissions = %v, want {}", doc["permissions"])
	}
	if c.opts.Branch != "" {
		if got := fmt.Sprint(get(doc, "on", "push")); got != "map[branches:["+c.opts.Branch+"]]" {
			t.Errorf("on.push = %s, want branches [%s]", got, c.opts.Branch)
		}
	} else if tags := or(c.opts.TagPattern, DefaultTagPattern); fmt.Sprint(get(doc, "on", "push")) != "map[tags:["+tags+"]]" {
		t.Errorf("on.push = %v, want tags [%s]", get(doc, "on", "push"), tags)
	}
	if get(doc, "concurrency", "cancel-in-progress") != false {
		t.Error("a release can be cancelled halfway")
	}
	jobs, _ := doc["jobs"].(map[string]any)
	if len(jobs) != 2 {
		t.Fatalf("jobs = %v, want pack and publish", jobs)
	}
	if got := fmt.Sprint(get(jobs, "pack", "permissions")); got != "map[contents:read]" {
		t.Errorf("pack permissions = %s", got)
	}
	if got := fmt.Sprint(get(jobs, "publish", "permissions")); got != "map[id-token:write]" {
		t.Errorf("publish permissions = %s", got)
	}
	if get(jobs, "publish", "needs") != "pack" || get(jobs, "publish", "environment") != or(c.opts.Environment, DefaultEnvironment) {
		t.Errorf("publish needs %v, environment %v", get(jobs, "publish", "needs"), get(jobs, "publish", "environment"))
	}
	if c.opts.Workspaces && get(jobs, "publish", "if") != "needs.pack.outputs.nothing-to-release != 'true'" {
		t.Errorf("publish if = %v: a release with nothing in it must skip the publish job", get(jobs, "publish", "if"))
	}
	steps := func(job string) []map[string]any {
		var out []map[string]any
		list, _ := get(jobs, job, "steps").([]any)
		for _, s := range list {
			out = append(out, s.(map[string]any))
		}
		return out
	}
	for _, s := range append(steps("pack"), steps("publish")...) {
		if run, _ := s["run"].(string); strings.Contains(run, "${{") {
			t.Errorf("an expression in a script: %s", run)
		}
	}
	for _, s := range steps("pack") {
		uses, _ := s["uses"].(string)
		switch {
		case strings.HasPrefix(uses, "actions/checkout@"):
			if get(s, "with", "persist-credentials") != false {
				t.Error("checkout persists the token")
			}
		case strings.HasPrefix(uses, "actions/setup-node@"):
			with, _ := s["with"].(map[string]any)
			if with["package-manager-cache"] != false || with["cache"] != nil || with["registry-url"] != nil {
				t.Errorf("setup-node with %v", with)
			}
		case strings.HasPrefix(uses, "actions/upload-artifact@"):
			if get(s, "with", "retention-days") != 1 {
				t.Error("the artifact is kept longer than a day")
			}
		}
	}
	pinVar, pinOutput, pinArgs := "AIRLOCK_INTEGRITY", "integrity", `--integrity "$AIRLOCK_INTEGRITY"`
	if c.opts.Workspaces {
		pinVar, pinOutput, pinArgs = "AIRLOCK_MANIFEST_INTEGRITY", "manifest-integrity", `--manifest "$RUNNER_TEMP/release/release.json" --integrity "$AIRLOCK_MANIFEST_INTEGRITY"`
		var packs []string
		for _, s := range steps("pack") {
			if run, _ := s["run"].(string); strings.Contains(run, "airlock pack") {
				packs = append(packs, run)
			}
		}
		if len(packs) != 1 || !strings.Contains(packs[0], "airlock pack --workspaces --only-unpublished") {
			t.Errorf("pack commands %q", packs)
		}
		if got := get(jobs, "pack", "outputs", "manifest-integrity"); got != "${{ steps.pack.outputs.manifest-integrity }}" {
			t.Errorf("pack outputs manifest-integrity = %v", got)
		}
	}
	var publish []string
	for _, s := range steps("publish") {
		uses, _ := s["uses"].(string)
		run, _ := s["run"].(string)
		switch {
		case strings.HasPrefix(uses, "actions/download-artifact@"), strings.HasPrefix(uses, "airlockdev/airlock@"):
		case strings.HasPrefix(run, "airlock publish "):
			publish = append(publish, run)
			if len(s["env"].(map[string]any)) != map[bool]int{false: 2, true: 1}[c.opts.Workspaces] || get(s, "env", pinVar) != "${{ needs.pack.outputs."+pinOutput+" }}" {
				t.Errorf("the pin does not come from the pack job's outputs: %v", s["env"])
			}
		default:
			t.Errorf("the publish job does more than download, install airlock and publish: %v", s)
		}
	}
	if len(publish) != 1 || strings.Contains(publish[0], "--stage") != c.opts.Stage || !strings.Contains(publish[0], pinArgs) {
		t.Errorf("publish commands %q (stage %v)", publish, c.opts.Stage)
	}
}

func checkGitLab(t *testing.T, c combination, doc map[string]any, text string) {
	t.Helper()
	if len(doc) != 2 || doc["pack"] == nil || doc["publish"] == nil {
		t.Fatalf("top-level keys: %v, want the jobs pack and publish alone", doc)
	}
	for _, job := range []string{"pack", "publish"} {
		if c, ok := get(doc, job, "cache").([]any); !ok || len(c) != 0 {
			t.Errorf("%s: cache = %v, want []", job, get(doc, job, "cache"))
		}
		if get(doc, job, "inherit", "default") != false {
			t.Errorf("%s inherits default:", job)
		}
		rules, _ := get(doc, job, "rules").([]any)
		ref := `$CI_COMMIT_TAG =~ /^`
		if c.opts.Branch != "" {
			ref = `$CI_COMMIT_BRANCH == "` + c.opts.Branch + `" `
		}
		if len(rules) != 1 || !strings.HasPrefix(fmt.Sprint(get(rules[0], "if")), ref) || !strings.HasSuffix(fmt.Sprint(get(rules[0], "if")), `&& $CI_COMMIT_REF_PROTECTED == "true"`) {
			t.Errorf("%s: rules %v", job, rules)
		}
		if img := fmt.Sprint(get(doc, job, "image")); !strings.Contains(img, "@sha256:") && (job == "publish" || c.opts.NodeVersion == "") {
			t.Errorf("%s: image %s is not pinned by digest", job, img)
		}
	}
	if get(doc, "pack", "id_tokens") != nil || get(doc, "pack", "artifacts", "reports") != nil {
		t.Error("the pack job has ID tokens or reports")
	}
	if got := fmt.Sprint(get(doc, "publish", "id_tokens")); got != "map[NPM_ID_TOKEN:map[aud:npm:"+hostOf(c.opts.Registry)+"] SIGSTORE_ID_TOKEN:map[aud:sigstore]]" {
		t.Errorf("publish id_tokens = %s", got)
	}
	if got := fmt.Sprint(get(doc, "publish", "needs")); got != "[map[artifacts:true job:pack]]" {
		t.Errorf("publish needs %s", got)
	}
	if get(doc, "publish", "variables", "GIT_STRATEGY") != "empty" {
		t.Error("the publish job is not in an empty folder")
	}
	script, _ := get(doc, "publish", "script").([]any)
	all := fmt.Sprint(script)
	for _, bad := range []string{"npm ", "pnpm", "yarn", "node ", "corepack", "git "} {
		if strings.Contains(all, bad) {
			t.Errorf("the publish script runs %q:\n%s", bad, all)
		}
	}
	last := fmt.Sprint(script[len(script)-1])
	if !strings.Contains(last, "airlock publish") || strings.Contains(last, "--stage") != c.opts.Stage {
		t.Errorf("publish script ends with %q", last)
	}
	if c.opts.Workspaces {
		if !strings.Contains(last, "--manifest .airlock-release/release.json --integrity \"$integrity\"") || strings.Contains(all, ". .airlock-release") || strings.Contains(all, "source ") {
			t.Errorf("publish script %q: want --manifest with the digest read (never sourced) from manifest.env", all)
		}
		if !strings.Contains(fmt.Sprint(get(doc, "pack", "script")), "airlock pack --workspaces --only-unpublished") {
			t.Error("the pack job does not run airlock pack --workspaces --only-unpublished")
		}
	}
	if strings.Count(text, InstallScriptSHA256) != 2 || strings.Count(text, "airlock/"+testRef) != 2 {
		t.Error("both jobs must check install.sh's sha256 and fetch from the pinned commit")
	}
}

func hostOf(registry string) string {
	if registry == "" {
		return "registry.npmjs.org"
	}
	return strings.Split(strings.TrimPrefix(strings.TrimPrefix(registry, "https://"), "http://"), "/")[0]
}

// tool finds a linter make deps installs: $env (the binary, or the folder
// holding it), else .cache/tools/name. A missing linter fails the test:
// the generated workflows are what users run, unchecked they must not be.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	p, err := devtools.Dir(env, name)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, name)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed at %s (run make deps, or set %s): %v", name, p, env, err)
	}
	return p
}

// Every GitHub workflow init writes passes actionlint, which runs
// shellcheck on each run: step.
func TestActionlint(t *testing.T) {
	actionlint := tool(t, "AIRLOCK_ACTIONLINT", "actionlint")
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not on PATH (make deps installs it); actionlint needs it to check the run: steps")
	}
	dir := t.TempDir()
	var files []string
	for i, c := range combinations() {
		if c.opts.CI != GitHub {
			continue
		}
		wf, err := Render(c.pkg, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, fmt.Sprint(i), ".github", "workflows")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(d, "release.yml")
		if err := os.WriteFile(f, wf.Content, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) < 12 {
		t.Fatalf("only %d GitHub workflows", len(files))
	}
	cmd := exec.Command(actionlint, append([]string{"-no-color", "-shellcheck", shellcheck}, files...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint on %d workflows: %v\n%s", len(files), err, out)
	}
}

// The GitLab jobs' scripts are sh; shellcheck reads each job's as one
// script, as the runner runs it.
func TestGitLabScriptsShellcheck(t *testing.T) {
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Fatal("shellcheck is not on PATH (make deps installs it)")
	}
	for _, c := range combinations() {
		if c.opts.CI != GitLab {
			continue
		}
		wf, err := Render(c.pkg, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]struct{ Script []string }
		if err := yaml.Unmarshal(wf.Content, &doc); err != nil {
			t.Fatal(err)
		}
		for _, job := range []string{"pack", "publish"} {
			script := "#!/bin/sh\n" + strings.Join(doc[job].Script, "\n") + "\n"
			cmd := exec.Command(shellcheck, "-s", "sh", "-")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: shellcheck on the %s job: %v\n%s\n%s", c.name, job, err, out, script)
			}
		}
	}
}
