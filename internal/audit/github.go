package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/workflow"
	"github.com/airlockdev/airlock/internal/workflow/expr"
)

// wf is a workflow with what the rules learn about it.
type wf struct {
	w    *workflow.Workflow
	jobs []*job
	// callers are the jobs of other workflows that call this one
	// (uses: ./.github/workflows/this.yml).
	callers []*job
}

func (w *wf) path() string { return w.w.File.Path }

// privileged returns the first trigger that runs with the base
// repository's privileges on behalf of outsiders: pull_request_target,
// workflow_run or issue_comment.
func (w *wf) privileged() *workflow.Event {
	for _, e := range w.w.On {
		switch e.Name {
		case "pull_request_target", "workflow_run", "issue_comment":
			return e
		}
	}
	return nil
}

// outsiders reports whether outsiders can start the workflow with text
// of their own in the event: any trigger above, and issues, discussions
// and reviews.
func (w *wf) outsiders() bool {
	for _, e := range w.w.On {
		switch e.Name {
		case "pull_request_target", "workflow_run", "issue_comment", "issues", "discussion", "discussion_comment",
			"pull_request_review", "pull_request_review_comment":
			return true
		}
	}
	return false
}

type actionFile struct {
	dir    string
	a      *workflow.Action
	broken bool
}

// ref is a parsed uses:.
type ref struct {
	raw string
	// local is ./path; dir is the path, cleaned, relative to the root.
	local bool
	dir   string
	// docker is docker://image.
	docker bool
	// name is owner/repo[/path], lower case.
	name string
	ref  string
	// pinned: a full commit SHA, or an image digest.
	pinned bool
	// major is the version's major number, from the ref or from a
	// comment after a SHA (# v4.2.0); 0 when unknown.
	major int
}

var shaRe = regexp.MustCompile(`^[0-9a-f]{40}$`)
var versionRe = regexp.MustCompile(`\bv?(\d+)(\.\d+)*\b`)

func parseRef(n *workflow.Node) ref {
	s := strings.TrimSpace(n.Str())
	r := ref{raw: s}
	switch {
	case s == "":
	case strings.HasPrefix(s, "./") || s == ".":
		r.local = true
		if r.dir = path.Clean(s); r.dir == "." {
			r.dir = ""
		}
		if r.dir == ".." || strings.HasPrefix(r.dir, "../") {
			// Outside the workspace: nothing to read.
			r.dir, r.local = "", false
		}
	case strings.HasPrefix(s, "docker://"):
		r.docker = true
		r.name = strings.TrimPrefix(s, "docker://")
		r.pinned = strings.Contains(s, "@sha256:")
	default:
		name, rf, _ := strings.Cut(s, "@")
		r.name, r.ref = strings.ToLower(name), rf
		r.pinned = shaRe.MatchString(rf)
		if m := versionRe.FindStringSubmatch(rf); m != nil && !r.pinned {
			r.major, _ = strconv.Atoi(m[1])
		} else if r.pinned && n.File != nil {
			if c, ok := n.File.Comments[n.Pos.Line]; ok {
				if m := versionRe.FindStringSubmatch(c.Text); m != nil {
					r.major, _ = strconv.Atoi(m[1])
				}
			}
		}
	}
	return r
}

// is reports whether the action is name, or one of its sub-actions when
// name ends with "/" (actions/cache/ matches actions/cache/restore).
func (r ref) is(names ...string) bool {
	for _, n := range names {
		if r.name == n || (strings.HasSuffix(n, "/") && strings.HasPrefix(r.name, n)) {
			return true
		}
	}
	return false
}

func (r ref) owner() string { o, _, _ := strings.Cut(r.name, "/"); return o }

// step is a step of a job, or of a local composite action the job uses.
type step struct {
	s   *workflow.Step
	job *job
	// via are the uses: ./… steps that brought it in, outermost first.
	via []*step
	ref ref
	// facts are what its commands do.
	facts []sfact
	index int
}

// sfact is a fact and the scalar it was read from.
type sfact struct {
	fact
	src *workflow.Node
}

func (s *step) label() string {
	parts := make([]string, 0, len(s.via)+1)
	for _, v := range append(append([]*step(nil), s.via...), s) {
		l := v.s.Label()
		if l == v.ref.raw && v.ref.pinned && !v.ref.docker {
			// A SHA says nothing to a reader; the action's name does.
			l = v.ref.name
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " › ")
}

func (s *step) composite() bool { return len(s.via) > 0 }

type job struct {
	wf    *wf
	j     *workflow.Job
	steps []*step
	// idToken is the node that gives the job id-token: write, nil when
	// nothing does; fromWorkflow when it is the workflow's permissions,
	// and caller when it comes from a calling job.
	idToken      *workflow.Node
	fromWorkflow bool
	caller       *job
	secrets      []*workflow.Node

	checkout  int // index of the first step that checks out code, -1
	publishes []use
	runsCode  []use
	caches    []cacheUse
	uploads   bool
	untrusted *untrusted
}

// use is something a step does, where it is said, and how to say it.
type use struct {
	step *step
	node *workflow.Node
	what string
	f    fact
}

func (j *job) id() string { return j.j.ID }

func (j *job) trustedPublishing() bool { return j.idToken != nil && len(j.publishes) > 0 }

func (j *job) sensitive() bool { return j.idToken != nil || len(j.secrets) > 0 }

// loadGitHub reads the workflows and the repository's own actions.
func (a *auditor) loadGitHub() error {
	entries, err := fs.ReadDir(a.fsys, ".github/workflows")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading .github/workflows: %w", unwrapPath(err))
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
			continue
		}
		p := ".github/workflows/" + name
		src, ok, err := a.readFile(p)
		if !ok {
			continue
		}
		if err != nil {
			a.parseError(p, err)
			continue
		}
		w, err := workflow.ParseWorkflow(p, src)
		a.keep(w.File)
		if err != nil {
			a.parseError(p, err)
			continue
		}
		a.workflows = append(a.workflows, &wf{w: w})
	}
	a.action("")
	if entries, err := fs.ReadDir(a.fsys, ".github/actions"); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				a.action(".github/actions/" + e.Name())
			}
		}
	}
	return nil
}

// action reads the action in dir (action.yml or action.yaml), once.
func (a *auditor) action(dir string) *actionFile {
	if af, ok := a.actions[dir]; ok {
		return af
	}
	af := &actionFile{dir: dir}
	a.actions[dir] = af
	for _, name := range []string{"action.yml", "action.yaml"} {
		p := path.Join(dir, name)
		src, ok, err := a.readFile(p)
		if !ok {
			continue
		}
		if err != nil {
			a.parseError(p, err)
			af.broken = true
			return af
		}
		act, err := workflow.ParseAction(p, src)
		a.keep(act.File)
		if err != nil {
			a.parseError(p, err)
			af.broken = true
			return af
		}
		af.a = act
		return af
	}
	return af
}

