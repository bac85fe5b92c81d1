//go:build unix

package devtools

import (
	"os"
	"os/exec"
	"syscall"
)

// OwnGroup makes cmd start in its own process group, so that KillGroup
// also stops anything it starts.
func OwnGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// KillGroup kills p and its process group (p leads it: the group id is
// its pid).
func KillGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
