package a

import (
	"runtime"
	"testing"
)

func TestCollected(t *testing.T) {
	done := make(chan bool, 1)
	f := &File{}
	runtime.SetFinalizer(f, func(*File) { done <- true }) // tests watch collection on purpose: not reported
}
