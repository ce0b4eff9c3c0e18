// Package stacks compares vitals/stacks with panicparse v2.5.0 on the same
// synthetic goroutine dumps: parse speed (MB/s), parse+group time,
// allocations, and peak RSS of a process that does nothing else.
//
//	cd bench && go test -run '^$' -bench . -benchmem ./stacks/
//	VITALS_BENCH_100K=1 go test -run '^$' -bench . -benchmem ./stacks/   # adds the 100k-goroutine dump
package stacks

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// WriteDump writes a debug=2 style dump of n goroutines to w: about n/50
// distinct call chains (popular ones much more frequent than rare ones),
// 3–8 frames each, paths under GOROOT and the module cache, and a
// distinct pointer argument in every goroutine's top frame, so grouping
// must ignore arguments. The output is the same for the same n.
func WriteDump(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(uint64(n), 42))
	chains := max(n/50, 4)
	type frame struct{ fn, file, args string }
	states := []string{"chan receive", "select", "IO wait", "sync.Mutex.Lock", "semacquire", "sleep", "sync.Cond.Wait"}
	tops := []frame{
		{"internal/poll.runtime_pollWait", "/usr/local/go/src/runtime/netpoll.go", "0x7f8e5a3c%04x, 0x72"},
		{"runtime.gopark", "/usr/local/go/src/runtime/proc.go", "0x0?, 0x0?, 0x0?, 0x0?, 0x0?"},
		{"sync.runtime_SemacquireMutex", "/usr/local/go/src/runtime/sema.go", "0xc0001%04x?, 0x0?, 0x1?"},
		{"time.Sleep", "/usr/local/go/src/runtime/time.go", "0x3b9aca00"},
	}
	type chain struct {
		state  string
		frames []frame
		lines  []int
		offs   []int
		parent frame
	}
	cs := make([]chain, chains)
	for i := range cs {
		c := &cs[i]
		c.state = states[r.IntN(len(states))]
		c.frames = append(c.frames, tops[r.IntN(len(tops))])
		depth := 2 + r.IntN(6)
		for d := 0; d < depth; d++ {
			mod := fmt.Sprintf("github.com/acme/svc%d", r.IntN(40))
			pkg := []string{"internal/store", "api", "worker", "internal/rpc", "cache"}[r.IntN(5)]
			typ := []string{"(*Conn)", "(*Server)", "(*Pool)", "Handler", "(*queue[...])"}[r.IntN(5)]
			meth := []string{"read", "serve", "loop", "Do", "wait", "handle"}[r.IntN(6)]
			c.frames = append(c.frames, frame{
				fn:   fmt.Sprintf("%s/%s.%s.%s%d", mod, pkg, typ, meth, i%97),
				file: fmt.Sprintf("/root/go/pkg/mod/%s@v1.%d.0/%s/%s.go", mod, r.IntN(9), pkg, meth),
				args: "0xc000%06x, {0xc0001a2000, 0x1000, 0x1000}",
			})
		}
		for range c.frames {
			c.lines = append(c.lines, 20+r.IntN(900))
			c.offs = append(c.offs, 0x10+r.IntN(0x400))
		}
		c.parent = c.frames[len(c.frames)-1]
	}
	for id := 1; id <= n; id++ {
		// Skewed choice: a few chains hold most goroutines.
		ci := int(float64(chains) * r.Float64() * r.Float64() * r.Float64())
		c := &cs[ci]
		if wait := r.IntN(30); wait > 20 {
			fmt.Fprintf(bw, "goroutine %d [%s, %d minutes]:\n", id+100, c.state, wait)
		} else {
			fmt.Fprintf(bw, "goroutine %d [%s]:\n", id+100, c.state)
		}
		for i, f := range c.frames {
			bw.WriteString(f.fn)
			bw.WriteByte('(')
			if strings.Contains(f.args, "%") {
				fmt.Fprintf(bw, f.args, (id*0x40+i*8)&0xffffff)
			} else {
				bw.WriteString(f.args)
			}
			fmt.Fprintf(bw, ")\n\t%s:%d +0x%x\n", f.file, c.lines[i], c.offs[i])
		}
		fmt.Fprintf(bw, "created by %s in goroutine %d\n\t%s:%d +0x%x\n\n", c.parent.fn, 1+ci%7, c.parent.file, c.lines[0]+3, c.offs[0]+5)
	}
	return bw.Flush()
}
