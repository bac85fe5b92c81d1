package audit

import (
	"fmt"
	"strings"

	"github.com/airlockdev/airlock/internal/workflow"
	"github.com/airlockdev/airlock/internal/workflow/expr"
)

// cacheUse is a cache a step restores or saves.
type cacheUse struct {
	step          *step
	node          *workflow.Node
	restore, save bool
	// keys are the key patterns it saves under and looks up, with "#" for
	// what an expression computes (a value without "-": an OS name, a
	// hash); prefixes are its restore-keys, which match any key they
	// start.
	keys     []string
	prefixes []string
	what     string
}

// cachesOf lists the caches a step restores or saves: actions/cache and
// its restore and save halves, and the caches of setup actions (which a
// later version may turn on by default).
func (a *auditor) cachesOf(st *step) []cacheUse {
	r := st.ref
	c := cacheUse{step: st, node: st.s.Uses}
	switch {
	case r.is("actions/cache", "actions/cache/restore", "actions/cache/save"):
		c.restore = r.name != "actions/cache/save"
		c.save = r.name != "actions/cache/restore"
		if v, ok := st.s.Input("lookup-only").Bool(); ok && v {
			c.restore = false
		}
		key := st.s.Input("key")
		c.keys = []string{keyPattern(key.Str())}
		for _, line := range strings.Split(st.s.Input("restore-keys").Str(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				c.prefixes = append(c.prefixes, keyPattern(line))
			}
		}
		c.what = fmt.Sprintf("%s with key %s", r.name, strings.TrimSpace(key.Str()))
		if c.restore || c.save {
			return []cacheUse{c}
		}
	case r.is("actions/setup-node"):
		pm := strings.ToLower(st.s.Input("cache").Str())
		if pm != "" {
			c.node = st.s.Input("cache")
			c.what = "setup-node's cache: " + pm
		} else if v, ok := st.s.Input("package-manager-cache").Bool(); (!ok || v) && (r.major == 0 || r.major >= 5) {
			// v5 caches npm by default when package.json names npm as
			// its package manager.
			if a.pkg != nil && a.pkg.npmManaged() {
				pm = "npm"
				c.what = "setup-node's default npm cache (package-manager-cache, on since v5 when package.json names npm as its package manager)"
			}
		}
		if pm == "" {
			return nil
		}
		c.restore, c.save = true, true
		c.keys = []string{"node-cache-#-#-" + pm + "-#"}
		return []cacheUse{c}
	case r.is("actions/setup-go"):
		v, ok := st.s.Input("cache").Bool()
		if ok && !v || !ok && r.major > 0 && r.major < 4 {
			return nil
		}
		if n := st.s.Input("cache"); n != nil {
			c.node = n
			c.what = "setup-go's cache"
		} else {
			c.what = "setup-go's cache (on by default since v4)"
		}
		c.restore, c.save = true, true
		c.keys = []string{"setup-go-#"}
		return []cacheUse{c}
	case r.is("actions/setup-python", "actions/setup-java"):
		pm := strings.ToLower(st.s.Input("cache").Str())
		if pm == "" {
			return nil
		}
		c.node = st.s.Input("cache")
		tool := strings.TrimPrefix(r.name, "actions/")
		c.what = tool + "'s cache: " + pm
		c.restore, c.save = true, true
		c.keys = []string{tool + "-#-" + pm + "-#"}
		return []cacheUse{c}
	case r.is("ruby/setup-ruby"):
		if v, _ := st.s.Input("bundler-cache").Bool(); v {
			c.node, c.what = st.s.Input("bundler-cache"), "setup-ruby's bundler-cache"
			c.restore, c.save = true, true
			c.keys = []string{"setup-ruby-bundler-cache-#"}
			return []cacheUse{c}
		}
	case r.is("swatinem/rust-cache"):
		c.what, c.restore, c.save = "Swatinem/rust-cache", true, true
		c.keys = []string{"v0-rust-#"}
		return []cacheUse{c}
	case r.is("astral-sh/setup-uv"):
		if v, _ := st.s.Input("enable-cache").Bool(); v {
			c.node, c.what = st.s.Input("enable-cache"), "setup-uv's enable-cache"
			c.restore, c.save = true, true
			c.keys = []string{"setup-uv-#"}
			return []cacheUse{c}
		}
	case r.is("gradle/actions/setup-gradle", "gradle/gradle-build-action"):
		if v, _ := st.s.Input("cache-disabled").Bool(); !v {
			c.what, c.restore, c.save = r.name+"'s cache (on by default)", true, true
			c.keys = []string{"gradle-#"}
			return []cacheUse{c}
		}
	}
	return nil
}

