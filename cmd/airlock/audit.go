package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/internal/audit"
	"github.com/airlockdev/airlock/internal/hint"
)

type auditFlags struct {
	format      string
	minSeverity string
	verbose     bool
}

func newAuditCmd(e *env) *cobra.Command {
	var f auditFlags
	var ids []string
	for _, r := range audit.Rules() {
		ids = append(ids, "  "+r.ID)
	}
	cmd := &cobra.Command{
		Use:   "audit [PATH...]",
		Short: "Find the CI shapes that let untrusted code reach a publish credential",
		Long: `Read a repository's CI configuration, without running or fetching anything,
and report what puts a publish credential within reach of untrusted code:
pull_request_target checkouts of fork code, caches shared with release jobs,
id-token: write on jobs that run project code, actions pinned by tag,
expressions pasted into scripts, tokens next to trusted publishing, and
their GitLab counterparts.

It reads .github/workflows/*.yml, the local actions they use, action.yml,
.gitlab-ci.yml with its local includes, and the .npmrc and package.json
that publishing reads. PATH is a repository folder, or a file in one (only
that file's findings are shown); the default is the repository of the
current folder.

Silence a finding with a comment on its line or the line above:
  # airlock: ignore[rule-id] why it does not apply here

Exit status: 0 when nothing at or above --min-severity is found, 1 when
something is, 2 for usage errors.

Rules:
` + strings.Join(ids, "\n"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd, e, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output: text, json or sarif (for GitHub code scanning)")
	fl.StringVar(&f.minSeverity, "min-severity", "medium", "lowest severity that makes the exit status 1: low, medium or high")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each file read to stderr")
	return cmd
}

func runAudit(cmd *cobra.Command, e *env, args []string, f auditFlags) error {
	min, err := audit.ParseSeverity(f.minSeverity)
	if err != nil {
		return usageError{fmt.Errorf("--min-severity: %w", err)}
	}
	switch f.format {
	case "text", "json", "sarif":
	default:
		return usageError{fmt.Errorf("--format %q: want text, json or sarif", f.format)}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("finding the current folder: %w", err)
	}
	if len(args) == 0 {
		args = []string{""}
	}
	opts := audit.Options{Logger: newLogger(e, f.verbose)}
	total := &audit.Report{Findings: []audit.Finding{}, Ignored: []audit.Finding{}, Files: []string{}}
	for _, arg := range args {
		t, err := auditTarget(cwd, arg)
		if err != nil {
			return err
		}
		r, err := audit.Repository(cmd.Context(), t.root, opts)
		if err != nil {
			return fmt.Errorf("auditing %s: %w", t.shown(cwd), err)
		}
		if t.file != "" && !contains(r.Files, t.file) {
			return usageError{fmt.Errorf("%s is not a file airlock audit reads: give a workflow in .github/workflows, an action.yml, .gitlab-ci.yml (or a file it includes), or a repository folder", arg)}
		}
		keep := func(fs []audit.Finding) []audit.Finding {
			var out []audit.Finding
			for _, x := range fs {
				if t.file == "" || x.Path == t.file {
					x.Path = t.display(cwd, x.Path)
					out = append(out, x)
				}
			}
			return out
		}
		total.Findings = append(total.Findings, keep(r.Findings)...)
		total.Ignored = append(total.Ignored, keep(r.Ignored)...)
		for _, p := range r.Files {
			if t.file == "" || p == t.file {
				total.Files = append(total.Files, t.display(cwd, p))
			}
		}
	}
	switch f.format {
	case "json":
		err = audit.WriteJSON(e.stdout, total)
	case "sarif":
		err = audit.WriteSARIF(e.stdout, total, toolVersion())
	default:
		err = audit.WriteText(e.stdout, total)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	counts := map[audit.Severity]int{}
	for _, x := range total.Findings {
		counts[x.Severity]++
	}
	fmt.Fprintf(e.stderr, "airlock audit: %d %s (%d high, %d medium, %d low), %d ignored, in %d %s\n",
		len(total.Findings), plural(len(total.Findings), "finding", "findings"), counts[audit.High], counts[audit.Medium], counts[audit.Low],
		len(total.Ignored), len(total.Files), plural(len(total.Files), "file", "files"))
	if n := total.Count(min); n > 0 {
		return hint.With(fmt.Errorf("audit found %d %s at or above %s severity", n, plural(n, "problem", "problems"), min),
			"fix them as each hint says, or silence one that does not apply with # airlock: ignore[rule-id] reason on its line")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// target is what one PATH argument audits: a repository root, and the
// one file to report on when the argument was a file.
type target struct {
	arg  string
	root string
	file string
}

func (t target) shown(cwd string) string {
	if t.arg == "" {
		return t.display(cwd, ".")
	}
	return t.arg
}

// display writes a path of the report: relative to the repository when
// no PATH was given (as SARIF wants, wherever in the repository airlock
// runs), else relative to the current folder, as the PATH was.
func (t target) display(cwd, p string) string {
	if t.arg == "" || t.root == cwd {
		return p
	}
	rel, err := filepath.Rel(cwd, filepath.Join(t.root, filepath.FromSlash(p)))
	if err != nil {
		return filepath.ToSlash(filepath.Join(t.root, p))
	}
	return filepath.ToSlash(rel)
}

func auditTarget(cwd, arg string) (target, error) {
	if arg == "" {
		return target{root: repoRoot(cwd, cwd)}, nil
	}
	abs := arg
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cwd, arg)
	}
	st, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return target{}, usageError{fmt.Errorf("%s: no such file or folder", arg)}
		}
		return target{}, fmt.Errorf("reading %s: %w", arg, err)
	}
	if st.IsDir() {
		return target{arg: arg, root: abs}, nil
	}
	dir := filepath.Dir(abs)
	root := repoRoot(dir, "")
	if root == "" {
		// Outside git: the folder above .github, or the file's own.
		root = dir
		if i := strings.LastIndex(filepath.ToSlash(dir), "/.github/"); i >= 0 {
			root = filepath.FromSlash(filepath.ToSlash(dir)[:i])
		} else if strings.HasSuffix(filepath.ToSlash(dir), "/.github") {
			root = filepath.Dir(dir)
		}
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return target{}, fmt.Errorf("reading %s: %w", arg, err)
	}
	return target{arg: arg, root: root, file: filepath.ToSlash(rel)}, nil
}

// repoRoot walks up from dir to the folder that holds .git; fallback when
// there is none.
func repoRoot(dir, fallback string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fallback
		}
		d = parent
	}
}
