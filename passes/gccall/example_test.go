package gccall_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/gccall"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(gccall.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(gccall.Analyzer.Name)
	// Output: gccall
}
