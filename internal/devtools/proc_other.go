//go:build !unix

package devtools

import (
	"os"
	"os/exec"
)

// OwnGroup does nothing without process groups.
func OwnGroup(*exec.Cmd) {}

// KillGroup kills p alone: without process groups only it can be stopped.
func KillGroup(p *os.Process) { _ = p.Kill() }
