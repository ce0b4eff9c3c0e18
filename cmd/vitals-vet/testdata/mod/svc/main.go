// Command svc has one finding per vitals analyzer, and a suppressed one.
package main

import (
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"time"

	dbg "example.com/svc/debug"
)

type conn struct{ fd int }

func main() {
	runtime.GOMAXPROCS(runtime.NumCPU())
	debug.SetGCPercent(-1)
	runtime.GC()
	c := &conn{}
	runtime.SetFinalizer(c, func(*conn) {})
	go poll()
	go dump()
	go record(io.Discard)
	runtime.GC() //vitals:ignore gccall the test checks that a suppressed finding stays quiet
	_ = dbg.On()
	http.ListenAndServe(":8080", nil)
}

func poll() {
	var m runtime.MemStats
	for range time.Tick(100 * time.Millisecond) {
		runtime.ReadMemStats(&m)
	}
}

func dump() {
	buf := make([]byte, 1024)
	runtime.Stack(buf, true)
}

func record(w io.Writer) {
	trace.Start(w)
}
