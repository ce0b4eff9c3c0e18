package maxprocs

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/govitals/vitals/passes/internal/callee"
	"github.com/govitals/vitals/passes/internal/goversion"
	"github.com/govitals/vitals/passes/internal/ignore"
)

const name = "maxprocs"

// Analyzer reports runtime.GOMAXPROCS(n) with n > 0: with runtime.NumCPU()
// in every Go version, with any value from Go 1.25 on. It costs one walk
// over the call expressions of each package.
var Analyzer = &analysis.Analyzer{
	Name:     name,
	Doc:      "report runtime.GOMAXPROCS(n) with n > 0\n\nruntime.NumCPU ignores the container's CPU limit, and since Go 1.25 any runtime.GOMAXPROCS(n > 0) stops the runtime from following that limit.",
	URL:      "https://pkg.go.dev/github.com/govitals/vitals/passes/maxprocs",
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

const (
	msgNumCPU      = "runtime.GOMAXPROCS(runtime.NumCPU()) sizes the scheduler to the host's CPUs, not the container's CPU limit, so a throttled container runs too many threads; remove it (it restates the default) and take GOMAXPROCS from the CPU quota"
	msgNumCPU125   = "runtime.GOMAXPROCS(runtime.NumCPU()) sizes the scheduler to the host's CPUs, not the container's CPU limit, and stops the runtime from following that limit (Go 1.25+); remove it, the default already is container-aware"
	msgFreeze      = "runtime.GOMAXPROCS with n > 0 freezes GOMAXPROCS: since Go 1.25 the runtime then stops following the container's CPU limit; drop the call (set GOMAXPROCS in the environment if you must) or undo it with runtime.SetDefaultGOMAXPROCS"
	fixMessage     = "Remove the runtime.GOMAXPROCS(runtime.NumCPU()) statement"
	containerAware = "go1.25"
)

func run(pass *analysis.Pass) (any, error) {
	ign := ignore.New(pass, name)
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.CallExpr)(nil)) {
		call := cur.Node().(*ast.CallExpr)
		if len(call.Args) != 1 || !callee.Is(pass.TypesInfo, call, "runtime", "GOMAXPROCS") ||
			ignore.InTestFile(pass, call.Pos()) {
			continue
		}
		arg := ast.Unparen(call.Args[0])
		if restores(pass.TypesInfo, cur, arg) {
			continue // puts back a value GOMAXPROCS returned: the call that set it is the one reported
		}
		if tv, ok := pass.TypesInfo.Types[arg]; ok && tv.Value != nil {
			if n, exact := constant.Int64Val(tv.Value); !exact || n <= 0 {
				continue // GOMAXPROCS(0) reads; negative values are ignored by the runtime.
			}
		}
		aware := goversion.AtLeast(pass, call.Pos(), containerAware)
		argCall, _ := arg.(*ast.CallExpr)
		numCPU := argCall != nil && callee.Is(pass.TypesInfo, argCall, "runtime", "NumCPU")
		d := analysis.Diagnostic{Pos: call.Pos(), End: call.End()}
		switch {
		case numCPU && aware:
			d.Message = msgNumCPU125
		case numCPU:
			d.Message = msgNumCPU
		case aware:
			d.Message = msgFreeze
		default:
			continue
		}
		if numCPU {
			if edits := removal(pass, cur, call); edits != nil {
				d.SuggestedFixes = []analysis.SuggestedFix{{Message: fixMessage, TextEdits: edits}}
			}
		}
		ign.Report(pass, d)
	}
	return nil, nil
}

