package a

import (
	"runtime"
	"testing"
)

func TestFirstFrame(t *testing.T) {
	var buf [100]byte
	runtime.Stack(buf[:], false) // tests: not reported
}
