//go:build unix

package sigstoretest

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts a server in its own process group, so stopping it also
// stops anything it started.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(p *os.Process) {
	// The server leads its group, so the group id is its pid.
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}
