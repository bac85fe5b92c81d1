package workflow

import (
	"fmt"
	"strings"
)

// Workflow is a GitHub Actions workflow file.
type Workflow struct {
	File *File
	Root *Node
	Name *Node
	// On lists the events that start the workflow, in order.
	On []*Event
	// Permissions is the workflow's permissions: key; nil when absent.
	Permissions *Permissions
	Env         *Node
	// Defaults is defaults.run.working-directory, or nil.
	WorkingDirectory *Node
	Jobs             []*Job
}

// Event is one trigger of a workflow.
type Event struct {
	Name string
	// At is where the event is named.
	At *Node
	// Config is its settings (types, branches, workflows, inputs…), or nil.
	Config *Node
}

// Permissions is a permissions: key, of a workflow or a job.
type Permissions struct {
	Node *Node
	// All is "read-all" or "write-all" when the whole set is given at
	// once, else "".
	All string
	// Scopes maps each listed scope to its level's node.
	Scopes map[string]*Node
}

// Level returns the level given to scope ("write", "read", "none") and
// the node that set it; "none" and nil when the permissions leave it out.
func (p *Permissions) Level(scope string) (string, *Node) {
	if p == nil {
		return "", nil
	}
	switch p.All {
	case "write-all":
		return "write", p.Node
	case "read-all":
		if scope == "id-token" {
			return "none", p.Node
		}
		return "read", p.Node
	}
	if n, ok := p.Scopes[scope]; ok {
		return strings.ToLower(n.Str()), n
	}
	return "none", nil
}

// Job is one job of a workflow.
type Job struct {
	ID string
	// At is the job's key, where its id is written.
	At   *Node
	Node *Node
	Name *Node
	If   *Node
	// Needs are the ids of the jobs this one waits for.
	Needs []*Node
	// RunsOn lists the runner labels (or the group, for a group).
	RunsOn      []*Node
	RunsOnNode  *Node
	Permissions *Permissions
	Environment *Node
	Env         *Node
	Outputs     *Node
	// Container is the job's container image, or nil.
	Container *Node
	// Matrix is strategy.matrix, or nil.
	Matrix *Node
	// WorkingDirectory is defaults.run.working-directory, or nil.
	WorkingDirectory *Node
	Steps            []*Step
	// Uses, With and Secrets are set for a job that calls a reusable
	// workflow.
	Uses, With, Secrets *Node
}

// Step is one step of a job or of a composite action.
type Step struct {
	// Index counts from 0.
	Index int
	Node  *Node

	ID, Name, If, Uses, Run, Shell, WorkingDirectory *Node
	With, Env                                        *Node
}

// Input returns with.<name>, or nil.
func (s *Step) Input(name string) *Node { return s.With.Get(name) }

// Label names the step for a reader: its name, id, action or command.
func (s *Step) Label() string {
	switch {
	case s.Name.Str() != "":
		return s.Name.Str()
	case s.ID.Str() != "":
		return s.ID.Str()
	case s.Uses.Str() != "":
		return s.Uses.Str()
	case s.Run.Str() != "":
		line := strings.TrimSpace(strings.SplitN(strings.TrimSpace(s.Run.Str()), "\n", 2)[0])
		if len(line) > 60 {
			line = line[:57] + "..."
		}
		return line
	}
	return fmt.Sprintf("#%d", s.Index+1)
}

