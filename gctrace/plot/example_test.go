package plot_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/govitals/vitals/gctrace"
	"github.com/govitals/vitals/gctrace/plot"
)

func Example() {
	trace := `gc 1 @0.010s 2%: 0.030+1.2+0.010 ms clock, 0.060+0.10/0.90/0.20+0.020 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 2 @0.500s 1%: 0.025+0.90+0.008 ms clock, 0.050+0/0.70/0.10+0.016 ms cpu, 4->4->3 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
`
	s, err := gctrace.Summarize(strings.NewReader(trace), gctrace.WithMemoryLimit(8<<20))
	if err != nil {
		fmt.Println(err)
		return
	}
	var svg bytes.Buffer // or an *os.File
	if err := plot.Write(&svg, s, plot.SVG); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(svg.String(), "GOMEMLIMIT 8 MiB"))
	// Output: true
}
