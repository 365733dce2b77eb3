package main

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel stop the child if the benchmark dies without stopping
// it (kill -9, a crash), so that no server outlives a run.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
