package a

import (
	"runtime"
	"testing"
)

func TestHeap(t *testing.T) {
	runtime.GC() // tests may collect: not reported
}

func BenchmarkAlloc(b *testing.B) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
}
