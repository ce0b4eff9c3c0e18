package leak

import (
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
