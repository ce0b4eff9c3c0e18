// Package leak_test compares vitals' leak check with go.uber.org/goleak
// v1.3.0 in one run:
//
//	cd bench && go test -run '^$' -bench . -benchtime 1x ./leak
//
// For stable numbers use -benchtime 20x -count 6 and benchstat.
package leak_test

import (
	"testing"

	"github.com/govitals/vitals/leak"
	"go.uber.org/goleak"
)

const background = 1000

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
		for b.Loop() {
			if err := leak.Find(opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ignore-current/goleak", func(b *testing.B) {
		opt := goleak.IgnoreCurrent()
		for b.Loop() {
			if err := goleak.Find(opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ignore-top-function/vitals", func(b *testing.B) {
		opt := leak.IgnoreTopFunction(parkedFunc)
		for b.Loop() {
			if err := leak.Find(opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ignore-top-function/goleak", func(b *testing.B) {
		opt := []goleak.Option{goleak.IgnoreTopFunction(parkedFunc), goleak.IgnoreTopFunction("testing.(*B).run1")}
		for b.Loop() {
			if err := goleak.Find(opt...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFindOneLeak: a failing check, default options, one leaked
// goroutine. Goal: vitals at most half of goleak's ~0.45 s.
func BenchmarkFindOneLeak(b *testing.B) {
	stop := make(chan struct{})
	go parked(stop)
	defer close(stop)
	b.Run("vitals", func(b *testing.B) {
		for b.Loop() {
			if err := leak.Find(); err == nil {
				b.Fatal("leak not found")
			}
		}
	})
	b.Run("goleak", func(b *testing.B) {
		for b.Loop() {
			if err := goleak.Find(); err == nil {
				b.Fatal("leak not found")
			}
		}
	})
}
