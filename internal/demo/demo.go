// Package demo runs the split release on local servers, for make example
// and its test: the bundled example package (testdata/example) is packed
// by an unprivileged job, staged by a publish job that holds only an OIDC
// identity, approved by a maintainer with 2FA, and installed by a user
// with npm, each a separate airlock or npm process with an explicit, small
// environment. The registry is a real Verdaccio behind the front door
// (trusted publishing and staging), and GitHub Actions' ID-token endpoint
// is the local OIDC issuer; all of them listen on 127.0.0.1 and are gone
// when Run returns.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// Options say where the demo finds airlock and how it talks.
type Options struct {
	// Root is the airlock module's folder, holding cmd/airlock and
	// testdata/example. "" means the module the working directory is in.
	Root string
	// Out receives the narration; nil discards it.
	Out io.Writer
	// Now is the maintainer's authenticator clock; nil means time.Now.
	Now func() time.Time
}

// Result is what happened, for the test to check.
type Result struct {
	Name, Version string
	// Integrity is the pin the pack job passed to the publish job.
	Integrity string
	StageID   string
	// ListedWhileStaged is whether the registry listed Version before the
	// maintainer approved it (it must not).
	ListedWhileStaged bool
	// Approved is whether approval succeeded and the stage is gone.
	Approved bool
	// RegistryIntegrity is dist.integrity of Version in the packument
	// after approval.
	RegistryIntegrity string
	Installed         Installed
	// Processes are the child processes, in the order they ended.
	Processes []Process
	// Secrets are the credentials handed out during the run (throwaway:
	// the servers that honour them are gone when Run returns), so a test
	// can look for them in Processes.
	Secrets []string
	Elapsed time.Duration
	// Work is the temporary folder the jobs ran in, and URLs are the
	// servers' addresses: both are gone when Run returns.
	Work string
	URLs []string
}

// Installed is what npm installed for the user.
type Installed struct {
	Version   string
	Integrity string // from npm's package-lock.json: what npm checked
	Resolved  string
	// Greeting is what the package's bin printed.
	Greeting string
}

// Process is one child process the demo ran.
type Process struct {
	Job  string   // "pack job", "publish job", "maintainer", "user", "build"
	Args []string // the command line
	// EnvNames are the names of the variables it ran with; the values
	// are left out because some are credentials.
	EnvNames       []string
	Stdout, Stderr string
	Err            error
}

// Run runs the whole release and tears everything down. It fails, naming
// the step, as soon as a step does not give the expected result.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	d, err := newDemo(o)
	if err != nil {
		return nil, err
	}
	defer d.cleanup() // on a panic; otherwise it has run already
	d.res.Work = d.work
	err = d.run(ctx)
	d.res.Secrets = d.secrets()
	cleanupErr := d.cleanup()
	d.res.Elapsed = time.Since(start)
	if err == nil {
		err = cleanupErr
	}
	if err != nil {
		if cleanupErr == nil {
			d.say("\nStopped every server and process it started, and removed $WORK.")
		}
		return &d.res, err
	}
	d.say("\nDone in %.1fs: every server and process is stopped, and $WORK is removed.", d.res.Elapsed.Seconds())
	return &d.res, nil
}

func (d *demo) run(ctx context.Context) error {
	steps := []func(context.Context) error{
		d.checkTools,
		d.startBuild,
		d.startServers,
		d.awaitBuild,
		d.firstRelease,
		d.packJob,
		d.publishJob,
		d.checkNotListed,
		d.maintainer,
		d.user,
		d.checkNoSecrets,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		if err := step(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("stopped: %w", context.Cause(ctx))
			}
			return err
		}
	}
	return nil
}

// demo holds the state of one run.
type demo struct {
	root    string
	example string // testdata/example
	out     io.Writer
	now     func() time.Time
	work    string // the temporary folder everything is under
	airlock string // the built binary
	npm     string
	tarball string // the pack job's artifact
	build   struct {
		start time.Time
		took  time.Duration
		done  chan struct{}
		run   *Process
		err   error
	}
	servers servers
	// recordMu guards res.Processes, which the build adds to from its
	// own goroutine.
	recordMu sync.Mutex
	// narration is a copy of what was said, checked for secrets.
	narration lockedBuffer
	closers   []func()
	cleaned   sync.Once
	res       Result
}

func newDemo(o Options) (*demo, error) {
	d := &demo{root: o.Root, now: o.Now}
	d.out = &d.narration
	if o.Out != nil {
		d.out = io.MultiWriter(o.Out, &d.narration)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.root == "" {
		root, err := devtools.RepoRoot()
		if err != nil {
			return nil, fmt.Errorf("finding the airlock module: %w", err)
		}
		d.root = root
	}
	d.example = filepath.Join(d.root, "testdata", "example")
	if _, err := os.Stat(filepath.Join(d.example, "package.json")); err != nil {
		return nil, fmt.Errorf("finding the example package: %w", err)
	}
	work, err := os.MkdirTemp("", "airlock-example-")
	if err != nil {
		return nil, fmt.Errorf("making a temporary folder: %w", err)
	}
	// Under /tmp on some machines a symlink: use the real path, so that
	// what the jobs print matches what is narrated.
	if real, err := filepath.EvalSymlinks(work); err == nil {
		work = real
	}
	d.work = work
	return d, nil
}

// cleanup stops the servers, last started first, and removes the work
// folder. Only its first call does anything.
func (d *demo) cleanup() error {
	var err error
	d.cleaned.Do(func() {
		for i := len(d.closers) - 1; i >= 0; i-- {
			d.closers[i]()
		}
		if e := os.RemoveAll(d.work); e != nil {
			err = fmt.Errorf("removing the work folder: %w", e)
		}
	})
	return err
}

func (d *demo) onCleanup(f func()) { d.closers = append(d.closers, f) }

// say writes one narration line.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, format+"\n", args...)
}

// tell writes a paragraph of narration, wrapped, each line indented by
// indent.
func (d *demo) tell(indent, format string, args ...any) {
	d.paragraph(indent, indent, fmt.Sprintf(format, args...))
}

// step writes the paragraph that opens step n.
func (d *demo) step(n int, format string, args ...any) {
	d.say("")
	d.paragraph(fmt.Sprintf("%-3s", fmt.Sprintf("%d.", n)), "   ", fmt.Sprintf(format, args...))
}

func (d *demo) paragraph(first, indent, text string) {
	const width = 96
	line, empty := first, true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > width {
			d.say("%s", line)
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line, empty = line+w, false
	}
	if !empty {
		d.say("%s", line)
	}
}

// show prints a process's output under the narration, indented, with the
// work folder written as $WORK.
func (d *demo) show(output string) {
	output = strings.TrimRight(d.short(output), "\n")
	if output == "" {
		return
	}
	for _, line := range strings.Split(output, "\n") {
		fmt.Fprintf(d.out, "     │ %s\n", line)
	}
}

// short writes the work folder as $WORK.
func (d *demo) short(s string) string { return strings.ReplaceAll(s, d.work, "$WORK") }
