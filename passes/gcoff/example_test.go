package gcoff_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/gcoff"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(gcoff.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(gcoff.Analyzer.Name)
	// Output: gcoff
}
