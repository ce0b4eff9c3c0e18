//go:build !linux

package admin

import "time"

// measure runs f and returns its wall time, an upper bound of its CPU time
// where the thread's CPU clock is not read, and the bytes the process
// allocated meanwhile.
func measure(f func()) cost {
	start := time.Now()
	a0 := heapAllocated()
	f()
	return cost{cpu: time.Since(start), bytes: heapAllocated() - a0}
}

// measureHere is measure; the priority is not lowered here either.
func measureHere(f func()) cost { return measure(f) }
