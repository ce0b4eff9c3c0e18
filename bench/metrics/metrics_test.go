// Package metrics compares the cost of gathering the Go runtime metrics with
// vitals' promexport collector and with client_golang's Go collector, in one
// run, with the same runtime coverage (every runtime/metrics metric plus the
// go_memstats_* set).
package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	vmetrics "github.com/govitals/vitals/metrics"
	"github.com/govitals/vitals/metrics/promexport"
)

// vitalsCollector reads the runtime on every gather (minimum interval 0), so
// that both sides do the same work per gather.
func vitalsCollector(b *testing.B) *promexport.Collector {
	s, err := vmetrics.New(vmetrics.WithMinInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c, err := promexport.New(promexport.WithSampler(s))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func gatherLoop(b *testing.B, g prometheus.Gatherer) {
	b.Helper()
	if _, err := g.Gather(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := g.Gather()
		if err != nil || len(mfs) < 100 {
			b.Fatalf("gather: %d families, %v", len(mfs), err)
		}
	}
}

// BenchmarkGather gathers a registry holding only one Go collector:
// client_golang's with MetricsAll, or vitals'. "vitals_gatherer" is vitals'
// collector used as a Gatherer directly (no registry bookkeeping), as in
// prometheus.Gatherers{appRegistry, collector}.
func BenchmarkGather(b *testing.B) {
	b.Run("client_golang", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
		gatherLoop(b, reg)
	})
	b.Run("vitals_registry", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(vitalsCollector(b))
		gatherLoop(b, reg)
	})
	b.Run("vitals_gatherer", func(b *testing.B) {
		gatherLoop(b, vitalsCollector(b))
	})
	b.Run("vitals_gatherers_merge", func(b *testing.B) {
		gatherLoop(b, prometheus.Gatherers{prometheus.NewRegistry(), vitalsCollector(b)})
	})
}
