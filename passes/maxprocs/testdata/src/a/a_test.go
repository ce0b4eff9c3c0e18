package a

import (
	"runtime"
	"testing"
)

func TestParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // tests pin GOMAXPROCS on purpose: not reported
}