// removal returns the edits that delete the statement made of call, and the
// import of runtime when nothing else in the file uses it; nil when deleting
// is not provably safe (the call's result is used, the statement is not in a
// statement list, or runtime is dot-imported).
func removal(pass *analysis.Pass, cur inspector.Cursor, call *ast.CallExpr) []analysis.TextEdit {
	stmtCur := cur.Parent()
	stmt, ok := stmtCur.Node().(*ast.ExprStmt)
	if !ok {
		return nil
	}
	switch stmtCur.ParentEdgeKind() {
	case edge.BlockStmt_List, edge.CaseClause_Body, edge.CommClause_Body:
	default:
		return nil
	}
	var file *ast.File
	for f := range cur.Enclosing((*ast.File)(nil)) {
		file = f.Node().(*ast.File)
	}
	// Every package qualifier inside the statement, such as "runtime" in
	// runtime.GOMAXPROCS and runtime.NumCPU.
	names := map[*types.PkgName]bool{}
	qualified := true
	ast.Inspect(call, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok {
				qualified = false
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			pn, _ := pass.TypesInfo.Uses[id].(*types.PkgName)
			if !ok || pn == nil {
				qualified = false
				return true
			}
			names[pn] = true
		}
		return true
	})
	if !qualified || file == nil {
		return nil
	}
	edits := []analysis.TextEdit{lineEdit(pass, stmt.Pos(), stmt.End())}
	for pn := range names {
		if usedOutside(pass.TypesInfo, file, pn, stmt) {
			continue
		}
		spec, decl := importOf(pass.TypesInfo, file, pn)
		if spec == nil {
			return nil
		}
		if decl.Lparen.IsValid() && len(decl.Specs) > 1 {
			edits = append(edits, lineEdit(pass, spec.Pos(), spec.End()))
		} else {
			edits = append(edits, lineEdit(pass, decl.Pos(), decl.End()))
		}
	}
	return edits
}

// restores reports whether arg is a previous GOMAXPROCS value: a call to
// runtime.GOMAXPROCS itself, as in defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)),
// or a variable the enclosing function sets from such a call.
func restores(info *types.Info, cur inspector.Cursor, arg ast.Expr) bool {
	if c, ok := arg.(*ast.CallExpr); ok {
		return callee.Is(info, c, "runtime", "GOMAXPROCS")
	}
	id, ok := arg.(*ast.Ident)
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
	}
	if fn == nil {
		return false
	}
	found := false
	ast.Inspect(fn, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || found || len(as.Lhs) != len(as.Rhs) {
			return !found
		}
		for i, l := range as.Lhs {
			lid, ok := l.(*ast.Ident)
			if !ok || (info.Defs[lid] != v && info.Uses[lid] != v) {
				continue
			}
			if c, ok := ast.Unparen(as.Rhs[i]).(*ast.CallExpr); ok && callee.Is(info, c, "runtime", "GOMAXPROCS") {
				found = true
			}
		}
		return true
	})
	return found
}

func usedOutside(info *types.Info, file *ast.File, pn *types.PkgName, stmt ast.Node) bool {
	used := false
	ast.Inspect(file, func(n ast.Node) bool {
		if used || n == stmt {
			return false
		}
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == pn {
			used = true
		}
		return true
	})
	return used
}

func importOf(info *types.Info, file *ast.File, pn *types.PkgName) (*ast.ImportSpec, *ast.GenDecl) {
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, s := range gd.Specs {
			if spec := s.(*ast.ImportSpec); info.PkgNameOf(spec) == pn {
				return spec, gd
			}
		}
	}
	return nil, nil
}

// lineEdit deletes [pos, end), widened to whole lines when nothing but blanks
// and a trailing line comment share them, so no empty line is left behind.
func lineEdit(pass *analysis.Pass, pos, end token.Pos) analysis.TextEdit {
	tf := pass.Fset.File(pos)
	src, err := pass.ReadFile(tf.Name())
	if err != nil {
		return analysis.TextEdit{Pos: pos, End: end}
	}
	start, stop := tf.Offset(pos), tf.Offset(end)
	ls := tf.Offset(tf.LineStart(tf.Line(pos)))
	le := len(src)
	if i := strings.IndexByte(string(src[stop:]), '\n'); i >= 0 {
		le = stop + i + 1
	}
	rest := strings.TrimSpace(string(src[stop:le]))
	if strings.TrimSpace(string(src[ls:start])) != "" || (rest != "" && !strings.HasPrefix(rest, "//")) {
		return analysis.TextEdit{Pos: pos, End: end}
	}
	return analysis.TextEdit{Pos: tf.Pos(ls), End: tf.Pos(le)}
}
