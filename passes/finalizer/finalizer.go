package finalizer

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/goversion"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "finalizer"

// Analyzer reports runtime.SetFinalizer calls, and finalizers or
// runtime.AddCleanup cleanups that refer to their own object. It costs one
// walk over the call expressions of each package, plus a walk of each
// finalizer closure.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime.SetFinalizer and self-capturing cleanups\n\nFinalizers may never run and delay freeing; a finalizer or cleanup that refers to its own object is never run at all.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/finalizer",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const (
	msgFinalizer = "runtime.SetFinalizer may never run (not at exit, not while the object is reachable) and keeps its object alive for an extra GC cycle; release the resource with an explicit Close called via defer"
	alsoCleanup  = ", or use runtime.AddCleanup"
	cleanupSince = "go1.24"
)

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		switch {
		case len(call.Args) == 2 && callee.Is(pass.TypesInfo, call, "runtime", "SetFinalizer"):
			if tv, ok := pass.TypesInfo.Types[call.Args[1]]; ok && tv.IsNil() {
				continue // removes a finalizer
			}
			obj := root(pass.TypesInfo, call.Args[0])
			if id := captures(pass.TypesInfo, call.Args[1], obj); id != nil {
				ign.Report(pass, analysis.Diagnostic{
					Pos: id.Pos(), End: id.End(),
					Message: fmt.Sprintf("finalizer refers to %s, its own object, so %s stays reachable forever: it is never freed and the finalizer never runs (use the finalizer's parameter instead)", id.Name, id.Name),
				})
				continue
			}
			msg := msgFinalizer
			if goversion.AtLeast(pass, call.Pos(), cleanupSince) {
				msg += alsoCleanup
			}
			ign.Report(pass, analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Message: msg})
		case len(call.Args) == 3 && callee.Is(pass.TypesInfo, call, "runtime", "AddCleanup"):
			obj := root(pass.TypesInfo, call.Args[0])
			id := captures(pass.TypesInfo, call.Args[1], obj)
			what := "cleanup"
			if id == nil {
				id = pointsInto(pass.TypesInfo, call.Args[2], obj)
				what = "cleanup argument"
			}
			if id != nil {
				ign.Report(pass, analysis.Diagnostic{
					Pos: id.Pos(), End: id.End(),
					Message: fmt.Sprintf("runtime.AddCleanup %s refers to %s, the object it watches, so %s stays reachable forever: it is never freed and the cleanup never runs (pass only what the cleanup needs, such as a file descriptor)", what, id.Name, id.Name),
				})
			}
		}
	}
	return nil, nil
}

// root returns the variable an object expression is made of: x in x, &x,
// and (x); nil for anything else.
func root(info *types.Info, e ast.Expr) *types.Var {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = ast.Unparen(u.X)
	}
	id, ok := e.(*ast.Ident)
	if !ok {
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

// pointsInto returns the identifier of obj when e is obj itself or the
// address of something inside it (&obj.field, &obj[i]): values that keep obj
// reachable. A field read or method call (obj.Name()) copies a value out and
// does not; nil when obj is nil.
func pointsInto(info *types.Info, e ast.Expr, obj *types.Var) *ast.Ident {
	if obj == nil {
		return nil
	}
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
		for {
			switch x := e.(type) {
			case *ast.SelectorExpr:
				e = ast.Unparen(x.X)
				continue
			case *ast.IndexExpr:
				e = ast.Unparen(x.X)
				continue
			}
			break
		}
	}
	if id, ok := e.(*ast.Ident); ok && info.Uses[id] == obj {
		return id
	}
	return nil
}

// captures returns the first identifier in e that refers to obj, where e is
// a closure or a plain expression; nil when there is none or obj is nil.
func captures(info *types.Info, e ast.Expr, obj *types.Var) *ast.Ident {
	if obj == nil {
		return nil
	}
	var found *ast.Ident
	ast.Inspect(e, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == obj {
			found = id
		}
		return true
	})
	return found
}
