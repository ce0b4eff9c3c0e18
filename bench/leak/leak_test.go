// Package leak_test compares vitals' leak check with go.uber.org/goleak
// v1.3.0 in one run:
//
//	cd bench && go test -run '^$' -bench . -benchtime 1x ./leak
//
// For stable numbers use -benchtime 20x -count 6 and benchstat.
package leak_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/govitals/vitals/leak"
	"go.uber.org/goleak"
)

const background = 1000

// cpuTime is the process's user+system CPU time. Reported per op next to
// wall time: on a shared, loaded machine it is the steadier number.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times and reports CPU ms per op as well.
func loop(b *testing.B, f func()) {
	start := cpuTime()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// parkBackground starts n goroutines parked in parked until the benchmark
// ends.
func parkBackground(b *testing.B, n int) {
	stop := make(chan struct{})
	for range n {
		go parked(stop)
	}
	b.Cleanup(func() { close(stop) })
}

//go:noinline
func parked(stop chan struct{}) { <-stop }

const parkedFunc = "github.com/govitals/vitals/bench/leak_test.parked"

// BenchmarkCleanCheck: a passing check with 1,000 goroutines that the
// options ignore. Goal: vitals no slower than goleak.
func BenchmarkCleanCheck(b *testing.B) {
	parkBackground(b, background)
	b.Run("ignore-current/vitals", func(b *testing.B) {
		opt := leak.IgnoreCurrent()
		loop(b, func() {
			if err := leak.Find(opt); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ignore-current/goleak", func(b *testing.B) {
		opt := goleak.IgnoreCurrent()
		loop(b, func() {
			if err := goleak.Find(opt); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ignore-top-function/vitals", func(b *testing.B) {
		opt := leak.IgnoreTopFunction(parkedFunc)
		loop(b, func() {
			if err := leak.Find(opt); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ignore-top-function/goleak", func(b *testing.B) {
		opt := []goleak.Option{goleak.IgnoreTopFunction(parkedFunc), goleak.IgnoreTopFunction("testing.(*B).run1")}
		loop(b, func() {
			if err := goleak.Find(opt...); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkFindOneLeak: a failing check, default options, one leaked
// goroutine. Goal: vitals at most half of goleak's ~0.45 s.
func BenchmarkFindOneLeak(b *testing.B) {
	stop := make(chan struct{})
	go parked(stop)
	defer close(stop)
	b.Run("vitals", func(b *testing.B) {
		loop(b, func() {
			if err := leak.Find(); err == nil {
				b.Fatal("leak not found")
			}
		})
	})
	b.Run("goleak", func(b *testing.B) {
		loop(b, func() {
			if err := goleak.Find(); err == nil {
				b.Fatal("leak not found")
			}
		})
	})
}
