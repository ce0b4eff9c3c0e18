package pprofexpose

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"net"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "pprofexpose"

// Analyzer reports http.DefaultServeMux served on an address that is not
// provably loopback, in packages that import net/http/pprof or expvar
// directly or transitively. It exports a [RegistersDebugHandlers] fact for
// every such package, so it runs on every dependency; each run costs a look
// at the package's imports, plus one walk over its calls and composite
// literals when the fact holds.
var Analyzer = &analysis.Analyzer{
	Name:      name,
	Doc:       "report /debug/pprof and /debug/vars served beyond loopback\n\nnet/http/pprof and expvar register on http.DefaultServeMux when imported; serving that mux on a public address exposes profiles and process internals.",
	URL:       "https://pkg.go.dev/github.com/govitals/vitals/passes/pprofexpose",
	Requires:  []*analysis.Analyzer{inspect.Analyzer},
	Run:       run,
	FactTypes: []analysis.Fact{new(RegistersDebugHandlers)},
}

// RegistersDebugHandlers is the package fact that linking the package
// registers debug handlers on http.DefaultServeMux. Origin is the package
// that registers them (net/http/pprof or expvar); Via lists the imports that
// lead there from the package, nearest first.
type RegistersDebugHandlers struct {
	Origin string
	Via    []string
}

// AFact marks RegistersDebugHandlers as an analysis fact.
func (*RegistersDebugHandlers) AFact() {}

func (f *RegistersDebugHandlers) String() string {
	if len(f.Via) == 0 {
		return "registers " + f.Origin
	}
	return "registers " + f.Origin + " via " + strings.Join(f.Via, " -> ")
}

// routes are the paths each registering package adds to DefaultServeMux.
var routes = map[string]string{
	"net/http/pprof": "/debug/pprof/ (heap, goroutine and CPU profiles)",
	"expvar":         "/debug/vars (command line and memory statistics)",
}

func run(pass *analysis.Pass) (any, error) {
	fact := registers(pass)
	if fact == nil {
		return nil, nil
	}
	pass.ExportPackageFact(fact)
	if _, self := routes[pass.Pkg.Path()]; self {
		return nil, nil
	}
	ign := ignore.New(pass, name)
	info := pass.TypesInfo
	what := fact.Origin
	if len(fact.Via) > 1 {
		what += " (imported via " + strings.Join(fact.Via[:len(fact.Via)-1], " -> ") + ")"
	}
	report := func(pos, end ast.Node, how, addr string) {
		ign.Report(pass, analysis.Diagnostic{
			Pos: pos.Pos(), End: end.End(),
			Message: fmt.Sprintf("%s serves http.DefaultServeMux on %s, and %s registered %s there: anyone who reaches the port can read them and make the service profile itself; serve your own http.ServeMux here and the debug handlers on a loopback admin port",
				how, addr, what, routes[fact.Origin]),
		})
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil), (*ast.CompositeLit)(nil)) {
		switch n := cur.Node().(type) {
		case *ast.CallExpr:
			var addr, handler ast.Expr
			var how string
			switch {
			case len(n.Args) == 2 && callee.Is(info, n, "net/http", "ListenAndServe"):
				addr, handler, how = n.Args[0], n.Args[1], "http.ListenAndServe"
			case len(n.Args) == 4 && callee.Is(info, n, "net/http", "ListenAndServeTLS"):
				addr, handler, how = n.Args[0], n.Args[3], "http.ListenAndServeTLS"
			case len(n.Args) == 2 && callee.Is(info, n, "net/http", "Serve"):
				handler, how = n.Args[1], "http.Serve"
			case len(n.Args) == 4 && callee.Is(info, n, "net/http", "ServeTLS"):
				handler, how = n.Args[1], "http.ServeTLS"
			default:
				continue
			}
			if !defaultMux(info, handler) {
				continue
			}
			if addr == nil { // Serve, ServeTLS: look at the listener.
				if loopbackListener(info, cur, n.Args[0]) {
					continue
				}
				report(n, n, how, "a listener not known to be loopback")
				continue
			}
			if s, ok := constString(info, addr); ok {
				if loopback(s) {
					continue
				}
				report(n, n, how, fmt.Sprintf("%q, which is not loopback", s))
				continue
			}
			report(n, n, how, "an address not known to be loopback")
		case *ast.CompositeLit:
			if !isServer(info.TypeOf(n)) {
				continue
			}
			addr := "\"\" (every interface)"
			handlerSet := false
			loop := false
			for _, elt := range n.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					handlerSet = true // positional fields: not worth guessing
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				if key == nil {
					continue
				}
				switch key.Name {
				case "Handler":
					handlerSet = !defaultMux(info, kv.Value)
				case "Addr":
					if s, ok := constString(info, kv.Value); ok {
						addr = fmt.Sprintf("%q, which is not loopback", s)
						loop = loopback(s)
					} else {
						addr = "an address not known to be loopback"
					}
				}
			}
			if handlerSet || loop || handlerAssignedLater(info, cur) {
				continue
			}
			report(n.Type, n.Type, "this http.Server", addr)
		}
	}
	return nil, nil
}

