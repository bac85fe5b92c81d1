package workflow

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Pipeline is a GitLab CI configuration: .gitlab-ci.yml merged with the
// local files it includes, each job after extends, !reference and
// default: are applied.
type Pipeline struct {
	// Files are the files read: the main file first, then includes.
	Files []*File
	// Root is the merged top-level mapping.
	Root *Node
	// Default is default: with the old top-level image, services, cache,
	// before_script and after_script folded in; nil when there is none.
	Default  *Node
	Workflow *Node
	Stages   []string
	// Jobs are the jobs, hidden ones (templates such as .build) included,
	// in the order of the merged file.
	Jobs []*GitLabJob
}

// GitLabJob is one job as GitLab runs it.
type GitLabJob struct {
	Name string
	// At is the job's key.
	At *Node
	// Node is the job's mapping after extends and default:.
	Node *Node
	// Hidden is a template, whose name starts with a dot; it never runs.
	Hidden bool
	// Extends are the templates the job extends, directly or not.
	Extends []string
	// FromDefault holds the keys the job takes from default:.
	FromDefault map[string]bool
}

// Get returns the job's value for key.
func (j *GitLabJob) Get(key string) *Node { return j.Node.Get(key) }

// Stage is the job's stage ("test" when not set, as in GitLab).
func (j *GitLabJob) Stage() string {
	if s := j.Get("stage").Str(); s != "" {
		return s
	}
	return "test"
}

// Script returns the command lines of before_script, script and
// after_script, in the order they run, nested lists flattened.
func (j *GitLabJob) Script() []*Node {
	var out []*Node
	for _, k := range []string{"before_script", "script", "after_script"} {
		out = append(out, ScriptLines(j.Get(k))...)
	}
	return out
}

// ScriptLines flattens a script: a string, or a list of strings and
// lists (as !reference makes them).
func ScriptLines(n *Node) []*Node {
	var out []*Node
	calls := 0
	var walk func(*Node, int)
	walk = func(n *Node, depth int) {
		calls++
		if depth > 10 || calls > 10000 {
			return
		}
		switch {
		case n.IsScalar():
			out = append(out, n)
		case n.IsSeq():
			for _, it := range n.Items {
				walk(it, depth+1)
			}
		}
	}
	walk(n, 0)
	return out
}

// gitlabKeywords are the top-level keys that are not jobs.
var gitlabKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true,
	"types": true, "spec": true,
}

// defaultKeys are what default: gives jobs.
var defaultKeys = []string{"after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "image",
	"interruptible", "retry", "services", "tags", "timeout"}

const maxIncludes = 150

// LoadGitLab reads the GitLab CI file at name in fsys and the local files
// it includes (include: 'x.yml', include: {local: …}, with globs). Other
// includes (project, remote, template, component) are outside the
// repository and are not read. The errors are the files that could not
// be read or used, each a *ParseError; the pipeline is nil only when the
// main file itself is unreadable.
func LoadGitLab(fsys fs.FS, name string) (*Pipeline, []error) {
	l := &gitlabLoader{fsys: fsys, seen: map[string]bool{}, budget: mergeBudget}
	root := l.load(name, nil, 0)
	if root == nil {
		return nil, l.errs
	}
	p := &Pipeline{Files: l.files}
	root = l.resolveReferences(root, root)
	p.Root = root
	p.Workflow = root.Get("workflow")
	p.Stages = []string{".pre", "build", "test", "deploy", ".post"}
	if st := root.Get("stages"); st.IsSeq() {
		p.Stages = []string{".pre"}
		for _, s := range st.Items {
			p.Stages = append(p.Stages, s.Str())
		}
		p.Stages = append(p.Stages, ".post")
	}
	def := root.Get("default")
	if !def.IsMap() {
		def = nil
	}
	for _, k := range []string{"image", "services", "cache", "before_script", "after_script"} {
		if v := root.Get(k); v != nil && def.Get(k) == nil {
			if def == nil {
				def = &Node{Kind: Mapping, Tag: "!!map", Pos: root.Key(k).Pos, File: root.Key(k).File}
			} else {
				def = &Node{Kind: Mapping, Tag: "!!map", Pos: def.Pos, File: def.File, Pairs: append([]Pair(nil), def.Pairs...)}
			}
			def.Pairs = append(def.Pairs, Pair{Key: root.Key(k), Value: v})
		}
	}
	p.Default = def
	templates := map[string]*Node{}
	for _, kv := range root.Pairs {
		if !gitlabKeywords[kv.Key.Value] && kv.Value.IsMap() {
			templates[kv.Key.Value] = kv.Value
		}
	}
	for _, kv := range root.Pairs {
		name := kv.Key.Value
		if gitlabKeywords[name] || !kv.Value.IsMap() {
			continue
		}
		merged, chain, err := l.extend(name, templates, nil)
		if err != nil {
			l.errs = append(l.errs, err)
			merged = kv.Value
		}
		j := &GitLabJob{Name: name, At: kv.Key, Node: merged, Hidden: strings.HasPrefix(name, "."), Extends: chain,
			FromDefault: map[string]bool{}}
		applyDefault(j, def)
		p.Jobs = append(p.Jobs, j)
	}
	return p, l.errs
}

