package pprofexpose_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/pprofexpose"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(pprofexpose.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(pprofexpose.Analyzer.Name)
	// Output: pprofexpose
}
