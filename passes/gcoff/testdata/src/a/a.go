package a

import (
	"runtime/debug"
	dbg "runtime/debug"
)

func off() {
	debug.SetGCPercent(-1) // want `debug.SetGCPercent\(-1\) turns the garbage collector off, and nothing in this package and its imports sets a memory limit`
}

func aliased() {
	dbg.SetGCPercent(-1) // want `turns the garbage collector off`
}

func tuned() {
	debug.SetGCPercent(400) // a different target, not off: not reported
}

func variable(p int) {
	debug.SetGCPercent(p) // not a constant: not reported
}

func suppressed() {
	debug.SetGCPercent(-1) //vitals:ignore gcoff GOMEMLIMIT is set by the deployment manifest
}