// Job returns the job called name, or nil.
func (p *Pipeline) Job(name string) *GitLabJob {
	for _, j := range p.Jobs {
		if j.Name == name {
			return j
		}
	}
	return nil
}

type gitlabLoader struct {
	fsys       fs.FS
	seen       map[string]bool
	files      []*File
	errs       []error
	count      int
	budget     int
	overBudget bool
}

// mergeBudget bounds the values merged by includes and extends.
const mergeBudget = 1 << 20

func (l *gitlabLoader) fail(f string, n *Node, format string, args ...any) {
	pe := &ParseError{Path: f, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		pe.Pos = n.Pos
		if n.File != nil {
			pe.Path = n.File.Path
		}
	}
	l.errs = append(l.errs, pe)
}

// load reads one file and, before its own content, what it includes;
// the including file's keys win over the included ones.
func (l *gitlabLoader) load(name string, from *Node, depth int) *Node {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if l.seen[name] {
		return nil
	}
	l.seen[name] = true
	l.count++
	if l.count > maxIncludes || depth > 100 {
		l.fail(name, from, "more than %d included files", maxIncludes)
		return nil
	}
	src, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		if from != nil {
			l.fail(name, from, "included file %s cannot be read: %v", name, unwrapPath(err))
		} else {
			l.fail(name, nil, "cannot be read: %v", unwrapPath(err))
		}
		return nil
	}
	root, f, err := ParseYAML(name, src)
	l.files = append(l.files, f)
	if err != nil {
		l.errs = append(l.errs, err)
		return nil
	}
	if !root.IsMap() {
		l.fail(name, root, "a GitLab CI file must be a mapping")
		return nil
	}
	var merged *Node
	for _, inc := range includes(root.Get("include")) {
		if strings.ContainsAny(inc.Value, "*?[") {
			matches, err := fs.Glob(l.fsys, strings.TrimPrefix(path.Clean("/"+inc.Value), "/"))
			if err != nil || len(matches) == 0 {
				l.fail(name, inc, "include %s matches no file", inc.Value)
			}
			for _, m := range matches {
				if n := l.load(m, inc, depth+1); n != nil {
					merged = l.merge(merged, n)
				}
			}
			continue
		}
		if n := l.load(inc.Value, inc, depth+1); n != nil {
			merged = l.merge(merged, n)
		}
	}
	own := &Node{Kind: Mapping, Tag: root.Tag, Pos: root.Pos, File: root.File}
	for _, kv := range root.Pairs {
		if kv.Key.Value != "include" {
			own.Pairs = append(own.Pairs, kv)
		}
	}
	return l.merge(merged, own)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// includes returns the local files an include: names.
func includes(n *Node) []*Node {
	var out []*Node
	for _, it := range n.List() {
		switch {
		case it.IsScalar():
			if v := it.Str(); !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				out = append(out, it)
			}
		case it.IsMap():
			if loc := it.Get("local"); loc.IsScalar() {
				out = append(out, loc)
			}
		}
	}
	if n.IsMap() {
		if loc := n.Get("local"); loc.IsScalar() {
			out = append(out, loc)
		}
	}
	return out
}

// merge merges over into base: mappings key by key, recursively;
// anything else in over replaces what base has. Aliases can make a small
// file describe a huge tree; a budget of merged values keeps the work
// bounded.
func (l *gitlabLoader) merge(base, over *Node) *Node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if !base.IsMap() || !over.IsMap() {
		return over
	}
	l.budget -= len(base.Pairs) + len(over.Pairs)
	if l.budget < 0 {
		if !l.overBudget {
			l.overBudget = true
			l.fail("", over, "the configuration expands to too many values (aliases or extends nested too often)")
		}
		return over
	}
	out := &Node{Kind: Mapping, Tag: over.Tag, Pos: over.Pos, File: over.File, Pairs: append([]Pair(nil), base.Pairs...)}
	for _, kv := range over.Pairs {
		replaced := false
		for i := range out.Pairs {
			if out.Pairs[i].Key.Value == kv.Key.Value {
				out.Pairs[i] = Pair{Key: kv.Key, Value: l.merge(out.Pairs[i].Value, kv.Value)}
				replaced = true
				break
			}
		}
		if !replaced {
			out.Pairs = append(out.Pairs, kv)
		}
	}
	return out
}

