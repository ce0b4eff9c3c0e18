//go:build linux

// Package setup compares the start-up cost of vitals.Setup with the two
// libraries it replaces, go.uber.org/automaxprocs (maxprocs.Set) and
// github.com/KimMachineGun/automemlimit (memlimit.Set), on the same machine
// in one run. Every iteration undoes what it changed, so each one starts
// from the same process state.
//
//	cd bench && go test -run '^$' -bench . -count 10 ./setup | tee /tmp/setup.txt
//	benchstat -col /name /tmp/setup.txt  # or: benchstat /tmp/setup.txt
package setup

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/govitals/vitals"
	"go.uber.org/automaxprocs/maxprocs"
)

// BenchmarkSetup is vitals.Setup with its defaults (GOMAXPROCS,
// GOMEMLIMIT, GOTRACEBACK) followed by Report.Undo.
func BenchmarkSetup(b *testing.B) {
	procs, mem := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	b.ReportAllocs()
	defer cpuTime(b)()
	for b.Loop() {
		r, err := vitals.Setup()
		if err != nil {
			b.Fatal(err)
		}
		r.Undo()
	}
	check(b, procs, mem)
}

// BenchmarkAutomaxprocsPlusAutomemlimit is what a service does without
// vitals: maxprocs.Set, then memlimit.Set with its defaults (90% of the
// cgroup limit), each undone afterwards.
func BenchmarkAutomaxprocsPlusAutomemlimit(b *testing.B) {
	procs, mem := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ReportAllocs()
	defer cpuTime(b)()
	for b.Loop() {
		undo, err := maxprocs.Set(maxprocs.Logger(func(string, ...any) {}))
		if err != nil {
			b.Fatal(err)
		}
		prev := debug.SetMemoryLimit(-1)
		if _, err := memlimit.Set(memlimit.WithLogger(quiet)); err != nil {
			b.Fatal(err)
		}
		debug.SetMemoryLimit(prev)
		undo()
	}
	check(b, procs, mem)
}

// cpuTime reports the process's user+system CPU time per iteration as
// "cpu-ns/op". On a shared machine sec/op includes time spent waiting for a
// CPU; cpu-ns/op does not, so it compares the work done.
func cpuTime(b *testing.B) func() {
	start := rusage(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(rusage(b)-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func rusage(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func check(b *testing.B, procs int, mem int64) {
	b.Helper()
	if runtime.GOMAXPROCS(0) != procs || debug.SetMemoryLimit(-1) != mem {
		b.Errorf("the iterations did not undo their changes: GOMAXPROCS %d→%d, GOMEMLIMIT %d→%d",
			procs, runtime.GOMAXPROCS(0), mem, debug.SetMemoryLimit(-1))
	}
}
