package gcoff

import (
	"fmt"
	"go/ast"
	"go/constant"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "gcoff"

// Analyzer reports debug.SetGCPercent(-1) when neither the package nor its
// imports call debug.SetMemoryLimit. It exports a [SetsMemoryLimit] fact for
// every package that does, so it runs on every dependency; each run costs one
// walk over the call expressions of the package.
var Analyzer = &analysis.Analyzer{
	Name:      name,
	Doc:       "report debug.SetGCPercent(-1) in a program with no memory limit\n\nWith the collector off and no debug.SetMemoryLimit, the heap grows until the process runs out of memory.",
	URL:       "https://pkg.go.dev/github.com/govitals/vitals/passes/gcoff",
	Requires:  []*analysis.Analyzer{inspect.Analyzer},
	Run:       run,
	FactTypes: []analysis.Fact{new(SetsMemoryLimit)},
}

// SetsMemoryLimit is the package fact that the package, or one of its
// imports, calls debug.SetMemoryLimit. Via names the package that calls it.
type SetsMemoryLimit struct {
	Via string
}

// AFact marks SetsMemoryLimit as an analysis fact.
func (*SetsMemoryLimit) AFact() {}

func (f *SetsMemoryLimit) String() string { return "sets a memory limit in " + f.Via }

func run(pass *analysis.Pass) (any, error) {
	fact := inherited(pass)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var off []*ast.CallExpr
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		switch {
		case callee.Is(pass.TypesInfo, call, "runtime/debug", "SetMemoryLimit"):
			if fact == nil {
				fact = &SetsMemoryLimit{Via: pass.Pkg.Path()}
			}
		case len(call.Args) == 1 && callee.Is(pass.TypesInfo, call, "runtime/debug", "SetGCPercent"):
			tv, ok := pass.TypesInfo.Types[call.Args[0]]
			if ok && tv.Value != nil && constant.Sign(tv.Value) < 0 && !ignore.InTestFile(pass, call.Pos()) {
				off = append(off, call)
			}
		}
	}
	if fact != nil {
		pass.ExportPackageFact(fact)
		return nil, nil
	}
	if len(off) == 0 {
		return nil, nil
	}
	where := "this package and its imports"
	if pass.Pkg.Name() == "main" {
		where = "this program"
	}
	ign := ignore.New(pass, name)
	for _, call := range off {
		ign.Report(pass, analysis.Diagnostic{
			Pos: call.Pos(), End: call.End(),
			Message: fmt.Sprintf("debug.SetGCPercent(-1) turns the garbage collector off, and nothing in %s sets a memory limit, so the heap grows until the process runs out of memory; call debug.SetMemoryLimit (or set GOMEMLIMIT and say so in a //vitals:ignore gcoff comment)", where),
		})
	}
	return nil, nil
}

// inherited returns the fact of the first import that has one.
func inherited(pass *analysis.Pass) *SetsMemoryLimit {
	for _, imp := range pass.Pkg.Imports() {
		var f SetsMemoryLimit
		if pass.ImportPackageFact(imp, &f) {
			return &f
		}
	}
	return nil
}
