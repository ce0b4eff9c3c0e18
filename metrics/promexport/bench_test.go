package promexport

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/metrics"
)

// BenchmarkGather measures one gather that reads the runtime afresh (minimum
// interval 0), through a registry and through the collector's own Gatherer.
// The comparison with client_golang lives in the bench module
// (bench/metrics).
func BenchmarkGather(b *testing.B) {
	c := newTestCollector(b, metrics.WithMinInterval(0))
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	b.Run("registry", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reg.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gatherer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGatherShared is a scrape inside the minimum interval: it reuses the
// last read and frame.
func BenchmarkGatherShared(b *testing.B) {
	c := newTestCollector(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
