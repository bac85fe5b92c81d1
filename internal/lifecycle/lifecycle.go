// Package lifecycle runs a package's lifecycle scripts the way npm does.
//
// It reproduces @npmcli/run-script as npm 11 calls it for `npm pack` and
// `npm publish` of a directory: the same script lookup, the same
// environment, the same `sh -c <script>` invocation in the package folder.
//
// # Which scripts, in which order, with which manifest
//
// npm runs only the named event for these lifecycle steps; `pre<event>` and
// `post<event>` are added by `npm run` alone (lib/commands/run.js), never by
// run-script, libnpmpack, pacote or publish. So Run runs exactly one script.
//
// npm reads package.json again between steps, so a script that edits
// package.json changes what later steps see. A caller mirroring npm sets
// Runner.Manifest as follows (each "read" is a fresh ReadManifest):
//
//	npm pack:    read A; prepack(A); read B; prepare(B) [pacote]; tar; postpack(A)
//	npm publish: read P; prepublishOnly(P); then the pack sequence above,
//	             then upload, publish, postpublish
//
// prepare gets PrepareEnv and postpack gets PostpackEnv as extra variables.
// airlock never runs publish or postpublish: the publish job runs no package
// code.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Grace periods for the process group. npm leaves background jobs of a
// script running; with pipes (writers that are not *os.File) Wait would
// otherwise block until they exit.
const (
	killGrace = 3 * time.Second // SIGTERM to SIGKILL after ctx is done
	pipeGrace = 2 * time.Second // waiting for pipes after the shell exits
)

// Runner runs the lifecycle scripts of one package directory.
type Runner struct {
	// Dir is the package directory; a relative path is made absolute.
	Dir string
	// Manifest is the parsed package.json (see ReadManifest). Run applies
	// npm's normalization for the event to it and never modifies it.
	Manifest map[string]any
	// Env is the environment scripts start from ("key=value"); the command
	// layer passes os.Environ().
	Env []string
	// Stdout and Stderr receive the script's output as it is written; nil
	// discards it. npm shares its stdin with the script; scripts here get
	// an empty stdin, as airlock runs non-interactively.
	Stdout, Stderr io.Writer
	// Shell runs the script as `Shell -c script`; empty means "sh", npm's
	// default script-shell. A bare name is looked up in the script's PATH,
	// as Node's spawn does.
	Shell string
	// Logger receives debug logs; nil is silent.
	Logger *slog.Logger

	// Command is the npm command stood in for ("pack" or "publish"),
	// exported as npm_command; empty leaves npm_command unset.
	Command string
	// NPM is the npm installation whose paths npm exports to every script
	// (see LocateNPM); nil exports none of them.
	NPM *NPM
}

// ScriptError reports a script that ran and failed.
type ScriptError struct {
	Event  string
	Script string
	// ExitCode is the shell's exit status, or 128+n when it was killed by
	// signal n (what a calling shell reports), so a CLI can exit with it.
	ExitCode int
	// Signal is the signal that killed the shell, or 0.
	Signal syscall.Signal
}

func (e *ScriptError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("%s script killed by signal %s: %s", e.Event, signalName(e.Signal), e.Script)
	}
	return fmt.Sprintf("%s script failed with exit code %d: %s", e.Event, e.ExitCode, e.Script)
}

// Script returns the script npm would run for event, or "" when there is
// none. The error reports a manifest npm would refuse for this event.
func (r *Runner) Script(event string) (string, error) {
	pkg, err := normalize(r.Manifest, r.absDir(), event)
	if err != nil {
		return "", err
	}
	return pkg.scripts[event], nil
}

// Banner returns the lines npm prints to stdout before a foreground script
// ("\n> name@1.0.0 prepack\n> script\n\n"), or "" when there is no script.
func (r *Runner) Banner(event string) (string, error) {
	pkg, err := normalize(r.Manifest, r.absDir(), event)
	if err != nil {
		return "", err
	}
	script := pkg.scripts[event]
	if script == "" {
		return "", nil
	}
	b := "\n> " + event + "\n"
	if pkg.id != "" {
		b = "\n> " + pkg.id + " " + event + "\n"
	}
	b += "> " + strings.ReplaceAll(strings.TrimSpace(script), "\n", "\n> ")
	return b + "\n\n", nil
}

