package memstatspoll

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "memstatspoll"

// Analyzer reports runtime.ReadMemStats called in a loop that is not paced,
// or paced faster than once a second. It costs one walk over the call
// expressions of each package and a walk of each loop that holds a call.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime.ReadMemStats polled faster than once a second\n\nEvery ReadMemStats call stops the world; runtime/metrics reads the same counters without doing so.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/memstatspoll",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const advice = "read runtime/metrics, which does not, or poll at most once a second"

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !callee.Is(pass.TypesInfo, call, "runtime", "ReadMemStats") {
			continue
		}
		if ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		var loop, fn ast.Node
		for c := range cur.Enclosing((*ast.ForStmt)(nil), (*ast.RangeStmt)(nil), (*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
			switch c.Node().(type) {
			case *ast.ForStmt, *ast.RangeStmt:
				if loop == nil {
					loop = c.Node()
				}
				continue
			}
			fn = c.Node()
			break
		}
		if loop == nil || fn == nil || !inside(loop, fn) {
			continue
		}
		p := pacing{info: pass.TypesInfo, fn: fn}
		p.scan(loop)
		var msg string
		switch {
		case p.unknown:
			continue
		case !p.found:
			msg = "runtime.ReadMemStats stops the world; called on every iteration of a loop that nothing paces (" + advice + ")"
		case p.period < time.Second:
			msg = fmt.Sprintf("runtime.ReadMemStats stops the world; called every %v here (%s)", p.period, advice)
		default:
			continue
		}
		ign.Report(pass, analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Message: msg})
	}
	return nil, nil
}

// inside reports whether loop lies within fn (the loop found is the innermost
// one, but it may belong to an outer function).
func inside(loop, fn ast.Node) bool {
	return fn.Pos() <= loop.Pos() && loop.End() <= fn.End()
}

// pacing collects what slows a loop down: the longest constant period found,
// and whether some period is not a constant.
type pacing struct {
	info    *types.Info
	fn      ast.Node
	found   bool
	unknown bool
	period  time.Duration
}

func (p *pacing) add(d ast.Expr) {
	p.found = true
	tv, ok := p.info.Types[d]
	if !ok || tv.Value == nil {
		p.unknown = true
		return
	}
	n, exact := constant.Int64Val(constant.ToInt(tv.Value))
	if !exact {
		p.unknown = true
		return
	}
	p.period = max(p.period, time.Duration(n))
}

// scan walks loop, not descending into closures, for the calls and channel
// receives that pace it.
func (p *pacing) scan(loop ast.Node) {
	if r, ok := loop.(*ast.RangeStmt); ok {
		p.channel(r.X)
	}
	ast.Inspect(loop, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if len(n.Args) == 1 && callee.Is(p.info, n, "time", "Sleep") {
				p.add(n.Args[0])
			}
		case *ast.UnaryExpr:
			if n.Op.String() == "<-" {
				p.channel(n.X)
			}
		}
		return true
	})
}

// channel records the period of a channel expression the loop receives from:
// time.After(d), time.Tick(d), or t.C of a ticker or timer made in the
// function with a constant period.
func (p *pacing) channel(e ast.Expr) {
	e = ast.Unparen(e)
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 &&
		(callee.Is(p.info, call, "time", "After") || callee.Is(p.info, call, "time", "Tick")) {
		p.add(call.Args[0])
		return
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "C" {
		return
	}
	id, ok := ast.Unparen(sel.X).(*ast.Ident)
	if !ok {
		return
	}
	v, ok := p.info.Uses[id].(*types.Var)
	if !ok || !isTimer(v.Type()) {
		return
	}
	// Find where the function makes the ticker or timer.
	var period ast.Expr
	ast.Inspect(p.fn, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			lid, ok := l.(*ast.Ident)
			if !ok || (p.info.Defs[lid] != v && p.info.Uses[lid] != v) {
				continue
			}
			if c, ok := as.Rhs[i].(*ast.CallExpr); ok && len(c.Args) == 1 &&
				(callee.Is(p.info, c, "time", "NewTicker") || callee.Is(p.info, c, "time", "NewTimer")) {
				period = c.Args[0]
			}
		}
		return true
	})
	if period == nil {
		p.found, p.unknown = true, true
		return
	}
	p.add(period)
}

func isTimer(t types.Type) bool {
	ptr, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := ptr.Elem().(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" &&
		(n.Obj().Name() == "Ticker" || n.Obj().Name() == "Timer")
}
