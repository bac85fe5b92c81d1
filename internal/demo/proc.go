package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// job is where and with what a process runs: a folder, and the whole of
// its environment (nothing is inherited).
type job struct {
	name string
	dir  string
	env  []string
	// hide are argument values narrated as ******.
	hide []string
	// quiet narrates the command line but not the output; silent
	// narrates nothing, and the caller says what happened.
	quiet, silent bool
}

// command runs argv in j, narrates its command line and output, and
// records it in the result. A process that fails is an error.
func (d *demo) command(ctx context.Context, j job, argv ...string) (*Process, error) {
	if !j.silent {
		d.say("   $ %s", d.commandLine(j, argv))
	}
	r := &Process{Job: j.name, Args: argv}
	for _, kv := range j.env {
		k, _, _ := strings.Cut(kv, "=")
		r.EnvNames = append(r.EnvNames, k)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = j.dir
	cmd.Env = append([]string{}, j.env...) // never nil: nil would inherit ours
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so that on Ctrl-C or failure whatever it
	// started is stopped with it.
	devtools.OwnGroup(cmd)
	cmd.Cancel = func() error { devtools.KillGroup(cmd.Process); return nil }
	cmd.WaitDelay = 3 * time.Second
	r.Err = cmd.Run()
	if cmd.Process != nil {
		devtools.KillGroup(cmd.Process) // anything it left behind
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	d.recordMu.Lock()
	d.res.Processes = append(d.res.Processes, *r)
	d.recordMu.Unlock()
	if !j.silent && (!j.quiet || r.Err != nil) {
		// The progress on stderr, then the result on stdout: in the order
		// airlock writes them, which two pipes would not keep.
		d.show(r.Stderr + r.Stdout)
	}
	if r.Err != nil {
		if ctx.Err() != nil {
			return r, fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		// What it printed is narrated above, and in the result.
		return r, fmt.Errorf("%s: %s failed: %w", j.name, d.commandLine(j, argv), r.Err)
	}
	return r, nil
}

// commandLine is argv as narrated: the program by its name (or its path
// in the job's folder), the work folder as $WORK, hidden values as ******.
func (d *demo) commandLine(j job, argv []string) string {
	shown := make([]string, len(argv))
	for i, a := range argv {
		switch {
		case i == 0:
			if rel, err := filepath.Rel(j.dir, a); err == nil && j.dir != "" && filepath.IsLocal(rel) {
				a = rel
			} else {
				a = filepath.Base(a)
			}
		case contains(j.hide, a):
			a = "******"
		}
		shown[i] = d.short(a)
	}
	return strings.Join(shown, " ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// readOutputs reads a GITHUB_OUTPUT or dotenv file of single-line
// name=value pairs.
func readOutputs(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.Contains(k, "<<") {
			return nil, fmt.Errorf("%s: line %q is not name=value", path, sc.Text())
		}
		out[k] = v
	}
	return out, sc.Err()
}

// mkdirs makes folders under the work folder.
func (d *demo) mkdirs(paths ...string) error {
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path, content string, perm os.FileMode) error {
	return os.WriteFile(path, []byte(content), perm)
}