func (a *auditor) checkGitHub() {
	for _, w := range a.workflows {
		for _, wj := range w.w.Jobs {
			w.jobs = append(w.jobs, a.buildJob(w, wj))
		}
	}
	// Callers of reusable workflows, then the permissions they pass on.
	for _, w := range a.workflows {
		for _, j := range w.jobs {
			r := parseRef(j.j.Uses)
			if !r.local {
				continue
			}
			for _, callee := range a.workflows {
				if callee.path() == r.dir {
					callee.callers = append(callee.callers, j)
				}
			}
		}
	}
	for _, w := range a.workflows {
		if w.w.Event("workflow_call") == nil || w.w.Permissions != nil {
			continue
		}
		for _, j := range w.jobs {
			if j.j.Permissions != nil || j.idToken != nil {
				continue
			}
			for _, c := range w.callers {
				if c.idToken != nil {
					j.idToken, j.caller = c.idToken, c
					break
				}
			}
		}
	}
	for _, w := range a.workflows {
		for _, j := range w.jobs {
			a.jobRules(j)
		}
		a.workflowRules(w)
	}
	a.crossWorkflowCaches()
	a.standaloneActions()
}

func (a *auditor) buildJob(w *wf, wj *workflow.Job) *job {
	j := &job{wf: w, j: wj, checkout: -1}
	a.expand(j, wj.Steps, nil, map[string]bool{}, 0)
	switch lvl, n := wj.Permissions.Level("id-token"); {
	case wj.Permissions != nil:
		if lvl == "write" {
			j.idToken = n
		}
	case w.w.Permissions != nil:
		if lvl, n := w.w.Permissions.Level("id-token"); lvl == "write" {
			j.idToken, j.fromWorkflow = n, true
		}
	}
	j.secrets = a.secretsOf(w, j)
	for _, st := range j.steps {
		a.analyze(st)
	}
	for i, st := range j.steps {
		if j.checkout < 0 && (st.ref.is("actions/checkout") || st.ref.local || st.has(doClone, doFetchPR)) {
			j.checkout = i
		}
		if st.ref.is("actions/upload-artifact", "actions/upload-pages-artifact") {
			j.uploads = true
		}
		for _, f := range st.facts {
			switch f.do {
			case doPublish:
				j.publishes = append(j.publishes, use{step: st, node: a.nodeAt(f.src, f.arg), what: f.what, f: f.fact})
			case doInstall, doRun:
				if j.checkout >= 0 {
					j.runsCode = append(j.runsCode, use{step: st, node: a.nodeAt(f.src, f.arg), what: f.what, f: f.fact})
				}
			}
		}
		if j.checkout >= 0 && !st.composite() {
			if what := runsProjectCode(st); what != "" {
				if st.ref.local {
					// Say what the action runs, when its steps tell.
					for _, inner := range j.steps[i+1:] {
						if len(inner.via) == 0 || inner.via[0] != st {
							break
						}
						if f := inner.first(doInstall, doRun); f != nil {
							what += ", which runs " + f.what
							break
						}
					}
				}
				j.runsCode = append(j.runsCode, use{step: st, node: st.s.Uses, what: what})
			}
		}
		j.caches = append(j.caches, a.cachesOf(st)...)
	}
	if w.privileged() != nil {
		j.untrusted = a.untrustedCheckout(j)
	}
	return j
}

func (s *step) first(dos ...action) *sfact {
	for i, f := range s.facts {
		for _, d := range dos {
			if f.do == d {
				return &s.facts[i]
			}
		}
	}
	return nil
}

func (s *step) has(dos ...action) bool {
	for _, f := range s.facts {
		for _, d := range dos {
			if f.do == d {
				return true
			}
		}
	}
	return false
}

// expand lists a job's steps, with the steps of the local composite
// actions they use right after the step that uses them.
func (a *auditor) expand(j *job, steps []*workflow.Step, via []*step, seen map[string]bool, depth int) {
	for _, s := range steps {
		st := &step{s: s, job: j, via: via, ref: parseRef(s.Uses), index: len(j.steps)}
		j.steps = append(j.steps, st)
		if !st.ref.local || depth >= 10 || seen[st.ref.dir] {
			continue
		}
		af := a.action(st.ref.dir)
		if af.a == nil || !strings.EqualFold(af.a.Using.Str(), "composite") {
			continue
		}
		inner := map[string]bool{st.ref.dir: true}
		for k := range seen {
			inner[k] = true
		}
		a.expand(j, af.a.Steps, append(append([]*step(nil), via...), st), inner, depth+1)
	}
}

// nodeAt is a node standing for the text at offset w.offset of scalar
// src, for a finding's position.
func (a *auditor) nodeAt(src *workflow.Node, w word) *workflow.Node {
	if src == nil || src.File == nil {
		return src
	}
	n := len(w.text)
	if n == 0 {
		n = 1
	}
	pos := src.File.Locate(src, w.offset, n)
	return &workflow.Node{Kind: workflow.Scalar, Value: w.text, Pos: pos, File: src.File}
}

// analyze reads what a step's commands do.
func (a *auditor) analyze(st *step) {
	lookup := a.scriptsFor(st)
	add := func(src *workflow.Node, script string) {
		for _, c := range commands(script) {
			for _, f := range classify(c, lookup, 0) {
				st.facts = append(st.facts, sfact{fact: f, src: src})
			}
		}
	}
	if st.s.Run.IsScalar() {
		add(st.s.Run, st.s.Run.Value)
	}
	switch {
	case st.ref.is("changesets/action"):
		if p := st.s.Input("publish"); p.IsScalar() {
			add(p, p.Value)
		}
		if v := st.s.Input("version"); v.IsScalar() {
			add(v, v.Value)
		}
	case st.ref.is("js-devtools/npm-publish"):
		st.facts = append(st.facts, sfact{fact: fact{do: doPublish, what: "JS-DevTools/npm-publish", tool: "npm", fromFolder: true,
			arg: word{text: st.ref.raw}}, src: st.s.Uses})
	case st.ref.is("cycjimmy/semantic-release-action"):
		st.facts = append(st.facts, sfact{fact: fact{do: doPublish, what: "semantic-release (cycjimmy/semantic-release-action)", tool: "semantic-release", fromFolder: true,
			arg: word{text: st.ref.raw}}, src: st.s.Uses},
			sfact{fact: fact{do: doRun, what: "semantic-release", arg: word{text: st.ref.raw}}, src: st.s.Uses})
	}
	// A word's offset is into the scalar's value, so a fact from the
	// uses: line points at its start.
	for i := range st.facts {
		if st.facts[i].src == st.s.Uses {
			st.facts[i].arg.offset = 0
		}
	}
}

// buildActions run what the checkout holds: builds, tests, installs.
var buildActions = []string{"docker/build-push-action", "github/codeql-action/autobuild", "gradle/", "bahmutov/npm-install",
	"cypress-io/github-action", "golangci/golangci-lint-action", "changesets/action", "actions/github-script",
	"goreleaser/goreleaser-action", "microsoft/playwright-github-action", "nick-fields/retry", "borales/actions-yarn",
	"cycjimmy/semantic-release-action", "js-devtools/npm-publish"}

