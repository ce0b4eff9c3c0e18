package gctrace_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/govitals/vitals/gctrace"
)

// A program's standard error with GODEBUG=gctrace=1: two cycles, one forced
// by runtime.GC, between the program's own lines.
const stderr = `starting worker
gc 1 @0.004s 3%: 0.030+1.2+0.010 ms clock, 0.060+0.10/0.90/0.20+0.020 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P
worker: 1000 items
gc 2 @0.950s 1%: 0.025+0.90+0.008 ms clock, 0.050+0/0.70/0.10+0.016 ms cpu, 3->3->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
`

func Example() {
	s, err := gctrace.Summarize(strings.NewReader(stderr))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d cycles, %d forced, max pause %v, live heap %d MiB\n",
		s.Cycles, s.Forced, s.Pause.Max, s.LiveLast>>20)
	// Output: 2 cycles, 1 forced, max pause 40µs, live heap 1 MiB
}

// Reading records one at a time, passing the program's own lines on.
func ExampleReader() {
	r := gctrace.NewReader(strings.NewReader(stderr), gctrace.WithPassthrough(os.Stdout))
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if rec.Kind == gctrace.KindGC {
			c := rec.Cycle
			fmt.Printf("cycle %d at %v: pause %v, heap %d->%d MiB\n", c.Num, c.At, c.Pause(), c.HeapStart>>20, c.HeapEnd>>20)
		}
	}
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// starting worker
	// cycle 1 at 4ms: pause 40µs, heap 4->5 MiB
	// worker: 1000 items
	// cycle 2 at 950ms: pause 33µs, heap 3->3 MiB
	// {Lines:4 Bytes:306 Trace:2 Other:2 Malformed:0 Embedded:0 Repaired:0}
}

func ExampleEnableTrace() {
	fmt.Println(gctrace.EnableTrace([]string{"HOME=/root", "GODEBUG=http2client=0"}))
	// Output: [HOME=/root GODEBUG=http2client=0,gctrace=1]
}
