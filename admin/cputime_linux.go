package admin

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is CLOCK_THREAD_CPUTIME_ID from <time.h>.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time the calling thread has used, and whether
// it could be read. The caller locks the goroutine to its thread.
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// measure runs f on a locked thread and returns the CPU time it took, or
// its wall time where the thread's clock cannot be read.
func measure(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	c0, ok0 := threadCPU()
	f()
	c1, ok1 := threadCPU()
	if ok0 && ok1 && c1 >= c0 {
		return c1 - c0
	}
	return time.Since(start)
}
