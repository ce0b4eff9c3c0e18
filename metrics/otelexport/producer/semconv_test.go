package producer

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/semconv/v1.43.0/goconv"

	"github.com/govitals/vitals/metrics"
)

// TestSemconv: the histograms carry the semantic conventions' names, units
// and descriptions (semconv v1.43.0 goconv), on the running toolchain.
func TestSemconv(t *testing.T) {
	want := map[string][2]string{
		goconv.ScheduleDuration{}.Name():      {goconv.ScheduleDuration{}.Unit(), goconv.ScheduleDuration{}.Description()},
		goconv.MemoryGCPauseDuration{}.Name(): {goconv.MemoryGCPauseDuration{}.Unit(), goconv.MemoryGCPauseDuration{}.Description()},
	}
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
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = [2]string{m.Unit, m.Description}
			if _, ok := m.Data.(metricdata.Histogram[float64]); !ok {
				t.Errorf("%s is a %T, want a histogram", m.Name, m.Data)
			}
		}
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: unit, description %q, semconv has %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("produced %v, want %d histograms", got, len(want))
	}
}
