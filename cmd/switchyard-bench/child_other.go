//go:build !linux

package main

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux: children are stopped by the
// benchmark itself (or by the terminal's SIGINT to the process group).
func setDeathSignal(*exec.Cmd) {}
