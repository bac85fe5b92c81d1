package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/workflow"
)

type glJob struct {
	j         *workflow.GitLabJob
	facts     []sfact
	publishes []use
	runsCode  []use
	// tokens are the id_tokens entries with an npm: audience.
	tokens []*workflow.Node
}

func (a *auditor) loadGitLab() {
	for _, name := range []string{".gitlab-ci.yml", ".gitlab-ci.yaml"} {
		if _, err := fs.Stat(a.fsys, name); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		p, errs := workflow.LoadGitLab(a.fsys, name)
		if p != nil {
			for _, f := range p.Files {
				a.keep(f)
			}
		}
		for _, err := range errs {
			a.parseError(name, err)
		}
		a.pipeline = p
		return
	}
}

// npmTokens returns the id_tokens entries of a mapping whose audience is
// an npm registry's.
func npmTokens(ids *workflow.Node) []*workflow.Node {
	var out []*workflow.Node
	for _, kv := range ids.Entries() {
		for _, aud := range kv.Value.Get("aud").List() {
			if strings.HasPrefix(aud.Str(), "npm:") {
				out = append(out, kv.Key)
				break
			}
		}
	}
	return out
}

func (a *auditor) checkGitLab() {
	p := a.pipeline
	if p == nil {
		return
	}
	var lookup scripts
	if a.pkg != nil {
		lookup = func(name string) (string, bool) { s, ok := a.pkg.Scripts[name]; return s, ok }
	}
	var jobs []*glJob
	for _, j := range p.Jobs {
		g := &glJob{j: j, tokens: npmTokens(j.Get("id_tokens"))}
		for _, line := range j.Script() {
			for _, c := range commands(line.Value) {
				for _, f := range classify(c, lookup, 0) {
					sf := sfact{fact: f, src: line}
					g.facts = append(g.facts, sf)
					u := use{node: a.nodeAt(line, f.arg), what: f.what, f: f}
					switch f.do {
					case doPublish:
						g.publishes = append(g.publishes, u)
					case doInstall, doRun:
						g.runsCode = append(g.runsCode, u)
					}
				}
			}
		}
		jobs = append(jobs, g)
	}
	a.gitlabTokens(p, jobs)
	var publishing []*glJob
	for _, g := range jobs {
		if !g.j.Hidden && len(g.publishes) > 0 {
			publishing = append(publishing, g)
		}
	}
	for _, g := range publishing {
		a.gitlabProtected(p, g)
		a.gitlabCache(g)
		a.gitlabDotenv(p, jobs, g)
	}
	for _, g := range jobs {
		if g.j.Hidden {
			continue
		}
		for _, c := range cacheEntries(g.j.Get("cache")) {
			if v, ok := c.Get("unprotect").Bool(); ok && v {
				sev := Medium
				if len(publishing) > 0 {
					sev = High
				}
				a.add(a.finding(RuleGitLabCacheInPublish, sev, c.Get("unprotect"), g.j.Name, "",
					fmt.Sprintf("this job (%s) sets cache:unprotect: true, so pipelines of unprotected branches (anyone with Developer access, and merge requests from them) share this cache with protected branches and tags, where releases run", g.j.Name),
					"remove unprotect: true; keep protected and unprotected caches apart (GitLab's default)"))
			}
		}
	}
}

func cacheEntries(n *workflow.Node) []*workflow.Node {
	switch {
	case n.IsMap():
		return []*workflow.Node{n}
	case n.IsSeq():
		var out []*workflow.Node
		for _, it := range n.Items {
			if it.IsMap() {
				out = append(out, it)
			}
		}
		return out
	}
	return nil
}

// ownRange is where a top-level key's own text is: from its line to the
// next top-level key of the same file.
func ownRange(p *workflow.Pipeline, name string) (file string, from, to int) {
	var lines []int
	var at *workflow.Node
	for _, kv := range p.Root.Pairs {
		if kv.Key.Value == name {
			at = kv.Key
		}
	}
	if at == nil {
		return "", 0, 0
	}
	for _, kv := range p.Root.Pairs {
		if kv.Key.File == at.File {
			lines = append(lines, kv.Key.Pos.Line)
		}
	}
	sort.Ints(lines)
	to = 1 << 30
	for _, l := range lines {
		if l > at.Pos.Line && l < to {
			to = l
		}
	}
	return at.File.Path, at.Pos.Line, to
}

