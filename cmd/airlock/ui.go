package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/lifecycle"
	"github.com/airlockdev/airlock/internal/termlog"
)

// newLogger is the logger commands give the library: warnings always,
// every step with verbose, as sentences on stderr ("airlock: warning: …")
// or, with --log-format json, as slog JSON records.
func newLogger(e *env, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	}
	return slog.New(termlog.New(e.stderr, "airlock", level))
}

// warnf prints a warning the command itself has, in the same form as the
// library's warnings.
func warnf(e *env, format string, args ...any) {
	newLogger(e, false).Warn(fmt.Sprintf(format, args...))
}

// All terminal output of errors goes through here: "airlock: " and the
// error on one line, then "hint: " and what to do, when there is advice.
func reportError(w io.Writer, err error) int {
	fmt.Fprintf(w, "airlock: %s\n", err)
	if h := hint.Of(err); h != "" {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
	if isUsage(err) {
		fmt.Fprintln(w, "hint: run 'airlock help' for usage")
		return 2
	}
	var se *lifecycle.ScriptError
	if errors.As(err, &se) && se.ExitCode > 0 && se.ExitCode < 256 {
		return se.ExitCode
	}
	return 1
}
