// Package audit finds, in a repository's CI configuration, the shapes that
// put a publish credential within reach of code the release should not
// trust: pull_request_target checkouts of fork code, caches shared with
// release jobs, id-token: write on jobs that run project code, actions
// pinned by tag, expressions pasted into scripts, long-lived tokens next
// to trusted publishing, and their GitLab counterparts.
//
// It reads GitHub Actions workflows, the local actions they use, GitLab CI
// files with their local includes, and the npm configuration that affects
// publishing. It runs nothing and fetches nothing.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/airlockdev/airlock/internal/workflow"
)

// Severity ranks findings.
type Severity int

const (
	Low Severity = iota + 1
	Medium
	High
)

func (s Severity) String() string {
	switch s {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity reads "low", "medium" or "high".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "low":
		return Low, nil
	case "medium":
		return Medium, nil
	case "high":
		return High, nil
	}
	return 0, fmt.Errorf("unknown severity %q: want low, medium or high", s)
}

// Finding is one problem found.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Path is slash-separated, relative to the audited folder.
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Job and Step name where it is, when it is in one.
	Job  string `json:"job,omitempty"`
	Step string `json:"step,omitempty"`
	// Message says what is wrong and why it matters; Hint what to write
	// instead.
	Message string `json:"message"`
	Hint    string `json:"hint"`
	// Reason is the reason an ignore comment gave, for ignored findings.
	Reason string `json:"reason,omitempty"`

	// also are lines where an ignore comment counts besides Line and the
	// line above it: the key of the block scalar the finding is in.
	also []int
}

// Report is what an audit found.
type Report struct {
	// Findings are sorted by path, line, column and rule.
	Findings []Finding `json:"findings"`
	// Ignored are findings an ignore comment silenced, with its reason.
	Ignored []Finding `json:"ignored"`
	// Files are the files read.
	Files []string `json:"files"`
}

// Count returns how many findings are at least min.
func (r *Report) Count(min Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= min {
			n++
		}
	}
	return n
}

// Options configures an audit.
type Options struct {
	// Logger receives a debug record for each file read; nil is silent.
	Logger *slog.Logger
}

// Repository audits the repository in dir (the folder that holds .github
// or .gitlab-ci.yml). A file that cannot be parsed is a finding, not an
// error; the error is for a dir that cannot be read.
func Repository(ctx context.Context, dir string, opts Options) (*Report, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("reading %s: not a folder", dir)
	}
	return FS(ctx, os.DirFS(dir), opts)
}

