// Package producer emits the Go runtime histograms that OpenTelemetry's
// metric API cannot observe (it has no asynchronous histogram), as an SDK
// [go.opentelemetry.io/otel/sdk/metric.Producer]: go.schedule.duration from
// runtime/metrics /sched/latencies:seconds and go.memory.gc.pause.duration
// from /sched/pauses/total/gc:seconds, with buckets merged to powers of ten
// up to one second. Names, units and descriptions are those of the semantic
// conventions v1.43.0 (the goconv package); a test holds them to it.
//
// Install it on a reader:
//
//	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithProducer(p))
//
// It imports the OpenTelemetry SDK's metricdata package, which is why it is
// not part of [github.com/govitals/vitals/metrics/otelexport]: that one
// needs the metric API only.
package producer

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/govitals/vitals/metrics"
)

// ScopeName is the instrumentation scope of the produced metrics.
const ScopeName = "github.com/govitals/vitals/metrics/otelexport/producer"

// histograms are the runtime histograms produced, with their semantic
// conventions.
var histograms = []struct{ runtime, name, unit, desc string }{
	{"/sched/latencies:seconds", "go.schedule.duration", "s",
		"The time goroutines have spent in the scheduler in a runnable state before actually running."},
	{"/sched/pauses/total/gc:seconds", "go.memory.gc.pause.duration", "s",
		"Distribution of individual GC-related stop-the-world pause latencies. This is the time from deciding to stop the world until the world is started again."},
}

// Producer produces the histograms from a [metrics.Sampler]. It is safe
// for concurrent use.
type Producer struct {
	s     *metrics.Sampler
	hists []hist
	start time.Time
}

type hist struct {
	idx              int
	name, unit, desc string
	layout           metrics.Layout
}

// New returns a Producer over s. Cost: one runtime/metrics read of the
// histograms' boundaries. A histogram the running Go lacks is left out; it
// is an error only when none is there.
func New(s *metrics.Sampler) (*Producer, error) {
	if s == nil {
		return nil, errors.New("producer: nil sampler")
	}
	p := &Producer{s: s, start: time.Now()}
	s.View(func(sn *metrics.Snapshot) {
		for _, d := range histograms {
			i := s.Index(d.runtime)
			if h := sn.Histogram(i); i >= 0 && h != nil {
				p.hists = append(p.hists, hist{idx: i, name: d.name, unit: d.unit, desc: d.desc,
					layout: metrics.NewLayout(h.Buckets, metrics.MergeBuckets(h.Buckets, "seconds"))})
			}
		}
	})
	if len(p.hists) == 0 {
		return nil, errors.New("producer: this Go has neither /sched/latencies:seconds nor /sched/pauses/total/gc:seconds as a histogram")
	}
	return p, nil
}

// Produce returns one cumulative histogram data point per histogram: counts
// are exact, sums are bucket-midpoint estimates. It reads through the
// sampler, so a collection inside its minimum interval costs no runtime
// read; it allocates the returned data.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	var ms []metricdata.Metrics
	p.s.View(func(sn *metrics.Snapshot) {
		for _, hs := range p.hists {
			h := sn.Histogram(hs.idx)
			if h == nil || len(h.Counts) != len(hs.layout.Fine) {
				continue
			}
			var dp metricdata.HistogramDataPoint[float64]
			dp.StartTime, dp.Time = p.start, sn.Time
			dp.Bounds = slices.Clone(hs.layout.Upper)
			dp.BucketCounts = make([]uint64, len(hs.layout.Upper)+1)
			for i, c := range h.Counts {
				if c == 0 {
					continue
				}
				dp.BucketCounts[hs.layout.Fine[i]] += c
				dp.Count += c
				dp.Sum += float64(c) * metrics.Midpoint(h.Buckets[i], h.Buckets[i+1])
			}
			if math.IsNaN(dp.Sum) || math.IsInf(dp.Sum, 0) {
				dp.Sum = 0
			}
			ms = append(ms, metricdata.Metrics{
				Name: hs.name, Description: hs.desc, Unit: hs.unit,
				Data: metricdata.Histogram[float64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints:  []metricdata.HistogramDataPoint[float64]{dp},
				},
			})
		}
	})
	if len(ms) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{Scope: instrumentation.Scope{Name: ScopeName}, Metrics: ms}}, nil
}
