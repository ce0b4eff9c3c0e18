// Package metrics compares the cost of gathering the Go runtime metrics with
// vitals' promexport collector and with client_golang's Go collector, in one
// run, with the same runtime coverage (every runtime/metrics metric plus the
// go_memstats_* set).
package metrics

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

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
	cpu0 := processCPU(b)
	for b.Loop() {
		mfs, err := g.Gather()
		if err != nil || len(mfs) < 100 {
			b.Fatalf("gather: %d families, %v", len(mfs), err)
		}
	}
	// CPU time of the whole process (GC included) per gather: steadier than
	// wall time on a machine shared with other work.
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkGather gathers a registry holding only one Go collector:
// client_golang's with MetricsAll, or vitals'. "vitals_gatherer" is vitals'
// collector used as a Gatherer directly (no registry bookkeeping);
// "vitals_merge" serves it next to an (empty) application registry with
// promexport.Merge, "vitals_gatherers_merge" with prometheus.Gatherers.
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
	b.Run("vitals_merge", func(b *testing.B) {
		gatherLoop(b, promexport.Merge(prometheus.NewRegistry(), vitalsCollector(b)))
	})
	b.Run("vitals_gatherers_merge", func(b *testing.B) {
		gatherLoop(b, prometheus.Gatherers{prometheus.NewRegistry(), vitalsCollector(b)})
	})
	// With process_* too, as a service serves them: client_golang's Go and
	// process collectors in one registry, against vitals' /metrics as Start
	// composes it (promexport.Merge of the collector, a registry holding
	// client_golang's own process collector, and the application's
	// registry, here empty).
	b.Run("client_golang_go_process", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		gatherLoop(b, reg)
	})
	b.Run("vitals_start_process", func(b *testing.B) {
		proc := prometheus.NewRegistry()
		proc.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		gatherLoop(b, promexport.Merge(vitalsCollector(b), proc, prometheus.NewRegistry()))
	})
	// registry_floor is a registry holding a collector of as many free,
	// prebuilt gauges as vitals emits families: what Registry.Gather costs
	// by itself, whatever the collector.
	b.Run("registry_floor", func(b *testing.B) {
		mfs, err := vitalsCollector(b).Gather()
		if err != nil {
			b.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(newFreeGauges(len(mfs)))
		gatherLoop(b, reg)
	})
}

// freeGauges is a collector whose metrics cost nothing to write.
type freeGauges []freeGauge

type freeGauge struct {
	desc *prometheus.Desc
	v    dto.Gauge
}

func newFreeGauges(n int) freeGauges {
	g := make(freeGauges, n)
	for i := range g {
		one := 1.0
		g[i].desc = prometheus.NewDesc(fmt.Sprintf("free_gauge_%03d", i), "A gauge that costs nothing.", nil, nil)
		g[i].v.Value = &one
	}
	return g
}

func (g *freeGauge) Desc() *prometheus.Desc { return g.desc }

func (g *freeGauge) Write(m *dto.Metric) error { m.Gauge = &g.v; return nil }

func (g freeGauges) Describe(ch chan<- *prometheus.Desc) {
	for i := range g {
		ch <- g[i].desc
	}
}

func (g freeGauges) Collect(ch chan<- prometheus.Metric) {
	for i := range g {
		ch <- &g[i]
	}
}