// gitlabTokens: gitlab-id-token-scope.
func (a *auditor) gitlabTokens(p *workflow.Pipeline, jobs []*glJob) {
	if def := p.Default; def != nil {
		for _, k := range npmTokens(def.Get("id_tokens")) {
			var names []string
			for _, g := range jobs {
				if !g.j.Hidden && g.j.FromDefault["id_tokens"] {
					names = append(names, g.j.Name)
				}
			}
			a.add(a.finding(RuleGitLabIDTokenScope, High, k, "", "",
				fmt.Sprintf("the ID token %s for npm is declared in default:, so every job that does not opt out gets it (%s): any of them can publish as this project", k.Value, listOrNone(names)),
				"declare id_tokens only in the publishing job, which runs only airlock publish"))
		}
	}
	inherited := map[*workflow.Node][]string{}
	var order []*workflow.Node
	for _, g := range jobs {
		if g.j.Hidden || g.j.FromDefault["id_tokens"] {
			continue
		}
		file, from, to := ownRange(p, g.j.Name)
		for _, k := range g.tokens {
			if k.File != nil && k.File.Path == file && k.Pos.Line > from && k.Pos.Line < to {
				continue
			}
			if _, ok := inherited[k]; !ok {
				order = append(order, k)
			}
			inherited[k] = append(inherited[k], g.j.Name)
		}
	}
	for _, k := range order {
		a.add(a.finding(RuleGitLabIDTokenScope, High, k, "", "",
			fmt.Sprintf("the ID token %s for npm is declared in a template or anchor that other jobs take it from (%s): each of them can publish as this project, and the next job to extend it will too", k.Value, strings.Join(inherited[k], ", ")),
			"declare id_tokens in the publishing job itself, not in a template it shares with others"))
	}
	for _, g := range jobs {
		if g.j.Hidden || len(g.tokens) == 0 || len(g.runsCode) == 0 {
			continue
		}
		rc := g.runsCode[0]
		a.add(a.finding(RuleGitLabIDTokenScope, High, rc.node, g.j.Name, "",
			fmt.Sprintf("this job has the ID token %s for npm and runs project code (%s): any dependency, test or build script can read the token and publish as this project", g.tokens[0].Value, rc.what),
			"split the job: pack in a job without id_tokens (airlock pack --dotenv), publish in a job that has the token and runs only airlock publish"))
	}
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "no job yet"
	}
	return strings.Join(names, ", ")
}

// gitlabProtected: gitlab-unprotected-publish.
func (a *auditor) gitlabProtected(p *workflow.Pipeline, g *glJob) {
	if ok, _ := rulesRestrict(p.Workflow.Get("rules")); ok {
		return
	}
	rules := g.j.Get("rules")
	why := ""
	switch {
	case rules.IsSeq():
		ok, reason := rulesRestrict(rules)
		if ok {
			return
		}
		why = reason
	case g.j.Get("only") != nil:
		if onlyRestricts(g.j.Get("only")) {
			return
		}
		why = "its only: allows other refs than tags and named branches"
	default:
		why = "it has no rules:, so it runs in the pipeline of every push to any branch"
	}
	pub := g.publishes[0]
	a.add(a.finding(RuleGitLabUnprotected, High, g.j.At, g.j.Name, "",
		fmt.Sprintf("this job publishes (%s) and can run on unprotected refs or in merge request pipelines: %s", pub.what, why),
		`restrict it to tags: rules: [{ if: $CI_COMMIT_TAG }] (and protect the tags), or to the default branch: { if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH }`))
}

