//go:build !unix

package registrytest

import (
	"os"
	"os/exec"
)

// Without process groups only Verdaccio itself can be stopped.
func ownGroup(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }
