package passes_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/govitals/vitals/passes"
)

// BenchmarkStd runs every analyzer over the standard library (without test
// files), loaded once from source outside the timer, and reports the
// analysis time per package. Loading std takes tens of seconds and about
// 2 GB: run it on purpose,
//
//	go test -run '^$' -bench Std -benchtime 3x ./passes/
func BenchmarkStd(b *testing.B) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.LoadAllSyntax}, "std")
	if err != nil {
		b.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		b.Fatalf("%d errors loading std", n)
	}
	for b.Loop() {
		res, err := checker.Analyze(passes.All(), pkgs, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, act := range res.Roots {
			if act.Err != nil {
				b.Fatalf("%s: %v", act, act.Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkgs)), "ns/pkg")
	b.ReportMetric(float64(len(pkgs)), "pkgs")
}