// runsProjectCode says what project code a step runs through an action
// (a local action, a build action, pnpm/action-setup installing), "" when
// none.
func runsProjectCode(st *step) string {
	switch {
	case st.ref.local:
		return "the local action " + st.ref.raw
	case st.ref.is("pnpm/action-setup"):
		if v := st.s.Input("run_install"); v.Str() != "" && v.Str() != "false" {
			return "pnpm/action-setup with run_install"
		}
	case st.ref.is(buildActions...):
		return st.ref.name
	}
	return ""
}

// scriptsFor looks up package.json scripts for a step's commands.
func (a *auditor) scriptsFor(st *step) scripts {
	dir := ""
	for _, n := range []*workflow.Node{st.s.WorkingDirectory, st.job.j.WorkingDirectory, st.job.wf.w.WorkingDirectory} {
		if n.IsScalar() {
			dir = n.Str()
			break
		}
	}
	p := a.packageAt(dir)
	if p == nil {
		return nil
	}
	return func(name string) (string, bool) {
		s, ok := p.Scripts[name]
		return s, ok
	}
}

// secretsOf lists where a job reads secrets other than GITHUB_TOKEN, or
// passes them all on (secrets: inherit).
func (a *auditor) secretsOf(w *wf, j *job) []*workflow.Node {
	var out []*workflow.Node
	seen := map[*workflow.Node]bool{}
	var walk func(n *workflow.Node)
	walk = func(n *workflow.Node) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case workflow.Scalar:
			for _, in := range interpolations(n) {
				for _, acc := range in.accesses {
					p, _ := expr.PathOf(acc)
					if len(p) >= 2 && p[0] == "secrets" && p[1] != "github_token" {
						out = append(out, in.node(acc))
					}
				}
			}
		case workflow.Mapping:
			for _, kv := range n.Pairs {
				walk(kv.Value)
			}
		case workflow.Sequence:
			for _, it := range n.Items {
				walk(it)
			}
		}
	}
	walk(w.w.Env)
	walk(j.j.Node)
	if s := j.j.Secrets; s.Str() == "inherit" {
		out = append(out, s)
	}
	return out
}

// interp is one ${{ }} of a scalar.
type interp struct {
	scalar *workflow.Node
	part   expr.Part
	// e is nil when the expression does not parse (Actions would refuse
	// the workflow).
	e        expr.Node
	values   []expr.Node
	accesses []expr.Node
}

// node is a node at the access acc inside the expression.
func (in interp) node(acc expr.Node) *workflow.Node {
	off := in.part.Offset + 3 + acc.Offset()
	text := acc.String()
	n := len(text)
	if off+n > len(in.scalar.Value) {
		n = len(in.scalar.Value) - off
	}
	pos := in.scalar.Pos
	if in.scalar.File != nil {
		pos = in.scalar.File.Locate(in.scalar, off, n)
	}
	return &workflow.Node{Kind: workflow.Scalar, Value: text, Pos: pos, File: in.scalar.File}
}

// maxInterpolations bounds the expressions read from one value, so a
// hostile file cannot make the audit quadratic.
const maxInterpolations = 1000

func interpolations(n *workflow.Node) []interp {
	if !n.IsScalar() || !strings.Contains(n.Value, "${{") {
		return nil
	}
	var out []interp
	for _, p := range expr.Split(n.Value) {
		if !p.Expr {
			continue
		}
		if len(out) == maxInterpolations {
			break
		}
		in := interp{scalar: n, part: p}
		if e, err := expr.Parse(p.Text); err == nil {
			in.e = e
			in.values = expr.Values(e)
			in.accesses = expr.Accesses(e)
		}
		out = append(out, in)
	}
	return out
}

func paths(list ...string) []expr.Path {
	out := make([]expr.Path, len(list))
	for i, s := range list {
		out[i] = expr.Path(strings.Split(s, "."))
	}
	return out
}

// untrustedText are event fields whose text people outside the
// repository write.
var untrustedText = paths(
	"github.head_ref",
	"github.event.pull_request.title", "github.event.pull_request.body",
	"github.event.pull_request.head.ref", "github.event.pull_request.head.label",
	"github.event.pull_request.head.repo.default_branch", "github.event.pull_request.head.repo.description",
	"github.event.pull_request.head.repo.homepage",
	"github.event.issue.title", "github.event.issue.body",
	"github.event.comment.body", "github.event.review.body", "github.event.review_comment.body",
	"github.event.discussion.title", "github.event.discussion.body",
	"github.event.pages.*.page_name",
	"github.event.commits.*.message", "github.event.commits.*.author.name", "github.event.commits.*.author.email",
	"github.event.commits.*.committer.name", "github.event.commits.*.committer.email",
	"github.event.head_commit.message", "github.event.head_commit.author.name", "github.event.head_commit.author.email",
	"github.event.head_commit.committer.name", "github.event.head_commit.committer.email",
	"github.event.workflow_run.head_branch", "github.event.workflow_run.display_title",
	"github.event.workflow_run.head_commit.message", "github.event.workflow_run.head_commit.author.name",
	"github.event.workflow_run.head_commit.author.email", "github.event.workflow_run.pull_requests.*.head.ref",
	"github.event.workflow_run.head_repository.description",
	"github.event.merge_group.head_commit.message", "github.event.merge_group.head_commit.author.name",
	"github.event.merge_group.head_commit.author.email",
)

// untrustedRefs are event fields naming a pull request's code.
var untrustedRefs = paths(
	"github.head_ref",
	"github.event.pull_request.head.sha", "github.event.pull_request.head.ref",
	"github.event.pull_request.merge_commit_sha", "github.event.pull_request.head.repo.full_name",
	"github.event.pull_request.head.repo.clone_url",
	"github.event.workflow_run.head_sha", "github.event.workflow_run.head_branch",
	"github.event.workflow_run.head_commit.id", "github.event.workflow_run.head_repository.full_name",
	"github.event.workflow_run.pull_requests.*.head.sha", "github.event.workflow_run.pull_requests.*.head.ref",
)

func matchAny(p expr.Path, patterns []expr.Path) bool {
	for _, pat := range patterns {
		if len(p) >= 2 && p.Match(pat) {
			return true
		}
	}
	return false
}

// whoControls says who writes an untrusted field.
func whoControls(p expr.Path) string {
	s := p.String()
	switch {
	case strings.HasPrefix(s, "github.head_ref"), strings.Contains(s, "pull_request"):
		return "the pull request's author"
	case strings.Contains(s, ".issue."):
		return "whoever opens the issue"
	case strings.Contains(s, ".comment."), strings.Contains(s, ".review"):
		return "whoever comments"
	case strings.Contains(s, ".discussion."):
		return "whoever starts the discussion"
	case strings.Contains(s, ".pages."):
		return "whoever edits the wiki"
	case strings.Contains(s, "workflow_run"):
		return "the author of the branch that ran the first workflow"
	}
	return "whoever pushed the commits"
}

