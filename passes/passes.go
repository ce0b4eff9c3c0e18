// Package passes lists the vitals analyzers, each of which lives in its own
// package under passes/ and catches one misuse of the runtime's diagnostic
// and operational calls. Drivers (cmd/vitals-vet, the golangci-lint plugin)
// take the list from [All].
package passes

import (
	"golang.org/x/tools/go/analysis"

	"github.com/govitals/vitals/passes/finalizer"
	"github.com/govitals/vitals/passes/gccall"
	"github.com/govitals/vitals/passes/gcoff"
	"github.com/govitals/vitals/passes/maxprocs"
	"github.com/govitals/vitals/passes/memstatspoll"
	"github.com/govitals/vitals/passes/pprofexpose"
	"github.com/govitals/vitals/passes/stackbuf"
	"github.com/govitals/vitals/passes/tracebound"
)

// All returns every vitals analyzer, sorted by name, in a new slice. Running
// them all costs one pass over each package's syntax per analyzer; gcoff and
// pprofexpose also run on every dependency to carry their facts.
func All() []*analysis.Analyzer {
	return []*analysis.Analyzer{
		finalizer.Analyzer,
		gccall.Analyzer,
		gcoff.Analyzer,
		maxprocs.Analyzer,
		memstatspoll.Analyzer,
		pprofexpose.Analyzer,
		stackbuf.Analyzer,
		tracebound.Analyzer,
	}
}
