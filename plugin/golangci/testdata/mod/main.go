// Command svc has one finding for each of gccall, gcoff, maxprocs and
// memstatspoll.
package main

import (
	"runtime"
	"runtime/debug"
	"time"
)

func main() {
	runtime.GOMAXPROCS(runtime.NumCPU())
	debug.SetGCPercent(-1)
	runtime.GC()
	var m runtime.MemStats
	for range time.Tick(time.Millisecond) {
		runtime.ReadMemStats(&m)
	}
}
