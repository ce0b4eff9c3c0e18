package a

import (
	"runtime/debug"
	"testing"
)

func TestPool(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // tests stop the GC on purpose: not reported
}