// registers returns the fact for the package being analyzed, or nil.
func registers(pass *analysis.Pass) *RegistersDebugHandlers {
	if _, ok := routes[pass.Pkg.Path()]; ok {
		return &RegistersDebugHandlers{Origin: pass.Pkg.Path()}
	}
	for _, imp := range pass.Pkg.Imports() {
		if _, ok := routes[imp.Path()]; ok {
			return &RegistersDebugHandlers{Origin: imp.Path(), Via: []string{imp.Path()}}
		}
	}
	for _, imp := range pass.Pkg.Imports() {
		var f RegistersDebugHandlers
		if pass.ImportPackageFact(imp, &f) {
			return &RegistersDebugHandlers{Origin: f.Origin, Via: append([]string{imp.Path()}, f.Via...)}
		}
	}
	return nil
}

// defaultMux reports whether handler is nil or http.DefaultServeMux.
func defaultMux(info *types.Info, handler ast.Expr) bool {
	handler = ast.Unparen(handler)
	if tv, ok := info.Types[handler]; ok && tv.IsNil() {
		return true
	}
	var id *ast.Ident
	switch h := handler.(type) {
	case *ast.Ident:
		id = h
	case *ast.SelectorExpr:
		id = h.Sel
	default:
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == "net/http" && v.Name() == "DefaultServeMux"
}

func constString(info *types.Info, e ast.Expr) (string, bool) {
	tv, ok := info.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// loopback reports whether addr ("host:port") listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackListener reports whether l is a variable that the enclosing
// function sets only from net.Listen with a constant loopback address.
func loopbackListener(info *types.Info, cur inspector.Cursor, l ast.Expr) bool {
	id, ok := ast.Unparen(l).(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok {
		return false
	}
	var fn ast.Node
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		fn = c.Node()
		break
	}
	if fn == nil {
		return false
	}
	sets, ok := 0, true
	ast.Inspect(fn, func(n ast.Node) bool {
		as, isAssign := n.(*ast.AssignStmt)
		if !isAssign {
			return true
		}
		for i, lhs := range as.Lhs {
			lid, isID := lhs.(*ast.Ident)
			if !isID || (info.Defs[lid] != v && info.Uses[lid] != v) {
				continue
			}
			sets++
			var call *ast.CallExpr
			if len(as.Rhs) == 1 && i == 0 {
				call, _ = as.Rhs[0].(*ast.CallExpr)
			}
			if call == nil || len(call.Args) != 2 || !callee.Is(info, call, "net", "Listen") {
				ok = false
				continue
			}
			if s, isConst := constString(info, call.Args[1]); !isConst || !loopback(s) {
				ok = false
			}
		}
		return true
	})
	return ok && sets > 0
}

func isServer(t types.Type) bool {
	if t == nil {
		return false
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "net/http" && n.Obj().Name() == "Server"
}

// handlerAssignedLater reports whether the server literal at cur is stored
// in a variable whose Handler field the enclosing function sets.
func handlerAssignedLater(info *types.Info, cur inspector.Cursor) bool {
	var v types.Object
	for c := range cur.Enclosing((*ast.AssignStmt)(nil), (*ast.ValueSpec)(nil)) {
		switch s := c.Node().(type) {
		case *ast.AssignStmt:
			if len(s.Lhs) == 1 {
				if id, ok := s.Lhs[0].(*ast.Ident); ok {
					v = info.ObjectOf(id)
				}
			}
		case *ast.ValueSpec:
			if len(s.Names) == 1 {
				v = info.ObjectOf(s.Names[0])
			}
		}
		break
	}
	if v == nil {
		return false
	}
	var fn ast.Node
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		fn = c.Node()
		break
	}
	if fn == nil {
		return false
	}
	set := false
	ast.Inspect(fn, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || set {
			return !set
		}
		for _, lhs := range as.Lhs {
			if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Handler" {
				if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok && info.Uses[id] == v {
					set = true
				}
			}
		}
		return true
	})
	return set
}
