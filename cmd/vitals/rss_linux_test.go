package main

import (
	"os/exec"
	"syscall"
)

// maxRSS returns the peak resident set size of a finished command.
func maxRSS(cmd *exec.Cmd) int64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // KiB on Linux
	}
	return 0
}
