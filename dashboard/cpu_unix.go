//go:build unix

package dashboard

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) the process has used:
// one getrusage call, no allocation. The runtime's /cpu/classes metrics are
// only brought up to date at each GC, too rarely for a chart of CPU use.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