// FS audits the repository whose root is fsys: the same as Repository,
// for files that are not on disk (fstest.MapFS, an embedded tree).
func FS(ctx context.Context, fsys fs.FS, opts Options) (*Report, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &auditor{ctx: ctx, fsys: fsys, log: log, actions: map[string]*actionFile{}, files: map[string]*workflow.File{}}
	if err := a.run(); err != nil {
		return nil, err
	}
	return a.report(), nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type auditor struct {
	ctx      context.Context
	fsys     fs.FS
	log      *slog.Logger
	findings []Finding
	files    map[string]*workflow.File
	order    []string

	workflows []*wf
	actions   map[string]*actionFile
	pkg       *packageJSON
	packages  map[string]*packageJSON
	pipeline  *workflow.Pipeline
}

func (a *auditor) add(f Finding) { a.findings = append(a.findings, f) }

// at fills a finding's place from a node.
func at(n *workflow.Node) (string, int, int) {
	if n == nil || n.File == nil {
		return "", 0, 0
	}
	return n.File.Path, n.Pos.Line, n.Pos.Col
}

func (a *auditor) finding(rule string, sev Severity, n *workflow.Node, job, step, msg, hint string) Finding {
	p, l, c := at(n)
	return Finding{Rule: rule, Severity: sev, Path: p, Line: l, Column: c, Job: job, Step: step, Message: msg, Hint: hint}
}

func (a *auditor) readFile(name string) ([]byte, bool, error) {
	st, err := fs.Stat(a.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if !st.Mode().IsRegular() {
		return nil, false, nil
	}
	if st.Size() > workflow.MaxFileSize {
		return nil, true, fmt.Errorf("file is larger than %d bytes", workflow.MaxFileSize)
	}
	b, err := fs.ReadFile(a.fsys, name)
	return b, true, err
}

func (a *auditor) keep(f *workflow.File) {
	if f == nil {
		return
	}
	if _, ok := a.files[f.Path]; !ok {
		a.order = append(a.order, f.Path)
	}
	a.files[f.Path] = f
	a.log.Debug("read " + f.Path)
}

func (a *auditor) parseError(path string, err error) {
	var pe *workflow.ParseError
	f := Finding{Rule: RuleParseError, Severity: High, Path: path, Line: 1, Column: 1,
		Message: fmt.Sprintf("cannot be read: %v; nothing in it was checked", err),
		Hint:    "fix the file so that it parses (GitHub and GitLab would refuse it too)"}
	if errors.As(err, &pe) {
		f.Path = pe.Path
		if pe.Pos.Line > 0 {
			f.Line, f.Column = pe.Pos.Line, pe.Pos.Col
		}
		f.Message = pe.Msg + "; nothing in it was checked"
	}
	if f.Path == "" {
		f.Path = path
	}
	if _, ok := a.files[f.Path]; !ok {
		a.order = append(a.order, f.Path)
		a.files[f.Path] = nil
	}
	a.add(f)
}

func (a *auditor) run() error {
	if err := a.loadGitHub(); err != nil {
		return err
	}
	if err := a.ctx.Err(); err != nil {
		return err
	}
	a.loadPackage()
	a.checkGitHub()
	if err := a.ctx.Err(); err != nil {
		return err
	}
	a.loadGitLab()
	a.checkGitLab()
	return a.ctx.Err()
}

var ignoreRe = regexp.MustCompile(`^#\s*airlock:\s*ignore\b(\[([^\]]*)\])?\s*(.*)$`)

type ignore struct {
	rules  []string
	reason string
	line   int
	col    int
	bad    bool
}

// report applies the ignore comments and sorts.
func (a *auditor) report() *Report {
	r := &Report{Findings: []Finding{}, Ignored: []Finding{}, Files: []string{}}
	ignores := map[string]map[int]*ignore{}
	for _, p := range a.order {
		f := a.files[p]
		r.Files = append(r.Files, p)
		if f == nil {
			continue
		}
		m := map[int]*ignore{}
		for line, c := range f.Comments {
			sub := ignoreRe.FindStringSubmatch(c.Text)
			if sub == nil {
				continue
			}
			ig := &ignore{reason: strings.TrimSpace(sub[3]), line: line, col: c.Col}
			for _, id := range strings.Split(sub[2], ",") {
				if id = strings.TrimSpace(id); id != "" {
					ig.rules = append(ig.rules, id)
				}
			}
			base := Finding{Rule: RuleInvalidIgnore, Severity: Medium, Path: p, Line: line, Column: c.Col}
			switch {
			case sub[1] == "" || len(ig.rules) == 0:
				ig.bad = true
				base.Message = "ignore comment names no rule, so it silences nothing"
				base.Hint = "write # airlock: ignore[rule-id] reason"
				a.add(base)
			case ig.reason == "":
				ig.bad = true
				base.Message = fmt.Sprintf("ignore comment for %s gives no reason, so it silences nothing: a reason tells the next reader why the finding does not apply", strings.Join(ig.rules, ", "))
				base.Hint = fmt.Sprintf("write # airlock: ignore[%s] followed by why it is safe here", strings.Join(ig.rules, ","))
				a.add(base)
			default:
				for _, id := range ig.rules {
					if !knownRule(id) {
						b := base
						b.Message = fmt.Sprintf("ignore comment names %q, which is no rule of airlock audit", id)
						b.Hint = "use one of the rule ids airlock audit reports (airlock audit --help lists them)"
						a.add(b)
					}
				}
			}
			m[line] = ig
		}
		ignores[p] = m
	}
	seen := map[string]int{}
	var all []Finding
	for _, f := range a.findings {
		// A composite action's step is reported for each job that uses
		// it; a pin is one problem wherever it is used.
		job := f.Job
		if f.Rule == RuleUnpinnedUses {
			job = ""
		}
		key := fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", f.Rule, f.Path, f.Line, f.Column, job)
		if i, ok := seen[key]; ok {
			if f.Severity > all[i].Severity {
				all[i] = f
			}
			continue
		}
		seen[key] = len(all)
		all = append(all, f)
	}
	for _, f := range all {
		if ig := matchIgnore(ignores[f.Path], f); ig != nil {
			f.Reason = ig.reason
			r.Ignored = append(r.Ignored, f)
			continue
		}
		r.Findings = append(r.Findings, f)
	}
	sortFindings(r.Findings)
	sortFindings(r.Ignored)
	return r
}

func matchIgnore(m map[int]*ignore, f Finding) *ignore {
	if f.Rule == RuleInvalidIgnore || f.Rule == RuleParseError {
		return nil
	}
	lines := append([]int{f.Line, f.Line - 1}, f.also...)
	for _, l := range lines {
		ig := m[l]
		if ig == nil || ig.bad {
			continue
		}
		for _, id := range ig.rules {
			if id == f.Rule {
				return ig
			}
		}
	}
	return nil
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule < b.Rule
	})
}
