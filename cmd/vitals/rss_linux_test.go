package main

import (
	"os/exec"
	"syscall"
	"testing"
)

// maxRSS returns the peak resident set size of a finished command.
//
// Linux keeps the high-water mark of the address space a child had before
// its exec, and Go starts children with vfork, sharing the test binary's
// address space until the exec: a child's ru_maxrss is therefore at least the
// test binary's own peak. When that peak is already above limit (a -race
// build's shadow memory), the child's figure says nothing and maxRSS skips
// the caller's assertion by returning 0 with a log line.
func maxRSS(t *testing.T, cmd *exec.Cmd, limit int64) int64 {
	t.Helper()
	var self syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err == nil && self.Maxrss<<10 >= limit {
		t.Logf("not judging the child's peak RSS: this test binary's own peak (%d MiB) is above the limit, and a child inherits it at exec", self.Maxrss>>10)
		return 0
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // KiB on Linux
	}
	return 0
}
