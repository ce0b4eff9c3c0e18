// Package callee resolves which package-level function a call or reference
// names, through the type checker, so that aliased and dot imports are
// matched like plain ones ("import rt \"runtime\"; rt.GC()" is runtime.GC).
package callee

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// Is reports whether call calls the package-level function pkg.name, such as
// ("runtime", "GC"). Methods never match. It costs a map lookup.
func Is(info *types.Info, call *ast.CallExpr, pkg, name string) bool {
	return isFunc(typeutil.StaticCallee(info, call), pkg, name)
}

// Refers reports whether expression e, stripped of parentheses, names the
// package-level function pkg.name without calling it, as in
// "time.AfterFunc(d, trace.Stop)".
func Refers(info *types.Info, e ast.Expr, pkg, name string) bool {
	var id *ast.Ident
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		id = e
	case *ast.SelectorExpr:
		id = e.Sel
	default:
		return false
	}
	fn, _ := info.Uses[id].(*types.Func)
	return isFunc(fn, pkg, name)
}

// Method reports whether call calls method name of the named type pkg.typ,
// through a value or a pointer, such as ("net/http", "Server", "ListenAndServe").
func Method(info *types.Info, call *ast.CallExpr, pkg, typ, name string) bool {
	fn := typeutil.StaticCallee(info, call)
	if fn == nil || fn.Name() != name {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return false
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	return n.Obj().Pkg().Path() == pkg && n.Obj().Name() == typ
}

func isFunc(fn *types.Func, pkg, name string) bool {
	if fn == nil || fn.Pkg() == nil || fn.Name() != name || fn.Pkg().Path() != pkg {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() == nil
}
