package memstatspoll_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/memstatspoll"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(memstatspoll.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(memstatspoll.Analyzer.Name)
	// Output: memstatspoll
}
