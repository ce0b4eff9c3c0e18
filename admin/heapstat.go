package admin

import "runtime/metrics"

// heapAllocated returns the bytes the process has allocated on the heap
// since it started: a runtime/metrics read, no stop-the-world.
func heapAllocated() uint64 { return readUint("/gc/heap/allocs:bytes") }

// heapGoal returns the heap size at which the next collection ends.
func heapGoal() uint64 { return readUint("/gc/heap/goal:bytes") }

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
