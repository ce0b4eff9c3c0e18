// Package producer emits the Go runtime histograms that OpenTelemetry's
// metric API cannot observe (it has no asynchronous histogram), as an SDK
// [go.opentelemetry.io/otel/sdk/metric.Producer]: go.schedule.duration from
// runtime/metrics /sched/latencies:seconds, with buckets merged to powers of
// ten up to one second.
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

// Producer produces go.schedule.duration from a [metrics.Sampler]. It is
// safe for concurrent use.
type Producer struct {
	s      *metrics.Sampler
	idx    int
	layout metrics.Layout
	start  time.Time
}

// New returns a Producer over s. Cost: one runtime/metrics read of the
// histogram's boundaries.
func New(s *metrics.Sampler) (*Producer, error) {
	if s == nil {
		return nil, errors.New("producer: nil sampler")
	}
	p := &Producer{s: s, idx: s.Index("/sched/latencies:seconds"), start: time.Now()}
	if p.idx < 0 {
		return nil, errors.New("producer: this Go has no /sched/latencies:seconds")
	}
	s.View(func(sn *metrics.Snapshot) {
		if h := sn.Histogram(p.idx); h != nil {
			p.layout = metrics.NewLayout(h.Buckets, metrics.MergeBuckets(h.Buckets, "seconds"))
		}
	})
	if p.layout.Fine == nil {
		return nil, errors.New("producer: /sched/latencies:seconds is not a histogram")
	}
	return p, nil
}

// Produce returns one cumulative histogram data point: counts are exact,
// the sum is a bucket-midpoint estimate. It reads through the sampler, so a
// collection inside its minimum interval costs no runtime read; it allocates
// the returned data.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	var dp metricdata.HistogramDataPoint[float64]
	ok := false
	p.s.View(func(sn *metrics.Snapshot) {
		h := sn.Histogram(p.idx)
		if h == nil || len(h.Counts) != len(p.layout.Fine) {
			return
		}
		ok = true
		dp.StartTime, dp.Time = p.start, sn.Time
		dp.Bounds = slices.Clone(p.layout.Upper)
		dp.BucketCounts = make([]uint64, len(p.layout.Upper)+1)
		for i, c := range h.Counts {
			if c == 0 {
				continue
			}
			dp.BucketCounts[p.layout.Fine[i]] += c
			dp.Count += c
			dp.Sum += float64(c) * metrics.Midpoint(h.Buckets[i], h.Buckets[i+1])
		}
		if math.IsNaN(dp.Sum) || math.IsInf(dp.Sum, 0) {
			dp.Sum = 0
		}
	})
	if !ok {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName},
		Metrics: []metricdata.Metrics{{
			Name:        "go.schedule.duration",
			Description: "The time goroutines have spent in the scheduler in a runnable state before actually running.",
			Unit:        "s",
			Data: metricdata.Histogram[float64]{
				Temporality: metricdata.CumulativeTemporality,
				DataPoints:  []metricdata.HistogramDataPoint[float64]{dp},
			},
		}},
	}}, nil
}
