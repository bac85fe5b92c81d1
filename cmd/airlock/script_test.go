package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"airlock": func() {
			os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
		},
	})
}

// TestScript runs the CLI scripts in testdata/script: one behaviour each,
// named after the command first.
//
// The scripts share one world (see world_test.go): a real Verdaccio behind
// the registry front door, and an OIDC issuer playing GitHub Actions.
func TestScript(t *testing.T) {
	w := startWorld(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Scripts run real shells, git and npm; give them the host PATH.
			env.Setenv("PATH", os.Getenv("PATH"))
			w.setup(env)
			return nil
		},
		Cmds: w.commands(),
	})
}
