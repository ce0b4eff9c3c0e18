package stackbuf

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "stackbuf"

// Analyzer reports runtime.Stack calls into a fixed-size buffer whose result
// is never compared, so truncation passes silently. It costs one walk over
// the call expressions of each package and a walk of each function that
// calls runtime.Stack.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime.Stack into a fixed buffer without a length check\n\nruntime.Stack truncates silently when the trace does not fit; compare the result with len(buf) and grow, or use pprof.Lookup(\"goroutine\").WriteTo.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/stackbuf",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const advice = "grow the buffer until the result is less than len(buf), or use pprof.Lookup(\"goroutine\").WriteTo(w, 2)"

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	info := pass.TypesInfo
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if len(call.Args) != 2 || !callee.Is(info, call, "runtime", "Stack") || ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		var fn ast.Node
		for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
			fn = c.Node()
			break
		}
		if fn == nil {
			continue
		}
		size, fixed := fixedSize(info, fn, call.Args[0])
		if !fixed {
			continue
		}
		var why string
		switch parent := cur.Parent().Node().(type) {
		case *ast.ExprStmt:
			why = "the result is ignored"
		case *ast.AssignStmt, *ast.ValueSpec:
			v := resultVar(info, parent, call)
			switch {
			case v == nil:
				why = "the result is discarded"
			case !compared(info, fn, v):
				why = fmt.Sprintf("%s is never compared with len(buf)", v.Name())
			}
		default:
			why = "the result is never compared with len(buf)"
		}
		if why == "" {
			continue
		}
		ign.Report(pass, analysis.Diagnostic{
			Pos: call.Pos(), End: call.End(),
			Message: fmt.Sprintf("runtime.Stack truncates silently when the trace does not fit in its %d-byte buffer, and %s; %s", size, why, advice),
		})
	}
	return nil, nil
}

// fixedSize reports the size of buf when it is provably fixed: an inline
// make([]byte, N), a slice of an array, or a variable that fn only ever sets
// to make([]byte, N) with constant N.
func fixedSize(info *types.Info, fn ast.Node, buf ast.Expr) (int64, bool) {
	buf = ast.Unparen(buf)
	if n, ok := constMake(info, buf); ok {
		return n, true
	}
	if s, ok := buf.(*ast.SliceExpr); ok && s.Low == nil && s.High == nil {
		if t := info.TypeOf(s.X); t != nil {
			if a, ok := t.Underlying().(*types.Array); ok {
				return a.Len(), true
			}
		}
	}
	id, ok := buf.(*ast.Ident)
	if !ok {
		return 0, false
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok {
		return 0, false
	}
	var size int64
	sets, fixed := 0, true
	ast.Inspect(fn, func(n ast.Node) bool {
		var lhs, rhs []ast.Expr
		switch n := n.(type) {
		case *ast.AssignStmt:
			lhs, rhs = n.Lhs, n.Rhs
		case *ast.ValueSpec:
			for _, name := range n.Names {
				lhs = append(lhs, name)
			}
			rhs = n.Values
		default:
			return true
		}
		for i, l := range lhs {
			lid, ok := l.(*ast.Ident)
			if !ok || (info.Defs[lid] != v && info.Uses[lid] != v) {
				continue
			}
			sets++
			if len(rhs) != len(lhs) {
				fixed = false
				continue
			}
			n, ok := constMake(info, ast.Unparen(rhs[i]))
			if !ok {
				fixed = false
			}
			size = max(size, n)
		}
		return true
	})
	return size, fixed && sets > 0
}

// constMake returns N for make([]byte, N) with a constant N.
func constMake(info *types.Info, e ast.Expr) (int64, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) < 2 {
		return 0, false
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); !ok || info.Uses[id] != types.Universe.Lookup("make") {
		return 0, false
	}
	tv, ok := info.Types[call.Args[1]]
	if !ok || tv.Value == nil {
		return 0, false
	}
	n, exact := constant.Int64Val(constant.ToInt(tv.Value))
	return n, exact
}

// resultVar returns the variable an assignment stores call's result in, or
// nil for _.
func resultVar(info *types.Info, stmt ast.Node, call *ast.CallExpr) *types.Var {
	var lhs []ast.Expr
	var rhs []ast.Expr
	switch s := stmt.(type) {
	case *ast.AssignStmt:
		lhs, rhs = s.Lhs, s.Rhs
	case *ast.ValueSpec:
		for _, n := range s.Names {
			lhs = append(lhs, n)
		}
		rhs = s.Values
	}
	for i, r := range rhs {
		if r != call || i >= len(lhs) {
			continue
		}
		id, ok := lhs[i].(*ast.Ident)
		if !ok {
			return nil
		}
		if v, ok := info.Defs[id].(*types.Var); ok {
			return v
		}
		v, _ := info.Uses[id].(*types.Var)
		return v
	}
	return nil
}

// compared reports whether fn compares v with anything (n < len(buf),
// n == cap(buf), n >= 1<<16, ...).
func compared(info *types.Info, fn ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || found {
			return !found
		}
		switch b.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			for _, side := range []ast.Expr{b.X, b.Y} {
				if id, ok := ast.Unparen(side).(*ast.Ident); ok && info.Uses[id] == v {
					found = true
				}
			}
		}
		return true
	})
	return found
}
