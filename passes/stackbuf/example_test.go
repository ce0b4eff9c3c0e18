package stackbuf_test

import (
	"fmt"

	"github.com/govitals/vitals/passes/stackbuf"
)

// The analyzer plugs into any driver of golang.org/x/tools/go/analysis:
// singlechecker.Main(stackbuf.Analyzer), a multichecker, or gopls.
func Example() {
	fmt.Println(stackbuf.Analyzer.Name)
	// Output: stackbuf
}
