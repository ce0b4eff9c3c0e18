package stacks_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/govitals/vitals/stacks"
)

const dump = `goroutine 1 [running]:
main.main()
	/app/main.go:10 +0x1d

goroutine 7 [chan receive, 3 minutes]:
main.worker(0xc000012000)
	/app/main.go:20 +0x45
created by main.main in goroutine 1
	/app/main.go:9 +0x25

goroutine 8 [chan receive, 5 minutes]:
main.worker(0xc000012080)
	/app/main.go:20 +0x45
created by main.main in goroutine 1
	/app/main.go:9 +0x25
`

func Example() {
	d, err := stacks.Parse(strings.NewReader(dump))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range stacks.GroupBy(d.Goroutines) {
		fmt.Printf("%d × %s in %s (waiting %d–%d min, ids %v)\n",
			g.Count, g.Frames[0].Func, stateNames(g), g.MinWait, g.MaxWait, g.IDs)
	}
	// Output:
	// 2 × main.worker in chan receive (waiting 3–5 min, ids [7 8])
	// 1 × main.main in running (waiting 0–0 min, ids [1])
}

func stateNames(g *stacks.Group) string {
	var s []string
	for st := range g.States {
		s = append(s, st)
	}
	return strings.Join(s, ",")
}

func ExampleWriteText() {
	groups, err := stacks.GroupReader(strings.NewReader(dump))
	if err != nil {
		fmt.Println(err)
		return
	}
	stacks.WriteText(os.Stdout, groups)
	// Output:
	// 3 goroutines in 2 groups
	//
	// 2 chan receive, 3–5 minutes  [goroutines 7 8]
	//     main.worker(0xc000012000)  /app/main.go:20
	//     created by main.main       /app/main.go:9
	//
	// 1 running  [goroutine 1]
	//     main.main()  /app/main.go:10
}

func ExampleDiff() {
	before, _ := stacks.GroupReader(strings.NewReader(dump))
	more := dump + `
goroutine 9 [chan receive]:
main.worker(0xc000012100)
	/app/main.go:20 +0x45
created by main.main in goroutine 1
	/app/main.go:9 +0x25
`
	after, _ := stacks.GroupReader(strings.NewReader(more))
	d := stacks.Diff(before, after)
	for _, c := range d.Grew {
		fmt.Printf("%s: %d -> %d\n", c.Group.Frames[0].Func, c.Before, c.After)
	}
	// Output:
	// main.worker: 2 -> 3
}

func ExampleNewScanner() {
	s := stacks.NewScanner(strings.NewReader("log line before the dump\n" + dump))
	for s.Next() {
		g := s.Goroutine()
		fmt.Println(g.ID, g.State, len(g.Frames))
	}
	if err := s.Err(); err != nil {
		fmt.Println(err)
	}
	_, err := stacks.Parse(strings.NewReader("not a dump\n"))
	fmt.Println(err)
	// Output:
	// 1 running 1
	// 7 chan receive 1
	// 8 chan receive 1
	// stacks: no goroutine dump found: expected a line like "goroutine 1 [running]:" or "goroutine profile: total N", found "not a dump"
}

// Go 1.27 prints pprof labels after the state; ByLabels splits groups by
// them, and WithStats reports a block the parser could not read.
func ExampleGroupReaderStats() {
	const labelled = `goroutine 19 [chan receive] {job: sync, tenant: acme}:
main.worker()
	/app/main.go:20 +0x45

goroutine 20 [chan receive] {job: sync, tenant: "big co"}:
main.worker()
	/app/main.go:20 +0x45

goroutine 21 [chan receive] {job: sync, tenant: acme}
main.worker()
	/app/main.go:20 +0x45
`
	groups, st, err := stacks.GroupReaderStats(strings.NewReader(labelled), stacks.ByLabels("tenant"))
	if err != nil {
		fmt.Println(err)
		return
	}
	stacks.WriteText(os.Stdout, groups, stacks.WithStats(st))
	// Output:
	// 2 goroutines in 2 groups
	// warning: 1 goroutine block could not be parsed and was skipped: "goroutine 21 [chan receive] {job: sync, tenant: acme}"
	//
	// 1 chan receive  [goroutine 19]  labels {tenant: acme}
	//     main.worker()  /app/main.go:20
	//
	// 1 chan receive  [goroutine 20]  labels {tenant: "big co"}
	//     main.worker()  /app/main.go:20
}
