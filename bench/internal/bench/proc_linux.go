package bench

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill the child when the bench dies, so that
// an interrupted bench leaves no server behind.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