// rulesRestrict reports whether every way through a rules: list that runs
// the job needs a tag or the default (or a protected) branch.
func rulesRestrict(rules *workflow.Node) (bool, string) {
	if !rules.IsSeq() {
		return false, "no rules"
	}
	var excluded []*workflow.RuleExpr
	for i, r := range rules.Items {
		cond := r.Get("if")
		when := strings.ToLower(r.Get("when").Str())
		var e *workflow.RuleExpr
		if cond.IsScalar() {
			parsed, err := workflow.ParseRuleIf(cond.Str())
			if err != nil {
				return false, fmt.Sprintf("rule %d's if: cannot be read (%v)", i+1, err)
			}
			e = parsed
		}
		if when == "never" {
			if e == nil {
				// Nothing after this rule can run.
				return true, ""
			}
			excluded = append(excluded, negate(e))
			continue
		}
		restricted := e != nil && restricts(e)
		for _, x := range excluded {
			restricted = restricted || restricts(x)
		}
		if !restricted {
			if e == nil {
				return false, fmt.Sprintf("rule %d has no if:, so it matches any pipeline", i+1)
			}
			return false, fmt.Sprintf("rule %d (if: %s) matches pipelines of other refs than tags and the default branch", i+1, cond.Str())
		}
	}
	return true, ""
}

// restricts reports whether an expression can be true only for a tag or
// the default (or a protected) branch.
func restricts(e *workflow.RuleExpr) bool {
	switch e.Op {
	case "&&":
		return restricts(e.L) || restricts(e.R)
	case "||":
		return restricts(e.L) && restricts(e.R)
	case "var":
		return e.Value == "CI_COMMIT_TAG"
	case "==", "!=", "=~", "!~":
		l, r := e.L, e.R
		if l.Op != "var" && r.Op == "var" {
			l, r = r, l
		}
		if l.Op != "var" {
			return false
		}
		switch {
		case l.Value == "CI_COMMIT_TAG":
			// A tag exists: != null, == "v1", =~ /^v/.
			return (e.Op == "!=" && r.Op == "null") || (e.Op == "==" && r.Op != "null") || e.Op == "=~"
		case e.Op == "==" && (l.Value == "CI_COMMIT_BRANCH" || l.Value == "CI_COMMIT_REF_NAME") && r.Op == "var" && r.Value == "CI_DEFAULT_BRANCH":
			return true
		case e.Op == "==" && l.Value == "CI_DEFAULT_BRANCH" && r.Op == "var" && (r.Value == "CI_COMMIT_BRANCH" || r.Value == "CI_COMMIT_REF_NAME"):
			return true
		case e.Op == "==" && l.Value == "CI_COMMIT_BRANCH" && r.Op == "string":
			return true
		case e.Op == "==" && l.Value == "CI_COMMIT_REF_PROTECTED" && r.Op == "string" && r.Value == "true":
			return true
		}
	}
	return false
}

// negate is the condition under which e is false.
func negate(e *workflow.RuleExpr) *workflow.RuleExpr {
	flip := map[string]string{"==": "!=", "!=": "==", "=~": "!~", "!~": "=~"}
	switch e.Op {
	case "&&":
		return &workflow.RuleExpr{Op: "||", L: negate(e.L), R: negate(e.R)}
	case "||":
		return &workflow.RuleExpr{Op: "&&", L: negate(e.L), R: negate(e.R)}
	case "var":
		return &workflow.RuleExpr{Op: "==", L: e, R: &workflow.RuleExpr{Op: "null"}}
	}
	if op, ok := flip[e.Op]; ok {
		return &workflow.RuleExpr{Op: op, L: e.L, R: e.R}
	}
	return &workflow.RuleExpr{Op: "string"}
}

func onlyRestricts(only *workflow.Node) bool {
	refs := only.List()
	if only.IsMap() {
		refs = only.Get("refs").List()
		if refs == nil {
			return false
		}
	}
	if len(refs) == 0 {
		return false
	}
	for _, r := range refs {
		switch v := r.Str(); {
		case v == "tags":
		case v == "branches" || v == "merge_requests" || v == "pushes" || v == "api" || v == "web" ||
			v == "external" || v == "triggers" || v == "pipelines" || v == "external_pull_requests" || v == "chat":
			return false
		case strings.HasPrefix(v, "/"):
			return false
		}
	}
	return true
}

// gitlabCache: gitlab-cache-in-publish for the publishing job's own cache.
func (a *auditor) gitlabCache(g *glJob) {
	entries := cacheEntries(g.j.Get("cache"))
	if len(entries) == 0 {
		return
	}
	from := ""
	if g.j.FromDefault["cache"] {
		from = " (from default:)"
	}
	a.add(a.finding(RuleGitLabCacheInPublish, High, entries[0], g.j.Name, "",
		fmt.Sprintf("this job (%s) publishes and has a cache%s: other pipelines, such as a merge request's or a branch's with the same key, can write what this job restores next to the credential", g.j.Name, from),
		"set cache: [] on the publishing job"))
}

