package finalizer_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/finalizer"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(finalizer.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(finalizer.Analyzer.Name)
	// Output: finalizer
}
