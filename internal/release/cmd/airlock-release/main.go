// Command airlock-release builds and records airlock's release archives;
// the Makefile's release targets run it:
//
//	airlock-release build -version v1.2.3 -out dist [-target linux/amd64]...
//	airlock-release record -dist dist -release release
//	airlock-release verify -dist dist -release release [-tag v1.2.3]
//	airlock-release licenses -o release/LICENSES.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) int {
	err := dispatch(ctx, args, stdout, stderr, env)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "airlock-release: %s\n", err)
	if h := hint.Of(err); h != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h)
	}
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type targetsFlag []release.Target

func (f *targetsFlag) String() string { return fmt.Sprint(*f) }
func (f *targetsFlag) Set(s string) error {
	t, err := release.ParseTarget(s)
	if err != nil {
		return err
	}
	*f = append(*f, t)
	return nil
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) error {
	if len(args) == 0 {
		return usageError{errors.New("want a command: build, record, verify or licenses")}
	}
	fs := flag.NewFlagSet("airlock-release "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", ".", "the module's root folder")
	parse := func() error {
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err}
		}
		if fs.NArg() > 0 {
			return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
		}
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "build":
		version := fs.String("version", "", "the release tag, vX.Y.Z")
		out := fs.String("out", "dist", "folder for the archives and SHA256SUMS (missing or empty)")
		var targets targetsFlag
		fs.Var(&targets, "target", "build only this GOOS/GOARCH (repeatable; default: all)")
		if err := parse(); err != nil {
			return err
		}
		arts, err := release.Build(ctx, release.Options{
			Source: *source, Version: *version, Out: *out, Targets: targets, Env: env, Log: log,
		})
		if err != nil {
			return err
		}
		for _, a := range arts {
			fmt.Fprintf(stdout, "%s  %s\n", a.SHA256, a.Name)
		}
		return nil
	case "record":
		dist := fs.String("dist", "dist", "the folder make release wrote")
		rel := fs.String("release", "release", "the folder that records the release")
		if err := parse(); err != nil {
			return err
		}
		tag, err := release.Record(*dist, *rel)
		if err != nil {
			return fmt.Errorf("recording the release: %w", err)
		}
		fmt.Fprintf(stdout, "recorded %s in %s/%s and %s/%s\n", tag, *rel, release.VersionFile, *rel, release.SumsFile)
		return nil
	case "verify":
		dist := fs.String("dist", "dist", "the folder make release wrote")
		rel := fs.String("release", "release", "the folder that records the release")
		tag := fs.String("tag", "", "the pushed tag, which must be the recorded version")
		if err := parse(); err != nil {
			return err
		}
		if err := release.Compare(*dist, *rel, *tag); err != nil {
			return fmt.Errorf("verifying the release: %w", err)
		}
		fmt.Fprintf(stdout, "%s is the release recorded in %s\n", *dist, *rel)
		return nil
	case "licenses":
		out := fs.String("o", "", "write the report here (default: stdout)")
		if err := parse(); err != nil {
			return err
		}
		mods, err := release.LinkedModules(ctx, release.ListOptions{Source: *source, Env: env})
		if err != nil {
			return fmt.Errorf("listing the linked modules: %w", err)
		}
		if err := release.CheckLicenses(mods); err != nil {
			return err
		}
		report := release.Report(mods)
		if *out == "" {
			_, err := stdout.Write(report)
			return err
		}
		return os.WriteFile(*out, report, 0o644)
	default:
		return usageError{fmt.Errorf("unknown command %q (want %s)", args[0], strings.Join([]string{"build", "record", "verify", "licenses"}, ", "))}
	}
}