// gitlabDotenv: gitlab-dotenv-into-publish.
func (a *auditor) gitlabDotenv(p *workflow.Pipeline, jobs []*glJob, g *glJob) {
	byName := map[string]*glJob{}
	for _, o := range jobs {
		byName[o.j.Name] = o
	}
	var sources []*glJob
	switch needs, deps := g.j.Get("needs"), g.j.Get("dependencies"); {
	case needs.IsSeq():
		for _, n := range needs.Items {
			name := n.Str()
			if n.IsMap() {
				name = n.Get("job").Str()
				if v, ok := n.Get("artifacts").Bool(); ok && !v {
					continue
				}
			}
			if o := byName[name]; o != nil {
				sources = append(sources, o)
			}
		}
	case deps.IsSeq():
		for _, n := range deps.Items {
			if o := byName[n.Str()]; o != nil {
				sources = append(sources, o)
			}
		}
	default:
		stage := stageIndex(p, g.j.Stage())
		for _, o := range jobs {
			if !o.j.Hidden && stageIndex(p, o.j.Stage()) < stage {
				sources = append(sources, o)
			}
		}
	}
	onlyAirlock := onlyRunsAirlock(g)
	// The finding is the publishing job's: it is there that the variables
	// arrive, at the needs: entry that brings them when there is one.
	at := func(s *glJob) *workflow.Node {
		for _, n := range g.j.Get("needs").List() {
			if n.Str() == s.j.Name {
				return n
			}
			if n.IsMap() && n.Get("job").Str() == s.j.Name {
				return n.Get("job")
			}
		}
		return g.j.At
	}
	for _, s := range sources {
		if s == g || len(s.runsCode) == 0 {
			continue
		}
		if s.j.Get("artifacts").Get("reports").Get("dotenv") == nil {
			continue
		}
		rc := s.runsCode[0]
		if onlyAirlock {
			a.add(a.finding(RuleGitLabDotenvIntoPublish, Low, at(s), g.j.Name, "",
				fmt.Sprintf("the dotenv report of job %s becomes variables of this publishing job, and job %s runs project code (%s): what that code writes there is set here. airlock publish takes proxies and trust roots only from flags and npmrc, so such variables cannot send the credential elsewhere; they still choose AIRLOCK_TARBALL and AIRLOCK_INTEGRITY, so the pin guards the hand-off, not a compromised pack job", s.j.Name, s.j.Name, rc.what),
				"keep the pack job's code to what the build needs, and compare the published version with a rebuild (airlock stage review) before approving it"))
			continue
		}
		a.add(a.finding(RuleGitLabDotenvIntoPublish, High, at(s), g.j.Name, "",
			fmt.Sprintf("the dotenv report of job %s becomes variables of this publishing job, which runs more than airlock publish, and job %s runs project code (%s): that code can set any variable here, such as NODE_OPTIONS (code Node loads), npm_config_registry, HTTPS_PROXY or NODE_EXTRA_CA_CERTS (where the token goes)", s.j.Name, s.j.Name, rc.what),
			"publish with airlock publish alone in that job, which ignores variables that redirect the credential, or pass the tarball as a plain artifact without a dotenv report"))
	}
}

func stageIndex(p *workflow.Pipeline, stage string) int {
	for i, s := range p.Stages {
		if s == stage {
			return i
		}
	}
	return len(p.Stages)
}

// onlyRunsAirlock reports whether a job's commands are airlock and
// commands that run nothing of the project or the environment's choosing.
func onlyRunsAirlock(g *glJob) bool {
	benign := map[string]bool{"echo": true, "printf": true, "cd": true, "ls": true, "cat": true, "test": true, "[": true,
		"set": true, "export": true, "true": true, "sha256sum": true, "sha512sum": true, "mkdir": true, "airlock": true}
	for _, line := range g.j.Script() {
		for _, c := range commands(line.Value) {
			if !benign[c.argv()[0]] {
				return false
			}
		}
	}
	return true
}
