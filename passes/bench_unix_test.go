//go:build unix

package passes_test

import (
	"syscall"
	"testing"
	"time"

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
	cpu0 := cpuTime()
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
	cpu := cpuTime() - cpu0
	// Wall time per package, and CPU time per package, which a busy shared
	// machine inflates less.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkgs)), "ns/pkg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(len(pkgs)), "cpu-ns/pkg")
	b.ReportMetric(float64(len(pkgs)), "pkgs")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
