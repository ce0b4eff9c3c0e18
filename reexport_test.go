package vitals

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestEveryStartupOptionReExported: each exported startup function that
// returns an Option has a root wrapper of the same name returning a
// SetupOption, so that Start accepts it too.
func TestEveryStartupOptionReExported(t *testing.T) {
	startupOpts := optionFuncs(t, "startup", "Option")
	rootOpts := optionFuncs(t, ".", "SetupOption")
	if len(startupOpts) < 10 {
		t.Fatalf("found only %d startup options: the parse is wrong", len(startupOpts))
	}
	if !reflect.DeepEqual(startupOpts, rootOpts) {
		t.Errorf("startup options %v\nroot SetupOptions %v", startupOpts, rootOpts)
	}
}

func optionFuncs(t *testing.T, dir, result string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fd.Type.Results.List[0].Type.(*ast.Ident); ok && id.Name == result {
				out[fd.Name.Name] = true
			}
		}
	}
	return out
}
