//go:build !unix

package lifecycle

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// Without process groups only the shell itself can be stopped.
func ownGroup(*exec.Cmd) {}

func signalGroup(p *os.Process, _ syscall.Signal) { _ = p.Kill() }

func exitStatus(ee *exec.ExitError) (int, syscall.Signal) { return ee.ExitCode(), 0 }

func signalName(s syscall.Signal) string { return "signal " + strconv.Itoa(int(s)) }
