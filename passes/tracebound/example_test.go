package tracebound_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/tracebound"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(tracebound.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(tracebound.Analyzer.Name)
	// Output: tracebound
}
