//go:build !unix

package sigstoretest

import (
	"os"
	"os/exec"
)

// Without process groups only the server itself can be stopped.
func ownGroup(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }
