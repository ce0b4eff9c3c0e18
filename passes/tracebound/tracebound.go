package tracebound

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/goversion"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "tracebound"

// Analyzer reports runtime/trace.Start calls that are never stopped, stopped
// on some paths only, or run for the program's whole life. It costs one walk
// over the call expressions of each package; the control-flow graphs come
// from the ctrlflow analyzer, which builds one per function.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime/trace.Start without a Stop on every path or a time bound\n\nExecution traces grow by megabytes a second on a busy service; stop them, bound them, or use trace.FlightRecorder for always-on tracing.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/tracebound",
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      run,
}

const (
	tracePkg       = "runtime/trace"
	flightSince    = "go1.25"
	flightAdvice   = ", or keep a trace.FlightRecorder for always-on tracing"
	msgNever       = "trace.Start is never stopped: the trace grows for as long as the process runs, by megabytes a second on a busy service, until the disk is full; stop it with defer trace.Stop() or time.AfterFunc(d, trace.Stop)"
	msgSomePaths   = "trace.Start is not followed by trace.Stop on every path, so a return leaves the tracer running; call defer trace.Stop() right after a successful Start"
	msgProgramLife = "trace.Start traces until the program exits, with no time bound: a busy service writes megabytes of trace a second; bound it with time.AfterFunc(d, trace.Stop)"
)

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	info := pass.TypesInfo
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)

	stopsInPackage := 0
	for cur := range insp.Root().Preorder((*ast.Ident)(nil)) {
		if callee.Refers(info, cur.Node().(*ast.Ident), tracePkg, "Stop") {
			stopsInPackage++
		}
	}

	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if !callee.Is(info, call, tracePkg, "Start") || ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		var fnNode ast.Node // nil for a Start in a package-level initializer
		for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
			fnNode = c.Node()
			break
		}
		var body *ast.BlockStmt
		var g *cfg.CFG
		var isMain bool
		switch fn := fnNode.(type) {
		case *ast.FuncDecl:
			body, g = fn.Body, cfgs.FuncDecl(fn)
			isMain = pass.Pkg.Name() == "main" && fn.Recv == nil && (fn.Name.Name == "main" || fn.Name.Name == "init")
		case *ast.FuncLit:
			body, g = fn.Body, cfgs.FuncLit(fn)
		default:
			continue
		}
		s := scan(info, body)
		flight := ""
		if goversion.AtLeast(pass, call.Pos(), flightSince) {
			flight = flightAdvice
		}
		var msg string
		switch {
		case !s.deferred && !s.handedOn && len(s.direct) == 0:
			if stopsInPackage > 0 {
				continue // started here, stopped by another function of the package
			}
			msg = msgNever + flight
		case !s.deferred && !s.handedOn && g != nil && escapes(info, cfgs, g, call):
			msg = msgSomePaths
		case isMain && !s.handedOn && !s.bounded:
			msg = msgProgramLife + flight
		default:
			continue
		}
		ign.Report(pass, analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Message: msg})
	}
	return nil, nil
}

// stops is what a function body does about stopping a trace.
type stops struct {
	deferred bool            // defer trace.Stop(), or a deferred closure calling it
	handedOn bool            // trace.Stop passed as a value or called in a closure
	bounded  bool            // the function bounds time somehow
	direct   []*ast.CallExpr // trace.Stop() calls in the body itself
}

var timeBounds = [][2]string{
	{"time", "Sleep"}, {"time", "After"}, {"time", "AfterFunc"}, {"time", "NewTimer"},
	{"context", "WithTimeout"}, {"context", "WithDeadline"},
	{"context", "WithTimeoutCause"}, {"context", "WithDeadlineCause"},
}

func scan(info *types.Info, body *ast.BlockStmt) stops {
	var s stops
	var walk func(n ast.Node, inClosure, inDefer bool)
	walk = func(root ast.Node, inClosure, inDefer bool) {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.DeferStmt:
				walk(n.Call, inClosure, true)
				return false
			case *ast.FuncLit:
				if n != root {
					walk(n.Body, true, inDefer)
					return false
				}
			case *ast.CallExpr:
				for _, b := range timeBounds {
					if callee.Is(info, n, b[0], b[1]) {
						s.bounded = true
					}
				}
				if callee.Is(info, n, tracePkg, "Stop") {
					switch {
					case inDefer:
						s.deferred = true
					case inClosure:
						s.handedOn = true
					default:
						s.direct = append(s.direct, n)
					}
					return false
				}
			case *ast.Ident, *ast.SelectorExpr:
				if callee.Refers(info, n.(ast.Expr), tracePkg, "Stop") {
					s.handedOn = true // a value, not a call: handed to AfterFunc, a goroutine, ...
				}
				return false
			}
			return true
		})
	}
	walk(body, false, false)
	return s
}

// escapes reports whether some path in g from the trace.Start call to the
// function's end passes no trace.Stop call. Paths on which Start returned a
// non-nil error, and paths ending in panic or another call that does not
// return, are not counted.
func escapes(info *types.Info, cfgs *ctrlflow.CFGs, g *cfg.CFG, start *ast.CallExpr) bool {
	errVar := startErr(info, g, start)
	seen := map[*cfg.Block]bool{}
	var visit func(b *cfg.Block, from int) bool
	visit = func(b *cfg.Block, from int) bool {
		if from == 0 {
			if seen[b] {
				return false
			}
			seen[b] = true
		}
		for _, n := range b.Nodes[from:] {
			if hasStop(info, n) {
				return false
			}
		}
		succs := b.Succs
		if len(b.Nodes) > 0 && len(succs) == 2 {
			if be, ok := b.Nodes[len(b.Nodes)-1].(*ast.BinaryExpr); ok && errVar != nil && isNil(info, be.Y) {
				if id, ok := ast.Unparen(be.X).(*ast.Ident); ok && info.Uses[id] == errVar {
					if be.Op == token.NEQ {
						succs = succs[1:] // err != nil: Start failed on the then-branch
					} else if be.Op == token.EQL {
						succs = succs[:1]
					}
				}
			}
		}
		if len(succs) == 0 {
			// The block after a select's last case has no successors: no
			// path leaves a select without taking a case.
			return b.Kind != cfg.KindSelectAfterCase && !noReturn(info, cfgs, b)
		}
		for _, next := range succs {
			if visit(next, 0) {
				return true
			}
		}
		return false
	}
	for _, b := range g.Blocks {
		for i, n := range b.Nodes {
			if n.Pos() <= start.Pos() && start.End() <= n.End() {
				return visit(b, i+1)
			}
		}
	}
	return false
}

// startErr returns the variable the error of start is assigned to, if any.
func startErr(info *types.Info, g *cfg.CFG, start *ast.CallExpr) *types.Var {
	var v *types.Var
	for _, b := range g.Blocks {
		for _, n := range b.Nodes {
			as, ok := n.(*ast.AssignStmt)
			if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 || ast.Unparen(as.Rhs[0]) != start {
				continue
			}
			if id, ok := as.Lhs[0].(*ast.Ident); ok {
				if d, ok := info.Defs[id].(*types.Var); ok {
					v = d
				} else {
					v, _ = info.Uses[id].(*types.Var)
				}
			}
		}
	}
	return v
}

func isNil(info *types.Info, e ast.Expr) bool {
	tv, ok := info.Types[e]
	return ok && tv.IsNil()
}

// hasStop reports whether n calls trace.Stop directly.
func hasStop(info *types.Info, n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if callee.Is(info, n, tracePkg, "Stop") {
				found = true
			}
		}
		return !found
	})
	return found
}

// noReturn reports whether block b ends in panic or a call that never
// returns, such as os.Exit or log.Fatal.
func noReturn(info *types.Info, cfgs *ctrlflow.CFGs, b *cfg.Block) bool {
	if len(b.Nodes) == 0 {
		return false
	}
	es, ok := b.Nodes[len(b.Nodes)-1].(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && info.Uses[id] == types.Universe.Lookup("panic") {
		return true
	}
	fn := typeutil.StaticCallee(info, call)
	return fn != nil && cfgs.NoReturn(fn)
}
