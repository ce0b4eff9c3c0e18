package producer

import (
	"context"
	"math"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/govitals/vitals/metrics"
)

func TestScheduleDuration(t *testing.T) {
	s, err := metrics.New(metrics.WithMinInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	// Make the scheduler run some goroutines.
	done := make(chan struct{})
	for range 100 {
		go func() { done <- struct{}{} }()
	}
	for range 100 {
		<-done
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var h *metricdata.Histogram[float64]
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "go.schedule.duration" {
				d := m.Data.(metricdata.Histogram[float64])
				h = &d
				if m.Unit != "s" || sm.Scope.Name != ScopeName {
					t.Errorf("unit %q scope %q", m.Unit, sm.Scope.Name)
				}
			}
		}
	}
	if h == nil || len(h.DataPoints) != 1 {
		t.Fatalf("go.schedule.duration missing: %+v", rm)
	}
	dp := h.DataPoints[0]
	if h.Temporality != metricdata.CumulativeTemporality {
		t.Errorf("temporality %v, want cumulative", h.Temporality)
	}
	// The runtime samples scheduling latencies (about one event in eight).
	if dp.Count < 5 {
		t.Errorf("count %d after scheduling 100 goroutines", dp.Count)
	}
	var sum uint64
	for _, c := range dp.BucketCounts {
		sum += c
	}
	if sum != dp.Count || len(dp.BucketCounts) != len(dp.Bounds)+1 {
		t.Errorf("bucket counts %v sum to %d, count %d, %d bounds", dp.BucketCounts, sum, dp.Count, len(dp.Bounds))
	}
	for i := 1; i < len(dp.Bounds); i++ {
		if !(dp.Bounds[i] > dp.Bounds[i-1]) || dp.Bounds[i] > 1 {
			t.Errorf("bounds %v not increasing up to 1s", dp.Bounds)
		}
	}
	if !(dp.Sum > 0) || math.IsInf(dp.Sum, 0) {
		t.Errorf("sum %v", dp.Sum)
	}
}

func TestNewNil(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}
