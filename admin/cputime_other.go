//go:build !linux

package admin

import "time"

// measure runs f and returns its wall time: an upper bound of its CPU time
// where the thread's CPU clock is not read.
func measure(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