// keyPattern replaces what a cache key's expressions compute with "#".
func keyPattern(key string) string {
	var b strings.Builder
	for _, p := range expr.Split(strings.TrimSpace(key)) {
		if p.Expr {
			if !strings.HasSuffix(b.String(), "#") {
				b.WriteByte('#')
			}
			continue
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// overlap reports whether two key patterns can name the same key: "#"
// stands for any text without "-", "*" for any text at all.
func overlap(p, q string) bool {
	// Keys are short; a long one is cut, and what is cut matches anything.
	const max = 256
	if len(p) > max {
		p = p[:max] + "*"
	}
	if len(q) > max {
		q = q[:max] + "*"
	}
	// memo[i][j]: p[i:] and q[j:] can match one string.
	memo := map[[2]int]bool{}
	var m func(i, j int) bool
	m = func(i, j int) bool {
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(p) && j == len(q):
			r = true
		case i < len(p) && p[i] == '*':
			r = m(i+1, j) || (j < len(q) && m(i, j+1))
		case j < len(q) && q[j] == '*':
			r = m(i, j+1) || (i < len(p) && m(i+1, j))
		case i < len(p) && p[i] == '#':
			r = m(i+1, j) || (j < len(q) && q[j] != '-' && m(i, j+1))
		case j < len(q) && q[j] == '#':
			r = m(i, j+1) || (i < len(p) && p[i] != '-' && m(i+1, j))
		case i < len(p) && j < len(q) && p[i] == q[j]:
			r = m(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return m(0, 0)
}

// lookups are the patterns a restore can hit: its keys, and its
// restore-keys as prefixes.
func (c cacheUse) lookups() []string {
	out := append([]string(nil), c.keys...)
	for _, p := range c.prefixes {
		out = append(out, p+"*")
	}
	return out
}

// downstream returns the jobs of the workflow that a job's output
// reaches: the jobs that need it, directly or not.
func (w *wf) downstream(j *job) []*job {
	var out []*job
	seen := map[*job]bool{j: true}
	queue := []*job{j}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, o := range w.jobs {
			if seen[o] {
				continue
			}
			for _, n := range o.j.Needs {
				if strings.EqualFold(n.Str(), cur.id()) {
					seen[o] = true
					out = append(out, o)
					queue = append(queue, o)
					break
				}
			}
		}
	}
	return out
}

// checkCaches: cache-poisoning for a job that publishes or holds
// id-token, and for the jobs that build what it publishes.
func (a *auditor) checkCaches(j *job) {
	var restores []cacheUse
	for _, c := range j.caches {
		if c.restore {
			restores = append(restores, c)
		}
	}
	if len(restores) == 0 {
		return
	}
	for _, c := range restores {
		switch {
		case len(j.publishes) > 0 || j.idToken != nil:
			role := "publishes (" + firstWhat(j.publishes) + ")"
			if len(j.publishes) == 0 {
				role = "holds id-token: write"
			}
			a.add(a.finding(RuleCachePoisoning, High, c.node, j.id(), c.step.label(),
				fmt.Sprintf("this job %s and restores a cache (%s): any workflow of the repository can save under that key, including one that ran a pull request's code, and what it saved is then built, run or published here (as in the TanStack compromise)", role, c.what),
				cacheHint(c)))
		default:
			for _, d := range j.wf.downstream(j) {
				if len(d.publishes) == 0 && d.idToken == nil {
					continue
				}
				if !j.uploads && j.j.Outputs == nil {
					continue
				}
				role := "publishes"
				if len(d.publishes) == 0 {
					role = "holds id-token: write"
				}
				a.add(a.finding(RuleCachePoisoning, Medium, c.node, j.id(), c.step.label(),
					fmt.Sprintf("this job builds what job %s %s with, and restores a cache (%s) that any workflow of the repository can write, including one that ran a pull request's code: a poisoned cache goes into the release", d.id(), role, c.what),
					cacheHint(c)))
				break
			}
		}
	}
}

func firstWhat(us []use) string {
	if len(us) == 0 {
		return ""
	}
	return us[0].what
}

func cacheHint(c cacheUse) string {
	switch {
	case c.step.ref.is("actions/setup-node"):
		return "turn the cache off in release jobs: remove cache: and set package-manager-cache: false on setup-node"
	case c.step.ref.is("actions/setup-go"):
		return "set cache: false on setup-go in release jobs"
	case c.step.ref.is("actions/cache", "actions/cache/restore"):
		return "restore no cache in release jobs: remove the step (or give the job its own key prefix that no other workflow, and no pull request, can write)"
	}
	return "turn the cache off in release jobs"
}

// crossWorkflowCaches: cache-poisoning for a cache saved by a job that
// runs a pull request's code when another job restores the same key.
func (a *auditor) crossWorkflowCaches() {
	for _, w := range a.workflows {
		for _, j := range w.jobs {
			if j.untrusted == nil {
				continue
			}
			for _, c := range j.caches {
				if !c.save {
					continue
				}
				if other, oc := a.restorer(j, c); other != nil {
					where := fmt.Sprintf("line %d", nodeLine(oc.node))
					if oc.step.composite() {
						where = fmt.Sprintf("through %s, line %d", oc.step.via[0].s.Label(), nodeLine(oc.step.via[0].s.Uses))
					}
					a.add(a.finding(RuleCachePoisoning, High, c.node, j.id(), c.step.label(),
						fmt.Sprintf("this job runs a pull request's code (%s) and saves a cache (%s) that job %s of %s restores (%s): the pull request's author can plant files there that the other workflow then runs (as in the TanStack compromise)",
							j.untrusted.runs, c.what, other.id(), other.wf.path(), where),
						"save no cache in a job that runs a pull request's code (use actions/cache/restore, or no cache), and restore none in release jobs"))
				}
			}
		}
	}
}

// restorer finds another job that restores what c saves.
func (a *auditor) restorer(j *job, c cacheUse) (*job, cacheUse) {
	for _, w := range a.workflows {
		for _, o := range w.jobs {
			if o == j {
				continue
			}
			for _, oc := range o.caches {
				if !oc.restore {
					continue
				}
				for _, k := range c.keys {
					for _, l := range oc.lookups() {
						if overlap(k, l) {
							return o, oc
						}
					}
				}
			}
		}
	}
	return nil, cacheUse{}
}
