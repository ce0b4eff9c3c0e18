package gccall

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/ignore"
)

// Analyzer reports runtime.GC calls outside tests and benchmarks. It costs
// one walk over the call expressions of each package.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime.GC calls in production code\n\nruntime.GC runs a full blocking collection; the runtime's pacer (GOGC, GOMEMLIMIT) decides better when to collect.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/gccall",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const name = "gccall"

const message = "runtime.GC forces a full collection that blocks the caller and burns CPU in proportion to the live heap; let the runtime's pacer decide (remove the call, tune GOGC or GOMEMLIMIT if heap size is the concern)"

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !callee.Is(pass.TypesInfo, call, "runtime", "GC") {
			continue
		}
		if ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		if beforeReadMemStats(pass.TypesInfo, cur) && inTestingHelper(pass.TypesInfo, cur) {
			continue
		}
		ign.Report(pass, analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Message: message})
	}
	return nil, nil
}

// beforeReadMemStats reports whether the call at cur is a statement directly
// followed by a runtime.ReadMemStats statement.
func beforeReadMemStats(info *types.Info, cur inspector.Cursor) bool {
	stmt := cur.Parent()
	if _, ok := stmt.Node().(*ast.ExprStmt); !ok {
		return false
	}
	next, ok := stmt.NextSibling()
	if !ok {
		return false
	}
	es, ok := next.Node().(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	return ok && callee.Is(info, call, "runtime", "ReadMemStats")
}

// inTestingHelper reports whether the innermost function around cur takes a
// parameter of type *testing.B, *testing.T or testing.TB.
func inTestingHelper(info *types.Info, cur inspector.Cursor) bool {
	for fn := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		var ft *ast.FuncType
		switch n := fn.Node().(type) {
		case *ast.FuncDecl:
			ft = n.Type
		case *ast.FuncLit:
			ft = n.Type
		}
		for _, field := range ft.Params.List {
			t := info.TypeOf(field.Type)
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "testing" {
				switch n.Obj().Name() {
				case "B", "T", "TB":
					return true
				}
			}
		}
		return false
	}
	return false
}
