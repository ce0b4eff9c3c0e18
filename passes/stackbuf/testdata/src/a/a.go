package a

import (
	"os"
	"runtime"
	rt "runtime"
)

func ignored() {
	buf := make([]byte, 4096)
	runtime.Stack(buf, true) // want `runtime.Stack truncates silently when the trace does not fit in its 4096-byte buffer, and the result is ignored; grow the buffer`
}

func blank() {
	buf := make([]byte, 1024)
	_ = rt.Stack(buf, false) // want `1024-byte buffer, and the result is discarded`
}

func neverCompared() []byte {
	buf := make([]byte, 64<<10)
	n := runtime.Stack(buf, true) // want `65536-byte buffer, and n is never compared with len\(buf\)`
	return buf[:n]
}

func array() {
	var buf [512]byte
	os.Stdout.Write(buf[:runtime.Stack(buf[:], false)]) // want `512-byte buffer, and the result is never compared`
}

func grows() []byte {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, true) // the buffer grows: not reported
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func checked() ([]byte, bool) {
	buf := make([]byte, 4096)
	n := runtime.Stack(buf, false) // compared: not reported
	return buf[:n], n < len(buf)
}

func param(buf []byte) int {
	return runtime.Stack(buf, false) // the caller owns the size: not reported
}

func suppressed() {
	buf := make([]byte, 256)
	//vitals:ignore stackbuf only the first frames are logged, truncation is wanted
	runtime.Stack(buf, false)
}