func (a *auditor) jobRules(j *job) {
	a.checkUses(j)
	a.checkInjection(j)
	a.checkUntrustedCheckout(j)
	a.checkPublishJob(j)
	a.checkIDTokenJob(j)
	a.checkCaches(j)
	a.checkPersistedCredentials(j)
}

// checkUses: unpinned-uses for steps and for a reusable workflow call.
func (a *auditor) checkUses(j *job) {
	if j.j.Uses.IsScalar() {
		r := parseRef(j.j.Uses)
		if !r.local && !r.pinned {
			sev := Medium
			if j.sensitive() || j.j.Secrets != nil {
				sev = High
			}
			a.add(a.finding(RuleUnpinnedUses, sev, j.j.Uses, j.id(), "",
				fmt.Sprintf("reusable workflow %s is called by %s, a name its owner can point at other code", r.raw, refKind(r.ref)),
				"pin it to a full commit SHA: uses: "+r.name+"@<40-character commit SHA> # "+r.ref))
		}
	}
	for _, st := range j.steps {
		a.checkStepUses(st, j)
	}
}

func refKind(rf string) string {
	switch {
	case rf == "":
		return "no version at all"
	case versionRe.MatchString(rf):
		return "the tag " + rf
	case regexp.MustCompile(`^[0-9a-f]{7,39}$`).MatchString(rf):
		return "the short SHA " + rf + " (only a full SHA is immutable)"
	}
	return "the branch or tag " + rf
}

func (a *auditor) checkStepUses(st *step, j *job) {
	r := st.ref
	if !st.s.Uses.IsScalar() || r.local || r.pinned || r.raw == "" {
		return
	}
	jobID, sensitive := "", false
	if j != nil {
		jobID, sensitive = j.id(), j.sensitive()
	}
	if r.docker {
		sev := Medium
		if sensitive {
			sev = High
		}
		a.add(a.finding(RuleUnpinnedUses, sev, st.s.Uses, jobID, st.label(),
			fmt.Sprintf("image %s is named by tag, which its publisher can move to another image", r.name),
			"pin it by digest: uses: docker://"+strings.SplitN(r.name, ":", 2)[0]+"@sha256:<digest>"))
		return
	}
	sev := Medium
	why := ""
	if r.owner() != "actions" && sensitive {
		sev = High
		why = "; this job holds " + sensitiveWhat(j) + ", which a moved tag would hand to whatever code the tag then names (as when tj-actions/changed-files was repointed)"
	}
	a.add(a.finding(RuleUnpinnedUses, sev, st.s.Uses, jobID, st.label(),
		fmt.Sprintf("%s is used by %s, a name its owner (or whoever takes over the repository) can point at other code%s", r.name, refKind(r.ref), why),
		"pin it to a full commit SHA, with the version in a comment: uses: "+r.name+"@<40-character commit SHA> # "+orDefault(r.ref, "vX.Y.Z")))
}

