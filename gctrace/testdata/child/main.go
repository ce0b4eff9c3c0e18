// Command child is the real Go program the gctrace Run tests (in gctrace and
// in cmd/vitals) trace: it allocates, forces one cycle, then makes sure no
// cycle can start or still be printing before it reads its own GC count.
// SetGCPercent(-1) waits for a cycle in mark, and ReadMemStats stops the
// world, which waits for a cycle in mark termination, whose trace line is
// printed before the world is let go. It prints the runtime/metrics counts
// (cycles, forced cycles) on stdout and exits with the code in its first
// argument.
//
// It writes to standard error only when no cycle can be running (a line at
// the start, and text without a newline at the end), so the exact count the
// tests compare does not depend on how its own writes and the runtime's
// pieces of a gc line interleave; untangling those is tested on the captured
// corpus (the "mixed" program of gen.go).
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
)

var sink []byte
var live [][]byte

func main() {
	fmt.Fprintln(os.Stderr, "child: starting")
	for i := 0; i < 200000; i++ {
		sink = make([]byte, 1<<10)
		if i%2000 == 0 {
			live = append(live, make([]byte, 64<<10))
		}
		if i == 100000 {
			runtime.GC()
		}
	}
	debug.SetGCPercent(-1)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	fmt.Fprint(os.Stderr, "child: done, no newline")
	fmt.Printf("%d %d\n", s[0].Value.Uint64(), s[1].Value.Uint64())
	code, _ := strconv.Atoi(os.Args[1])
	os.Exit(code)
}