// Run runs the script for event, if the manifest has one; a missing or
// empty script is a no-op. extraEnv is added before the package variables,
// as run-script's env option is (so it cannot override them).
//
// When ctx is done the script's process group gets SIGTERM, then SIGKILL
// after a grace period, and Run returns an error wrapping the context's
// cause. A script that exits non-zero or dies by a signal gives a
// *ScriptError.
func (r *Runner) Run(ctx context.Context, event string, extraEnv map[string]string) error {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if r.Dir == "" {
		return errors.New("running " + event + " script: no package directory")
	}
	dir := r.absDir()
	pkg, err := normalize(r.Manifest, dir, event)
	if err != nil {
		return fmt.Errorf("running %s script: %w", event, err)
	}
	script := pkg.scripts[event]
	if script == "" {
		log.Debug("no lifecycle script", "event", event, "dir", dir)
		return nil
	}

	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("running %s script: %w", event, err)
	}

	env := r.environ(dir, event, script, pkg, extraEnv)
	shell := r.Shell
	if shell == "" {
		shell = "sh"
	}
	shellPath, err := lookPath(shell, env.pathForLookup(), dir)
	if err != nil {
		return fmt.Errorf("running %s script: %w", event, err)
	}
	cmd := &exec.Cmd{
		Path:      shellPath,
		Args:      []string{shell, "-c", script},
		Dir:       dir,
		Env:       env.list(),
		Stdout:    r.Stdout,
		Stderr:    r.Stderr,
		WaitDelay: pipeGrace,
	}
	ownGroup(cmd)

	log.Debug("running lifecycle script", "event", event, "script", script, "dir", dir, "shell", shellPath)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s script: %w", event, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		log.Debug("stopping lifecycle script", "event", event, "pid", cmd.Process.Pid)
		signalGroup(cmd.Process, sigTerm)
		t := time.NewTimer(killGrace)
		select {
		case <-done:
		case <-t.C:
			signalGroup(cmd.Process, sigKill)
			<-done
		}
		t.Stop()
		// Whatever the shell left behind in its group goes too. The group
		// id cannot have been reused while any member is alive.
		signalGroup(cmd.Process, sigKill)
		return fmt.Errorf("running %s script: %w", event, context.Cause(ctx))
	}
	log.Debug("lifecycle script finished", "event", event, "elapsed", time.Since(start), "err", werr)

	if errors.Is(werr, exec.ErrWaitDelay) {
		// The shell exited 0; only a background job kept a pipe open.
		return nil
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code, sig := exitStatus(ee)
		return &ScriptError{Event: event, Script: script, ExitCode: code, Signal: sig}
	}
	if werr != nil {
		return fmt.Errorf("running %s script: %w", event, werr)
	}
	return nil
}

func (r *Runner) absDir() string {
	if r.Dir == "" {
		return ""
	}
	if d, err := filepath.Abs(r.Dir); err == nil {
		return d
	}
	return filepath.Clean(r.Dir)
}

// PrepareEnv returns the variables pacote adds for a directory's prepare
// script: the folder as npm_package_resolved, and npm_package_integrity,
// which pacote passes as null and Node's spawn turns into "null".
func PrepareEnv(dir string) map[string]string {
	dir, _ = filepath.Abs(dir)
	return map[string]string{
		"npm_package_resolved":  dir,
		"npm_package_integrity": "null",
	}
}

// PostpackEnv returns the variables libnpmpack adds for postpack, from the
// tarball just built: npm_package_from ("file:" and the folder),
// npm_package_resolved (the folder) and npm_package_integrity (the
// tarball's sha512 integrity string).
func PostpackEnv(dir, integrity string) map[string]string {
	dir, _ = filepath.Abs(dir)
	return map[string]string{
		"npm_package_from":      "file:" + filepath.ToSlash(dir),
		"npm_package_resolved":  dir,
		"npm_package_integrity": integrity,
	}
}
