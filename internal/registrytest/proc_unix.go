//go:build unix

package registrytest

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts Verdaccio in its own process group, so stopping it also
// stops anything it started.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(p *os.Process) {
	// Verdaccio leads its group, so the group id is its pid.
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}
