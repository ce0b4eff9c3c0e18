package golangci_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/golangci/plugin-module-register/register"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/govitals/vitals/plugin/golangci"
)

func TestSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings any
		want     []string
		wantErr  bool
	}{
		{"nil", nil, []string{"finalizer", "gccall", "gcoff", "maxprocs", "memstatspoll", "pprofexpose", "stackbuf", "tracebound"}, false},
		{"disable", map[string]any{"disable": []any{"finalizer", "gccall"}}, []string{"gcoff", "maxprocs", "memstatspoll", "pprofexpose", "stackbuf", "tracebound"}, false},
		{"unknown analyzer", map[string]any{"disable": []any{"gcall"}}, nil, true},
		{"unknown field", map[string]any{"enable": []any{"gccall"}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newPlugin, err := register.GetPlugin(golangci.Name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newPlugin(tt.settings)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New: err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if p.GetLoadMode() != register.LoadModeTypesInfo {
				t.Errorf("load mode %q", p.GetLoadMode())
			}
			as, err := p.BuildAnalyzers()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				got = append(got, a.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("analyzers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAnalyzers runs what the plugin hands golangci-lint, all together as
// golangci-lint does, on a package with one finding for four of them.
func TestAnalyzers(t *testing.T) {
	p, err := golangci.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	as, _ := p.BuildAnalyzers()
	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.LoadAllSyntax,
		Dir:  filepath.Join("testdata", "mod"),
		Env:  append(os.Environ(), "GOWORK=off", "GOPROXY=off"),
	}, "./...")
	if err != nil || packages.PrintErrors(pkgs) > 0 {
		t.Fatalf("load testdata/mod: %v", err)
	}
	res, err := checker.Analyze(as, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, act := range res.Roots {
		if act.Err != nil {
			t.Errorf("%s: %v", act, act.Err)
		}
		for _, d := range act.Diagnostics {
			got[act.Analyzer.Name]++
			t.Logf("%s: %s: %s", act.Package.Fset.Position(d.Pos), act.Analyzer.Name, d.Message)
		}
	}
	want := map[string]int{"gccall": 1, "gcoff": 1, "maxprocs": 1, "memstatspoll": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings per analyzer (-want +got):\n%s", diff)
	}
}

func Example() {
	p, _ := golangci.New(map[string]any{"disable": []any{"finalizer"}})
	as, _ := p.BuildAnalyzers()
	fmt.Println(len(as), "analyzers,", p.GetLoadMode())
	// Output: 7 analyzers, typesinfo
}
