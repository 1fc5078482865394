//go:build !linux

package bench

import "os/exec"

// setPdeathsig is Linux only; elsewhere the bench's own Stop must run.
func setPdeathsig(*exec.Cmd) {}