func sensitiveWhat(j *job) string {
	switch {
	case j.idToken != nil && len(j.secrets) > 0:
		return "id-token: write and secrets"
	case j.idToken != nil:
		return "id-token: write"
	}
	return "secrets"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// checkInjection: template-injection in run: and github-script's script:.
func (a *auditor) checkInjection(j *job) {
	for _, st := range j.steps {
		var targets []*workflow.Node
		if st.s.Run.IsScalar() {
			targets = append(targets, st.s.Run)
		}
		if st.ref.is("actions/github-script") {
			if sc := st.s.Input("script"); sc.IsScalar() {
				targets = append(targets, sc)
			}
		}
		for _, t := range targets {
			for _, in := range interpolations(t) {
				for _, v := range in.values {
					p, ok := expr.PathOf(v)
					if !ok {
						continue
					}
					why, sev := a.tainted(st, p, 0)
					if why == "" {
						continue
					}
					n := in.node(v)
					f := a.finding(RuleTemplateInjection, sev, n, j.id(), st.label(),
						fmt.Sprintf("${{ %s }} is pasted into the script before the shell reads it: %s, so a crafted value runs as code", strings.TrimSpace(in.part.Text), why),
						injectionHint(p, t == st.s.Run))
					if t.Block {
						if k := keyOf(st.s.Node, t); k != nil {
							f.also = []int{k.Pos.Line, k.Pos.Line - 1}
						}
					}
					a.add(f)
				}
			}
		}
	}
}

// keyOf finds the key of v in a step: run:, or an input under with:.
func keyOf(step, v *workflow.Node) *workflow.Node {
	for _, m := range []*workflow.Node{step, step.Get("with")} {
		for _, kv := range m.Entries() {
			if kv.Value == v {
				return kv.Key
			}
		}
	}
	return nil
}

func injectionHint(p expr.Path, shell bool) string {
	name := strings.ToUpper(strings.NewReplacer(".", "_", "-", "_", "*", "ALL").Replace(p[len(p)-1]))
	if len(p) >= 2 && p[len(p)-1] == "ref" || p[len(p)-1] == "body" || p[len(p)-1] == "title" || p[len(p)-1] == "message" {
		name = strings.ToUpper(strings.NewReplacer(".", "_", "-", "_", "*", "ALL").Replace(p[len(p)-2] + "_" + p[len(p)-1]))
	}
	if shell {
		return fmt.Sprintf("pass it through the environment and quote it: env: { %s: ${{ %s }} } and use \"$%s\" in the script", name, p, name)
	}
	return fmt.Sprintf("pass it through the environment: env: { %s: ${{ %s }} } and read process.env.%s in the script", name, p, name)
}

// tainted says why the value at p is not the workflow's own ("" when it
// is) and how bad pasting it into st's script is.
func (a *auditor) tainted(st *step, p expr.Path, depth int) (string, Severity) {
	j := st.job
	sev := Medium
	if j.wf.outsiders() || j.sensitive() {
		sev = High
	}
	if depth > 5 {
		return "", 0
	}
	if matchAny(p, untrustedText) {
		return fmt.Sprintf("%s is written by %s", p, whoControls(p)), sev
	}
	switch {
	case len(p) >= 2 && p[0] == "env":
		// env.X set from an untrusted value in the step, job or workflow.
		for _, env := range []*workflow.Node{st.s.Env, j.j.Env, j.wf.w.Env} {
			v := env.Get(strings.ToUpper(p[1]))
			if v == nil {
				for _, kv := range env.Entries() {
					if strings.EqualFold(kv.Key.Value, p[1]) {
						v = kv.Value
					}
				}
			}
			if v == nil {
				continue
			}
			for _, in := range interpolations(v) {
				for _, val := range in.values {
					if q, ok := expr.PathOf(val); ok {
						if why, s := a.tainted(st, q, depth+1); why != "" {
							return fmt.Sprintf("%s is set from %s", p, why), s
						}
					}
				}
			}
			break
		}
	case len(p) >= 2 && p[0] == "inputs" && st.composite():
		// A composite's input, given by the step that uses it.
		user := st.via[len(st.via)-1]
		if v := user.s.Input(p[1]); v != nil {
			for _, in := range interpolations(v) {
				for _, val := range in.values {
					if q, ok := expr.PathOf(val); ok {
						if why, s := a.tainted(user, q, depth+1); why != "" {
							return fmt.Sprintf("input %s is given %s", p[1], why), s
						}
					}
				}
			}
		}
	case len(p) >= 4 && p[0] == "needs" && p[2] == "outputs":
		dep := j.wf.jobByID(p[1])
		if dep == nil {
			return "", 0
		}
		if dep.untrusted != nil {
			return fmt.Sprintf("%s is written by job %s, which runs a pull request's code", p, dep.id()), High
		}
		if j.sensitive() && len(dep.runsCode) > 0 {
			return fmt.Sprintf("%s is written by job %s, which runs project code (%s): a compromised dependency or build step there writes its own outputs, and this job holds %s", p, dep.id(), dep.runsCode[0].what, sensitiveWhat(j)), High
		}
	case len(p) >= 4 && p[0] == "steps" && p[2] == "outputs" && j.sensitive():
		for _, other := range j.steps {
			if other.composite() != st.composite() || !strings.EqualFold(other.s.ID.Str(), p[1]) {
				continue
			}
			for _, rc := range j.runsCode {
				if rc.step == other {
					return fmt.Sprintf("%s is written by step %s, which runs project code (%s), and this job holds %s", p, other.label(), rc.what, sensitiveWhat(j)), High
				}
			}
		}
	}
	return "", 0
}

func (w *wf) jobByID(id string) *job {
	for _, j := range w.jobs {
		if strings.EqualFold(j.id(), id) {
			return j
		}
	}
	return nil
}

// untrusted is a checkout of a pull request's code and what then runs.
type untrusted struct {
	checkout *step
	node     *workflow.Node
	what     string
	runner   *step
	runs     string
	sev      Severity
	// offset is where, in a run step's script, the checkout command is.
	offset int
}

var pullRefText = regexp.MustCompile(`pull/[^/\s]+/(head|merge)\b`)

// untrustedCheckout finds, in a privileged workflow's job, the first
// checkout of a pull request's code that something runs afterwards.
func (a *auditor) untrustedCheckout(j *job) *untrusted {
	for i, st := range j.steps {
		u := a.checksOutPR(st)
		if u == nil {
			continue
		}
		// Something in the same script after the fetch runs too.
		if st.s.Run.IsScalar() {
			for _, c := range commands(st.s.Run.Value) {
				if c.offset > u.offset {
					u.runner, u.runs = st, "the commands after it in the same step ("+c.String()+")"
					return u
				}
			}
		}
		for _, later := range j.steps[i+1:] {
			if what := executes(later, a); what != "" {
				u.runner, u.runs = later, what
				return u
			}
		}
	}
	return nil
}

// checksOutPR reports a step that checks out a pull request's code.
func (a *auditor) checksOutPR(st *step) *untrusted {
	if st.ref.is("actions/checkout") {
		for _, input := range []string{"ref", "repository"} {
			v := st.s.Input(input)
			if !v.IsScalar() {
				continue
			}
			rendered := renderTemplate(v.Value)
			for _, in := range interpolations(v) {
				for _, val := range in.values {
					p, ok := expr.PathOf(val)
					if !ok {
						if l, isLit := val.(*expr.Literal); isLit {
							rendered += " " + l.Value
						}
						continue
					}
					if matchAny(p, untrustedRefs) {
						return &untrusted{checkout: st, node: in.node(val), sev: High,
							what: fmt.Sprintf("actions/checkout with %s: ${{ %s }} checks out the pull request's code", input, strings.TrimSpace(in.part.Text))}
					}
					if input == "ref" && len(p) >= 4 && (p[0] == "steps" || p[0] == "needs") && p[len(p)-2] == "outputs" &&
						(st.job.wf.w.Event("issue_comment") != nil || st.job.wf.w.Event("workflow_run") != nil) {
						return &untrusted{checkout: st, node: in.node(val), sev: Medium,
							what: fmt.Sprintf("actions/checkout with ref: ${{ %s }}, a ref an earlier step looked up, in a workflow that comment or workflow_run events start: usually the pull request's head", strings.TrimSpace(in.part.Text))}
					}
				}
			}
			if input == "ref" && pullRefText.MatchString(rendered) {
				return &untrusted{checkout: st, node: v, sev: High,
					what: fmt.Sprintf("actions/checkout with ref: %s checks out a pull request's code", strings.TrimSpace(v.Value))}
			}
		}
		return nil
	}
	for _, f := range st.facts {
		if f.do == doFetchPR {
			return &untrusted{checkout: st, node: a.nodeAt(f.src, f.arg), sev: High, what: f.what + " checks out a pull request's code", offset: f.cmd.offset}
		}
	}
	if st.s.Run.IsScalar() {
		for _, c := range commands(st.s.Run.Value) {
			argv := c.argv()
			if len(argv) < 2 || argv[0] != "git" {
				continue
			}
			sub, i := subcommand(argv, gitValueFlags)
			// A fetch alone runs nothing; checking the fetched code out does.
			if sub != "checkout" && sub != "switch" && sub != "reset" && sub != "pull" {
				continue
			}
			for _, w := range c.args[i+1:] {
				tmp := &workflow.Node{Kind: workflow.Scalar, Value: w.text, Tag: "!!str"}
				for _, in := range interpolations(tmp) {
					for _, val := range in.values {
						if p, ok := expr.PathOf(val); ok && matchAny(p, untrustedRefs) {
							return &untrusted{checkout: st, node: a.nodeAt(st.s.Run, w), sev: High, offset: c.offset,
								what: fmt.Sprintf("git %s %s checks out the pull request's code", sub, w.text)}
						}
					}
				}
			}
		}
	}
	return nil
}

// renderTemplate replaces each ${{ }} with X, keeping the text around it.
func renderTemplate(s string) string {
	var b strings.Builder
	for _, p := range expr.Split(s) {
		if p.Expr {
			b.WriteString("X")
			continue
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// executes says how a step runs code from the checkout, "" when it does
// not: any script, a local action, a build action, a setup action whose
// cache hashes and saves the checkout's files.
func executes(st *step, a *auditor) string {
	switch {
	case st.s.Run.IsScalar():
		return "the run step " + strconv.Quote(st.label())
	case st.ref.local:
		return "the local action " + st.ref.raw
	case st.ref.is(buildActions...):
		return st.ref.name
	case st.ref.is("pnpm/action-setup"):
		return "pnpm/action-setup"
	}
	if cs := a.cachesOf(st); len(cs) > 0 {
		return cs[0].what + ", which restores and saves a cache from the checkout's files"
	}
	return ""
}

func (a *auditor) checkUntrustedCheckout(j *job) {
	u := j.untrusted
	if u == nil {
		return
	}
	ev := j.wf.privileged()
	a.add(a.finding(RuleUntrustedCheckout, u.sev, u.node, j.id(), u.checkout.label(),
		fmt.Sprintf("%s in a workflow run by %s, which has the base repository's token, secrets and cache, and then %s runs it: the author's code runs with those privileges", u.what, ev.Name, u.runs),
		"check out the base (the default for "+ev.Name+") and run nothing from the pull request here; build and test the pull request in a pull_request workflow, which runs without secrets, and pass results on as artifacts if needed"))
}

// checkPublishJob: publish-job-runs-code, registry-url-token,
// npm-without-oidc, self-hosted-publish, untrusted-artifact.
func (a *auditor) checkPublishJob(j *job) {
	if len(j.publishes) == 0 {
		return
	}
	pub := j.publishes[0]
	if j.checkout >= 0 && len(j.runsCode) > 0 {
		co := j.steps[j.checkout]
		rc := j.runsCode[0]
		a.add(a.finding(RulePublishJobRunsCode, High, pub.node, j.id(), pub.step.label(),
			fmt.Sprintf("this job publishes (%s) and also checks out the source (%s, line %d) and runs it (%s, line %d): dependencies' install scripts, tests and build tools run next to the publish credential", pub.what, co.label(), nodeLine(co.s.Node), rc.what, nodeLine(rc.node)),
			"split the release: a pack job without credentials checks out, installs, tests and runs airlock pack; a publish job with no checkout downloads the tarball and runs airlock publish --integrity <digest from the pack job's outputs>"))
	}
	for _, lbl := range j.j.RunsOn {
		if strings.EqualFold(lbl.Str(), "self-hosted") {
			a.add(a.finding(RuleSelfHostedPublish, High, lbl, j.id(), "",
				"this job publishes on a self-hosted runner: npm's trusted publishing and provenance accept only GitHub-hosted runners, and a self-hosted machine keeps files and processes from earlier jobs, including untrusted ones",
				"run the publishing job on a GitHub-hosted runner (runs-on: ubuntu-latest); keep self-hosted runners for jobs without credentials"))
		}
	}
	for _, st := range j.steps {
		switch {
		case st.ref.is("actions/download-artifact"):
			for _, in := range []string{"run-id", "github-token"} {
				if v := st.s.Input(in); v != nil {
					a.add(a.finding(RuleUntrustedArtifact, High, v, j.id(), st.label(),
						fmt.Sprintf("this job publishes what actions/download-artifact fetches with %s: from another workflow run, which may have built a pull request's code or another branch", in),
						"publish only an artifact of this run (download-artifact without run-id or github-token), built by a job of this workflow, and check it against the digest in that job's outputs (airlock publish --integrity)"))
					break
				}
			}
		case st.ref.is("dawidd6/action-download-artifact"):
			a.add(a.finding(RuleUntrustedArtifact, High, st.s.Uses, j.id(), st.label(),
				"this job publishes what dawidd6/action-download-artifact fetches from another workflow run, which may have built a pull request's code or another branch",
				"publish only an artifact of this run, built by a job of this workflow, and check it against the digest in that job's outputs (airlock publish --integrity)"))
		}
		for _, f := range st.facts {
			if f.do == doDownloadRun {
				a.add(a.finding(RuleUntrustedArtifact, High, a.nodeAt(f.src, f.arg), j.id(), st.label(),
					"this job publishes after gh run download fetches another run's artifacts, which may have built a pull request's code or another branch",
					"publish only an artifact of this run, built by a job of this workflow, and check it against the digest in that job's outputs (airlock publish --integrity)"))
			}
		}
	}
	if j.idToken == nil {
		return
	}
	a.checkTokens(j)
	a.checkNpmOIDC(j)
	if j.wf.w.Event("workflow_call") != nil {
		a.checkReusable(j)
	}
}

func nodeLine(n *workflow.Node) int {
	if n == nil {
		return 0
	}
	return n.Pos.Line
}

// checkTokens: registry-url-token in a job that publishes by trusted
// publishing.
func (a *auditor) checkTokens(j *job) {
	for _, st := range j.steps {
		if st.ref.is("actions/setup-node") {
			if v := st.s.Input("registry-url"); v != nil {
				placeholder := "its npmrc reads the token from NODE_AUTH_TOKEN"
				if st.ref.major == 0 || st.ref.major < 7 {
					placeholder = "setup-node before v7 also sets NODE_AUTH_TOKEN to a placeholder, which npm sends instead of exchanging the ID token"
				}
				a.add(a.finding(RuleRegistryURLToken, Medium, v, j.id(), st.label(),
					"setup-node's registry-url writes an npmrc with //registry/:_authToken=${NODE_AUTH_TOKEN} in a job that publishes by trusted publishing: "+placeholder+", and any token put there is a long-lived credential next to the ID token",
					"remove registry-url (trusted publishing needs no npmrc; airlock publish takes the registry from --registry or publishConfig)"))
			}
		}
		for _, f := range st.facts {
			if f.do == doWriteToken {
				a.add(a.finding(RuleRegistryURLToken, High, a.nodeAt(f.src, f.arg), j.id(), st.label(),
					"this job writes an npm token into the configuration ("+f.what+") and publishes by trusted publishing: a long-lived credential next to the ID token, used instead of it",
					"remove the token: with trusted publishing the job needs no npm token; delete the secret once no workflow uses it"))
			}
		}
	}
	envs := []*workflow.Node{j.wf.w.Env, j.j.Env}
	for _, st := range j.steps {
		envs = append(envs, st.s.Env)
	}
	for _, env := range envs {
		for _, kv := range env.Entries() {
			name := strings.ToUpper(kv.Key.Value)
			if name != "NODE_AUTH_TOKEN" && name != "NPM_TOKEN" && name != "NPM_CONFIG__AUTHTOKEN" && !strings.HasSuffix(name, "_AUTHTOKEN") {
				continue
			}
			for _, in := range interpolations(kv.Value) {
				for _, acc := range in.accesses {
					if p, _ := expr.PathOf(acc); len(p) >= 2 && p[0] == "secrets" && p[1] != "github_token" {
						a.add(a.finding(RuleRegistryURLToken, High, kv.Key, j.id(), "",
							fmt.Sprintf("%s is set from %s in a job that publishes by trusted publishing: a long-lived npm token next to the ID token, which npm uses instead of it and which anything in the job can read", kv.Key.Value, acc),
							"remove "+kv.Key.Value+" and the secret: trusted publishing needs no npm token"))
					}
				}
			}
		}
	}
	for _, pub := range j.publishes {
		for _, rc := range a.npmrcFor(pub.step) {
			a.add(Finding{Rule: RuleRegistryURLToken, Severity: rc.sev, Path: rc.path, Line: rc.line, Column: 1, Job: j.id(),
				Message: fmt.Sprintf("%s sets %s, and %s publishes by trusted publishing from here (%s): a token next to the ID token, which npm uses instead of it", rc.path, rc.key, j.wf.path()+" job "+j.id(), pub.what),
				Hint:    "remove the _authToken line: trusted publishing needs no npm token"})
		}
	}
}

// checkNpmOIDC: npm-without-oidc.
func (a *auditor) checkNpmOIDC(j *job) {
	for _, pub := range j.publishes {
		if pub.f.tool != "npm" {
			continue
		}
		var setup *step
		upgraded := false
		for _, st := range j.steps[:pub.step.index+1] {
			if st.ref.is("actions/setup-node") {
				setup = st
			}
			for _, f := range st.facts {
				if f.do == doUpgradeNpm && npmHasOIDC(f.tool) {
					upgraded = true
				}
			}
		}
		if upgraded {
			continue
		}
		versions, where, how := a.nodeVersions(j, setup)
		if len(versions) == 0 {
			n := where
			if n == nil {
				n = pub.node
			}
			a.add(a.finding(RuleNpmWithoutOIDC, Low, n, j.id(), pub.step.label(),
				fmt.Sprintf("%s publishes by trusted publishing on %s, whose npm version airlock cannot tell: npm supports trusted publishing from 11.5.1 (Node 24 ships it; Node 22 and older ship npm 10)", pub.what, how),
				"set node-version: 24 on setup-node, or run npm install --global npm@^11.5.1 before publishing"))
			continue
		}
		for _, v := range versions {
			if v.major >= 24 {
				continue
			}
			a.add(a.finding(RuleNpmWithoutOIDC, High, v.node, j.id(), pub.step.label(),
				fmt.Sprintf("%s publishes by trusted publishing on Node %s, whose npm (%s) has no OIDC support (npm 11.5.1 or later): the publish fails, or falls back to a token", pub.what, v.spec, npmOf(v.major)),
				"use node-version: 24, or run npm install --global npm@^11.5.1 before publishing"))
			break
		}
	}
}

func npmOf(major int) string {
	switch {
	case major >= 22:
		return "npm 10"
	case major >= 20:
		return "npm 10"
	case major >= 18:
		return "npm 9 or 10"
	}
	return "npm 8 or older"
}

// npmHasOIDC reports whether an npm version spec installs 11.5.1 or later.
func npmHasOIDC(spec string) bool {
	s := strings.TrimSpace(spec)
	switch s {
	case "", "latest", "next", "*", "x":
		return true
	}
	tilde := strings.HasPrefix(s, "~")
	s = strings.TrimLeft(s, "^~>=v")
	parts := strings.Split(s, ".")
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	if major != 11 {
		return major > 11
	}
	if len(parts) < 2 || parts[1] == "x" || parts[1] == "*" {
		return true
	}
	if !tilde && strings.HasPrefix(strings.TrimSpace(spec), "^") {
		return true
	}
	minor, _ := strconv.Atoi(parts[1])
	if minor != 5 {
		return minor > 5
	}
	if len(parts) < 3 {
		return true
	}
	patch, _ := strconv.Atoi(parts[2])
	return patch >= 1
}

type nodeVersion struct {
	major int
	spec  string
	node  *workflow.Node
}

// nodeVersions returns the Node versions a job publishes with, or where
// the version comes from and why it is unknown.
func (a *auditor) nodeVersions(j *job, setup *step) ([]nodeVersion, *workflow.Node, string) {
	if setup == nil {
		if c := j.j.Container; c.IsScalar() && strings.HasPrefix(c.Str(), "node:") {
			tag := strings.TrimPrefix(c.Str(), "node:")
			if m, ok := nodeMajor(strings.SplitN(tag, "-", 2)[0]); ok {
				return []nodeVersion{{m, tag, c}}, c, ""
			}
		}
		return nil, nil, "the runner image's Node (no actions/setup-node)"
	}
	if v := setup.s.Input("node-version"); v.IsScalar() {
		ins := interpolations(v)
		if len(ins) == 0 {
			if m, ok := nodeMajor(v.Str()); ok {
				return []nodeVersion{{m, v.Str(), v}}, v, ""
			}
			return nil, v, "node-version " + strconv.Quote(v.Str())
		}
		var out []nodeVersion
		for _, in := range ins {
			for _, val := range in.values {
				p, ok := expr.PathOf(val)
				if !ok || len(p) != 2 || p[0] != "matrix" {
					return nil, v, "node-version " + v.Str()
				}
				for _, item := range j.j.Matrix.Get(p[1]).List() {
					m, ok := nodeMajor(item.Str())
					if !ok {
						return nil, v, "node-version " + v.Str()
					}
					out = append(out, nodeVersion{m, item.Str(), item})
				}
			}
		}
		if len(out) == 0 {
			return nil, v, "node-version " + v.Str()
		}
		return out, v, ""
	}
	if f := setup.s.Input("node-version-file"); f.IsScalar() {
		spec, ok := a.nodeVersionFile(f.Str())
		if m, known := nodeMajor(spec); ok && known {
			return []nodeVersion{{m, spec + " (from " + f.Str() + ")", f}}, f, ""
		}
		return nil, f, "node-version-file " + f.Str()
	}
	return nil, setup.s.Uses, "the runner image's Node (setup-node without node-version)"
}

var ltsNames = map[string]int{"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
	"gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}

// nodeMajor reads the major version setup-node would install for a spec:
// 22, 22.x, v22.1.0, lts/jod, lts/* (24), latest, >=20 (the newest).
func nodeMajor(spec string) (int, bool) {
	s := strings.ToLower(strings.TrimSpace(spec))
	switch s {
	case "latest", "current", "node", "lts/*", "lts", "*", "lts/-0":
		return 24, true
	}
	if name, ok := strings.CutPrefix(s, "lts/"); ok {
		m, known := ltsNames[name]
		return m, known
	}
	if strings.HasPrefix(s, ">") && !strings.ContainsAny(s, "<") {
		return 24, true
	}
	s = strings.TrimLeft(s, "v=^~ ")
	digits := s
	if i := strings.IndexAny(s, ".x "); i >= 0 {
		digits = s[:i]
	}
	m, err := strconv.Atoi(digits)
	if err != nil || m <= 0 {
		return 0, false
	}
	return m, true
}

// checkIDTokenJob: id-token-scope for one job.
func (a *auditor) checkIDTokenJob(j *job) {
	if j.idToken == nil {
		return
	}
	holds := fmt.Sprintf("this job holds id-token: write (line %d)", j.idToken.Pos.Line)
	switch {
	case j.caller != nil:
		holds = fmt.Sprintf("this job holds id-token: write from its caller, job %s of %s (line %d)", j.caller.id(), j.caller.wf.path(), j.idToken.Pos.Line)
	case j.fromWorkflow:
		holds = fmt.Sprintf("this job holds id-token: write from the workflow's permissions (line %d)", j.idToken.Pos.Line)
	}
	if j.checkout >= 0 && len(j.runsCode) > 0 {
		rc := j.runsCode[0]
		a.add(a.finding(RuleIDTokenScope, High, rc.node, j.id(), rc.step.label(),
			fmt.Sprintf("%s and checks out and runs project code here (%s): any dependency, test or build script can mint the OIDC token and publish as this repository", holds, rc.what),
			"give id-token: write only to a publish job that checks out nothing and runs no project code: it downloads the packed tarball and runs airlock publish"))
	}
	for _, c := range j.caches {
		if !c.restore {
			continue
		}
		a.add(a.finding(RuleIDTokenScope, High, c.node, j.id(), c.step.label(),
			fmt.Sprintf("%s and restores a cache (%s): whatever another workflow saved under that key runs or is used next to the OIDC token", holds, c.what),
			"restore no cache in the job that holds id-token: write"))
	}
	for _, st := range j.steps {
		r := st.ref
		if st.s.Uses.IsScalar() && !r.local && !r.pinned && !r.docker && r.owner() != "actions" && r.raw != "" {
			a.add(a.finding(RuleIDTokenScope, High, st.s.Uses, j.id(), st.label(),
				fmt.Sprintf("%s and uses %s by %s: whoever moves that ref runs code that can mint the OIDC token", holds, r.name, refKind(r.ref)),
				"in the job that holds id-token: write, use only actions pinned by full commit SHA, and as few as possible"))
		}
	}
}

// workflowRules: id-token-scope at workflow level and across jobs.
func (a *auditor) workflowRules(w *wf) {
	if lvl, n := w.w.Permissions.Level("id-token"); lvl == "write" {
		sev := High
		if len(w.jobs) <= 1 {
			sev = Medium
		}
		what := "id-token: write"
		if w.w.Permissions.All == "write-all" {
			what = "write-all (which includes id-token: write)"
		}
		a.add(a.finding(RuleIDTokenScope, sev, n, "", "",
			fmt.Sprintf("%s is given to the whole workflow: every job (%d here) can mint an OIDC token and publish as this repository, including jobs that install and run dependencies", what, len(w.jobs)),
			"set permissions: {} (or contents: read) at the top, and permissions: { id-token: write } on the one job that publishes"))
		return
	}
	var holders []*job
	for _, j := range w.jobs {
		if j.idToken != nil && !j.fromWorkflow && j.caller == nil {
			holders = append(holders, j)
		}
	}
	if len(holders) > 1 {
		for _, j := range holders {
			var others []string
			for _, o := range holders {
				if o != j {
					others = append(others, o.id())
				}
			}
			a.add(a.finding(RuleIDTokenScope, Medium, j.idToken, j.id(), "",
				fmt.Sprintf("this job holds id-token: write, and so does %s: each is a place where code can mint the OIDC token", "job "+strings.Join(others, ", job ")),
				"keep id-token: write on the one job that publishes (and one that attests, if it must be separate)"))
		}
	}
}

// checkReusable: reusable-workflow-binding.
func (a *auditor) checkReusable(j *job) {
	w := j.wf
	var callers []string
	for _, c := range w.callers {
		callers = append(callers, c.wf.path()+" (job "+c.id()+")")
	}
	pub := j.publishes[0]
	switch len(callers) {
	case 1:
		a.add(a.finding(RuleReusableWorkflowBinding, Low, j.j.At, j.id(), "",
			fmt.Sprintf("this job publishes by trusted publishing (%s) from a reusable workflow, called by %s: npm matches the trusted publisher against the calling workflow's file, so it must name %s, not %s", pub.what, callers[0], path.Base(w.callers[0].wf.path()), path.Base(w.path())),
			"configure the package's trusted publisher with the workflow file "+path.Base(w.callers[0].wf.path())+"; or move the publish job into that workflow"))
	case 0:
		a.add(a.finding(RuleReusableWorkflowBinding, High, j.j.At, j.id(), "",
			fmt.Sprintf("this job publishes by trusted publishing (%s) from a reusable workflow that no workflow of this repository calls: npm matches the trusted publisher against the calling workflow's file, which is not here", pub.what),
			"move the publish job into the workflow that the trusted publisher names, or call this one from exactly that workflow"))
	default:
		a.add(a.finding(RuleReusableWorkflowBinding, High, j.j.At, j.id(), "",
			fmt.Sprintf("this job publishes by trusted publishing (%s) from a reusable workflow called by %d workflows (%s): npm matches the trusted publisher against the calling workflow's file, and any caller the publisher names can publish", pub.what, len(callers), strings.Join(callers, ", ")),
			"call the publishing workflow from one workflow only, and name that file in the trusted publisher"))
	}
}

// checkPersistedCredentials: persisted-credentials.
func (a *auditor) checkPersistedCredentials(j *job) {
	if !j.uploads && j.untrusted == nil {
		return
	}
	for _, st := range j.steps {
		if !st.ref.is("actions/checkout") {
			continue
		}
		if v, ok := st.s.Input("persist-credentials").Bool(); ok && !v {
			continue
		}
		sev, why := Medium, "this job uploads artifacts, and an upload of the workspace takes .git/config with it"
		if j.untrusted != nil {
			sev, why = High, "this job runs a pull request's code, which can read it"
		}
		a.add(a.finding(RulePersistedCredentials, sev, st.s.Uses, j.id(), st.label(),
			"actions/checkout stores the job's GITHUB_TOKEN in .git/config unless told not to: "+why,
			"add with: { persist-credentials: false } to the checkout"))
	}
}

// standaloneActions checks the repository's own actions that no job used
// (those a job uses were checked with it).
func (a *auditor) standaloneActions() {
	used := map[string]bool{}
	for _, w := range a.workflows {
		for _, j := range w.jobs {
			for _, st := range j.steps {
				if st.ref.local {
					used[st.ref.dir] = true
				}
			}
		}
	}
	for dir, af := range a.actions {
		if used[dir] || af.a == nil {
			continue
		}
		pseudo := &job{wf: &wf{w: &workflow.Workflow{File: af.a.File}}, j: &workflow.Job{ID: ""}, checkout: -1}
		a.expand(pseudo, af.a.Steps, nil, map[string]bool{dir: true}, 0)
		for _, st := range pseudo.steps {
			a.checkStepUses(st, nil)
		}
		for _, st := range pseudo.steps {
			if !st.s.Run.IsScalar() {
				continue
			}
			for _, in := range interpolations(st.s.Run) {
				for _, v := range in.values {
					p, ok := expr.PathOf(v)
					if !ok || !matchAny(p, untrustedText) {
						continue
					}
					f := a.finding(RuleTemplateInjection, Medium, in.node(v), "", st.label(),
						fmt.Sprintf("${{ %s }} is pasted into the script before the shell reads it: %s is written by %s, so a crafted value runs as code", strings.TrimSpace(in.part.Text), p, whoControls(p)),
						injectionHint(p, true))
					a.add(f)
				}
			}
		}
	}
}