// Event returns the workflow's trigger called name, or nil.
func (w *Workflow) Event(name string) *Event {
	for _, e := range w.On {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Job returns the job with that id, or nil.
func (w *Workflow) Job(id string) *Job {
	for _, j := range w.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

func structErr(f *File, n *Node, format string, args ...any) error {
	pe := &ParseError{Path: f.Path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		pe.Pos = n.Pos
	}
	return pe
}

// ParseWorkflow reads a workflow file. A file that is not YAML, or whose
// shape Actions would refuse where the audit depends on it (jobs that are
// not a mapping, steps that are not a list of mappings), is a
// *ParseError.
func ParseWorkflow(path string, src []byte) (*Workflow, error) {
	root, f, err := ParseYAML(path, src)
	if err != nil {
		return &Workflow{File: f}, err
	}
	w := &Workflow{File: f, Root: root}
	if !root.IsMap() {
		return w, structErr(f, root, "a workflow must be a mapping")
	}
	w.Name = root.Get("name")
	w.Env = root.Get("env")
	w.WorkingDirectory = root.Get("defaults").Get("run").Get("working-directory")
	w.On = parseOn(root.Get("on"))
	if p := root.Get("permissions"); p != nil {
		w.Permissions = parsePermissions(p)
	}
	jobs := root.Get("jobs")
	if jobs != nil && !jobs.IsMap() {
		return w, structErr(f, jobs, "jobs must be a mapping of job ids to jobs")
	}
	if jobs == nil {
		return w, nil
	}
	for _, p := range jobs.Pairs {
		j, err := parseJob(f, p.Key, p.Value)
		if err != nil {
			return w, err
		}
		w.Jobs = append(w.Jobs, j)
	}
	return w, nil
}

func parseOn(n *Node) []*Event {
	var out []*Event
	switch {
	case n.IsScalar():
		out = append(out, &Event{Name: n.Str(), At: n})
	case n.IsSeq():
		for _, it := range n.Items {
			if it.IsScalar() {
				out = append(out, &Event{Name: it.Str(), At: it})
			}
		}
	case n.IsMap():
		for _, p := range n.Pairs {
			out = append(out, &Event{Name: p.Key.Value, At: p.Key, Config: p.Value})
		}
	}
	return out
}

func parsePermissions(n *Node) *Permissions {
	p := &Permissions{Node: n, Scopes: map[string]*Node{}}
	switch {
	case n.IsScalar():
		p.All = strings.ToLower(n.Str())
	case n.IsMap():
		for _, kv := range n.Pairs {
			p.Scopes[kv.Key.Value] = kv.Value
		}
	}
	return p
}

func parseJob(f *File, key, n *Node) (*Job, error) {
	j := &Job{ID: key.Value, At: key, Node: n}
	if !n.IsMap() {
		return j, structErr(f, n, "job %s must be a mapping", key.Value)
	}
	j.Name = n.Get("name")
	j.If = n.Get("if")
	j.Needs = n.Get("needs").List()
	j.RunsOnNode = n.Get("runs-on")
	switch ro := j.RunsOnNode; {
	case ro.IsMap():
		j.RunsOn = append(ro.Get("labels").List(), ro.Get("group").List()...)
	default:
		j.RunsOn = ro.List()
	}
	if p := n.Get("permissions"); p != nil {
		j.Permissions = parsePermissions(p)
	}
	j.Environment = n.Get("environment")
	j.Env = n.Get("env")
	j.Outputs = n.Get("outputs")
	if c := n.Get("container"); c.IsMap() {
		j.Container = c.Get("image")
	} else if c.IsScalar() {
		j.Container = c
	}
	j.Matrix = n.Get("strategy").Get("matrix")
	j.WorkingDirectory = n.Get("defaults").Get("run").Get("working-directory")
	j.Uses = n.Get("uses")
	j.With = n.Get("with")
	j.Secrets = n.Get("secrets")
	steps, err := parseSteps(f, n.Get("steps"), "job "+key.Value)
	j.Steps = steps
	return j, err
}

func parseSteps(f *File, n *Node, owner string) ([]*Step, error) {
	if n == nil {
		return nil, nil
	}
	if !n.IsSeq() {
		return nil, structErr(f, n, "steps of %s must be a list", owner)
	}
	var steps []*Step
	for i, it := range n.Items {
		if !it.IsMap() {
			return steps, structErr(f, it, "step %d of %s must be a mapping", i+1, owner)
		}
		steps = append(steps, &Step{
			Index: i, Node: it,
			ID: it.Get("id"), Name: it.Get("name"), If: it.Get("if"), Uses: it.Get("uses"), Run: it.Get("run"),
			Shell: it.Get("shell"), WorkingDirectory: it.Get("working-directory"),
			With: it.Get("with"), Env: it.Get("env"),
		})
	}
	return steps, nil
}

// Action is an action's metadata file (action.yml).
type Action struct {
	File *File
	Root *Node
	Name *Node
	// Using is runs.using: composite, node20, docker…
	Using *Node
	// Steps are a composite action's steps.
	Steps []*Step
	// Image is a docker action's runs.image.
	Image  *Node
	Inputs *Node
}

// ParseAction reads an action.yml.
func ParseAction(path string, src []byte) (*Action, error) {
	root, f, err := ParseYAML(path, src)
	if err != nil {
		return &Action{File: f}, err
	}
	a := &Action{File: f, Root: root}
	if !root.IsMap() {
		return a, structErr(f, root, "an action's metadata must be a mapping")
	}
	a.Name = root.Get("name")
	a.Inputs = root.Get("inputs")
	runs := root.Get("runs")
	a.Using = runs.Get("using")
	a.Image = runs.Get("image")
	if strings.EqualFold(a.Using.Str(), "composite") {
		steps, err := parseSteps(f, runs.Get("steps"), "the composite action")
		a.Steps = steps
		if err != nil {
			return a, err
		}
	}
	return a, nil
}
