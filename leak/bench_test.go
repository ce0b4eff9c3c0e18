package leak

import (
	"fmt"
	"math"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/stacks"
)

// BenchmarkWatchdogSample is the watchdog's cost per sample at default
// settings in steady state (no dump): one runtime/metrics read plus the
// window bookkeeping. cpu-fraction is that cost over the 10 s interval.
func BenchmarkWatchdogSample(b *testing.B) {
	w, err := NewWatchdog(withDump(func() (*stacks.Dump, error) { return &stacks.Dump{}, nil }))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	// Past warm-up, baseline learned.
	for range int(DefaultWarmUp/DefaultSampleEvery) + DefaultWindowSamples {
		w.tick(now)
		now = now.Add(DefaultSampleEvery)
	}
	start := time.Now()
	for b.Loop() {
		w.tick(now)
		now = now.Add(DefaultSampleEvery)
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(per/DefaultSampleEvery.Seconds()*100, "%cpu@10s")
}

// BenchmarkTrackClose is the cost of registering one object.
func BenchmarkTrackClose(b *testing.B) {
	type obj struct{ done func() }
	for b.Loop() {
		o := &obj{}
		o.done = TrackClose(o, "obj")
		o.done()
	}
}

// maxPause returns the largest bucket (upper bound, seconds) of a
// /sched/pauses histogram that gained counts between before and after.
func maxPause(before, after *metrics.Float64Histogram) float64 {
	top := 0.0
	for i := range after.Counts {
		if after.Counts[i] > before.Counts[i] {
			top = after.Buckets[i+1]
		}
	}
	if math.IsInf(top, 1) {
		return after.Buckets[len(after.Buckets)-2]
	}
	return top
}

// BenchmarkSnapshotPause measures the longest non-GC stop-the-world pause
// (/sched/pauses/total/other:seconds, a bucket's upper bound) while the
// watchdog's snapshot (the debug=1 goroutine profile, parsed and grouped)
// and, for comparison, a full dump (runtime.Stack of every goroutine) are
// taken with 1k/10k/100k parked goroutines. The pause includes waiting for
// every thread to stop: on a loaded machine run it with -cpu 1 to see the
// runtime's own work.
func BenchmarkSnapshotPause(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		stop := parkForBench(n)
		for _, kind := range []string{"profile", "full"} {
			take := profileDump
			if kind == "full" {
				take = fullDump
			}
			b.Run(kind+"/"+fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
				s := []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}
				worst := 0.0
				for b.Loop() {
					metrics.Read(s)
					before := s[0].Value.Float64Histogram()
					before = &metrics.Float64Histogram{Counts: append([]uint64(nil), before.Counts...), Buckets: before.Buckets}
					d, err := take()
					metrics.Read(s)
					if err != nil {
						b.Fatal(err)
					}
					if len(d.Goroutines) == 0 {
						b.Fatal("empty snapshot")
					}
					worst = max(worst, maxPause(before, s[0].Value.Float64Histogram()))
				}
				b.ReportMetric(worst*1e6, "max-pause-µs")
			})
		}
		stop()
	}
}

// parkForBench starts n goroutines parked until the returned func is
// called.
func parkForBench(n int) (stop func()) {
	ch := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		go func() { started.Done(); <-ch }()
	}
	started.Wait()
	return func() { close(ch) }
}
