package admin

import (
	"runtime"
	"syscall"
	"testing"
)

// TestMeasureLowersPriority: a write runs at nice 19 and the thread gets
// its priority back after (the tests run as root, who may raise it again).
func TestMeasureLowersPriority(t *testing.T) {
	runtime.LockOSThread() // measure's lock nests: the same thread after
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	before, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		t.Skip(err)
	}
	var during int
	c := measure(func() {
		during, _ = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		s := 0
		for i := range 1_000_000 {
			s += i
		}
		_ = s
	})
	after, _ := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if 20-during != 19 {
		t.Errorf("nice %d during the write, want 19", 20-during)
	}
	if after != before {
		t.Errorf("nice %d after the write, want %d as before", 20-after, 20-before)
	}
	if c.cpu <= 0 {
		t.Errorf("no CPU time measured: %v", c.cpu)
	}
}
