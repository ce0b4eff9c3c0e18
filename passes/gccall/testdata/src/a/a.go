package a

import (
	"runtime"
	rt "runtime"
	"testing"
)

func direct() {
	runtime.GC() // want `runtime.GC forces a full collection that blocks the caller`
}

func aliased() {
	rt.GC() // want `runtime.GC forces a full collection`
}

func valueIsNotACall() func() {
	return runtime.GC // a reference, not a call: not reported
}

// beforeReadMemStats outside a testing helper is still production code.
func beforeReadMemStats() uint64 {
	var m runtime.MemStats
	runtime.GC() // want `runtime.GC forces`
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapAfterGC is a benchmark helper: collecting right before ReadMemStats
// gives settled numbers, the one legitimate use.
func heapAfterGC(b testing.TB) uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// gcNotFollowedByRead is a helper that collects for no measurement.
func gcNotFollowedByRead(b *testing.B) {
	runtime.GC() // want `runtime.GC forces`
	b.Log("collected")
}

func suppressed() {
	runtime.GC() //vitals:ignore gccall releases the arena before fork, measured in issue 12

	//vitals:ignore gccall,maxprocs the line below is covered too
	runtime.GC()
}

func bareIgnore() {
	/* want `//vitals:ignore gccall has no reason` */ //vitals:ignore gccall
	runtime.GC()                                      // want `runtime.GC forces`
}

func otherAnalyzer() {
	runtime.GC() //vitals:ignore maxprocs names another analyzer // want `runtime.GC forces`
}
