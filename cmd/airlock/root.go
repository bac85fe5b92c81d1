package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// env carries what commands may read from the process: streams and the
// environment, so tests can run Main in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	vars           []string
	// logFormat is the root --log-format flag: "text" or "json".
	logFormat string
}

func (e *env) lookup(key string) (string, bool) {
	for i := len(e.vars) - 1; i >= 0; i-- {
		k, v, ok := cutEnv(e.vars[i])
		if ok && k == key {
			return v, true
		}
	}
	return "", false
}

func cutEnv(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return "", "", false
}

// Main runs airlock with args and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, vars []string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, vars: vars}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return reportError(stderr, err)
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "airlock",
		Short: "Release npm packages from CI without exposing publish credentials to package code",
		Long: `airlock splits an npm release in two:

  airlock pack      in the unprivileged job: runs the package's scripts,
                    builds the tarball exactly as npm pack does, and
                    records its digest
  airlock publish   in the job that holds the publish credential: runs no
                    package code, checks the digest, and uploads`,
		Version:       toolVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if e.logFormat != "text" && e.logFormat != "json" {
				return usageError{fmt.Errorf("--log-format %q: want text or json", e.logFormat)}
			}
			return nil
		},
	}
	root.SetVersionTemplate("airlock {{.Version}}\n")
	root.PersistentFlags().StringVar(&e.logFormat, "log-format", "text", "how warnings and --verbose steps are written to stderr: text (sentences) or json (one slog record a line)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(newVersionCmd(e), newPackCmd(e), newPublishCmd(e), newDoctorCmd(e), newStageCmd(e), newAttestCmd(e), newVerifyCmd(e), newDiffCmd(e), newAuditCmd(e), newInitCmd(e))
	return root
}

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