// extend applies a job's extends:, templates first in the order listed,
// the job's own keys last.
func (l *gitlabLoader) extend(name string, templates map[string]*Node, stack []string) (*Node, []string, error) {
	n := templates[name]
	for _, s := range stack {
		if s == name {
			return nil, nil, &ParseError{Path: n.File.Path, Pos: n.Pos, Msg: fmt.Sprintf("extends: %s extends itself (%s)", name, strings.Join(append(stack, name), " → "))}
		}
	}
	if len(stack) > 11 {
		return nil, nil, &ParseError{Path: n.File.Path, Pos: n.Pos, Msg: "extends: nested more than 11 levels"}
	}
	var merged *Node
	var chain []string
	for _, e := range n.Get("extends").List() {
		parent := e.Str()
		if templates[parent] == nil {
			return nil, nil, &ParseError{Path: e.File.Path, Pos: e.Pos, Msg: fmt.Sprintf("extends: %s is not defined", parent)}
		}
		pn, pc, err := l.extend(parent, templates, append(stack, name))
		if err != nil {
			return nil, nil, err
		}
		merged = l.merge(merged, pn)
		chain = append(append(chain, parent), pc...)
	}
	own := &Node{Kind: Mapping, Tag: n.Tag, Pos: n.Pos, File: n.File}
	for _, kv := range n.Pairs {
		if kv.Key.Value != "extends" {
			own.Pairs = append(own.Pairs, kv)
		}
	}
	out := l.merge(merged, own)
	// The job keeps its own position.
	if out != own {
		out.Pos, out.File = n.Pos, n.File
	}
	return out, chain, nil
}

// resolveReferences replaces each !reference [job, key, …] with the value
// it names. Values are copied only where something changes.
func (l *gitlabLoader) resolveReferences(n, root *Node) *Node {
	memo := map[*Node]*Node{}
	var walk func(*Node, int) *Node
	walk = func(n *Node, depth int) *Node {
		if n == nil || depth > 50 {
			return n
		}
		if r, ok := memo[n]; ok {
			return r
		}
		r := l.resolveOne(n, root, depth, walk)
		memo[n] = r
		return r
	}
	return walk(n, 0)
}

func (l *gitlabLoader) resolveOne(n, root *Node, depth int, walk func(*Node, int) *Node) *Node {
	{
		if n.Kind == Sequence && n.Tag == "!reference" {
			var target *Node = root
			for _, seg := range n.Items {
				target = target.Get(seg.Str())
			}
			if target == nil || len(n.Items) == 0 {
				l.fail("", n, "!reference %s names nothing", refString(n))
				return &Node{Kind: Sequence, Tag: "!!seq", Pos: n.Pos, File: n.File}
			}
			if depth > 10 {
				l.fail("", n, "!reference nested too deeply")
				return target
			}
			return walk(target, depth+1)
		}
		switch n.Kind {
		case Mapping:
			var out *Node
			for i, kv := range n.Pairs {
				v := walk(kv.Value, depth+1)
				if v != kv.Value && out == nil {
					out = &Node{Kind: Mapping, Tag: n.Tag, Pos: n.Pos, File: n.File, Pairs: append([]Pair(nil), n.Pairs...)}
				}
				if out != nil {
					out.Pairs[i] = Pair{Key: kv.Key, Value: v}
				}
			}
			if out != nil {
				return out
			}
		case Sequence:
			var out *Node
			for i, it := range n.Items {
				v := walk(it, depth+1)
				if v != it && out == nil {
					out = &Node{Kind: Sequence, Tag: n.Tag, Pos: n.Pos, File: n.File, Items: append([]*Node(nil), n.Items...)}
				}
				if out != nil {
					out.Items[i] = v
				}
			}
			if out != nil {
				return out
			}
		}
		return n
	}
}

func refString(n *Node) string {
	var parts []string
	for _, it := range n.Items {
		parts = append(parts, it.Str())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// applyDefault gives the job what default: has and the job does not,
// unless inherit: default: turns it off.
func applyDefault(j *GitLabJob, def *Node) {
	if def == nil {
		return
	}
	allowed := map[string]bool{}
	for _, k := range defaultKeys {
		allowed[k] = true
	}
	switch inh := j.Node.Get("inherit").Get("default"); {
	case inh.IsScalar():
		if v, ok := inh.Bool(); ok && !v {
			return
		}
	case inh.IsSeq():
		allowed = map[string]bool{}
		for _, k := range inh.Items {
			allowed[k.Str()] = true
		}
	}
	var added []Pair
	for _, kv := range def.Pairs {
		if allowed[kv.Key.Value] && j.Node.Get(kv.Key.Value) == nil {
			added = append(added, kv)
			j.FromDefault[kv.Key.Value] = true
		}
	}
	if len(added) > 0 {
		n := j.Node
		j.Node = &Node{Kind: Mapping, Tag: n.Tag, Pos: n.Pos, File: n.File, Pairs: append(append([]Pair(nil), n.Pairs...), added...)}
	}
}
