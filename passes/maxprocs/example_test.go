package maxprocs_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/maxprocs"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(maxprocs.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(maxprocs.Analyzer.Name)
	// Output: maxprocs
}
