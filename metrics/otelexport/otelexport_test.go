package otelexport

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/metrics"
)

type point struct {
	value float64
	attrs attribute.Set
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{float64(dp.Value), dp.Attributes})
				}
			case metricdata.Sum[float64]:
				for _, dp := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{dp.Value, dp.Attributes})
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{float64(dp.Value), dp.Attributes})
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{float64(dp.Count), dp.Attributes})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func one(t *testing.T, got map[string][]point, name string) float64 {
	t.Helper()
	ps := got[name]
	if len(ps) != 1 {
		t.Fatalf("%s has %d points, want 1", name, len(ps))
	}
	return ps[0].value
}

// registered returns a manual reader of a meter provider on which Register
// (with a sampler of no minimum interval, and opts) made the instruments,
// the provider and the exporter; all are closed when the test ends.
func registered(t *testing.T, opts ...Option) (*sdkmetric.ManualReader, *sdkmetric.MeterProvider, *Exporter) {
	t.Helper()
	s, err := metrics.New(metrics.WithMinInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	e, err := Register(mp, append([]Option{WithSampler(s)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return reader, mp, e
}

func TestInstruments(t *testing.T) {
	reader, _, e := registered(t)

	var keep [][]byte
	for range 100 {
		keep = append(keep, make([]byte, 4096))
	}
	runtime.KeepAlive(keep)
	runtime.GC() // the runtime updates its CPU-class estimates at the end of a GC cycle
	got := collect(t, reader)

	if g := one(t, got, "go.processor.limit"); g != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("go.processor.limit = %v, want %d", g, runtime.GOMAXPROCS(0))
	}
	if g := one(t, got, "go.goroutine.count"); g < 1 {
		t.Errorf("go.goroutine.count = %v", g)
	}
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	if g := one(t, got, "go.config.gogc"); g != float64(gogc) {
		t.Errorf("go.config.gogc = %v, want %d", g, gogc)
	}
	if lim := debug.SetMemoryLimit(-1); lim == math.MaxInt64 {
		if _, ok := got["go.memory.limit"]; ok {
			t.Error("go.memory.limit reported without a limit")
		}
	} else if g := one(t, got, "go.memory.limit"); g != float64(lim) {
		t.Errorf("go.memory.limit = %v, want %d", g, lim)
	}
	if g := one(t, got, "go.memory.allocated"); g < 100*4096 {
		t.Errorf("go.memory.allocated = %v, want >= %d", g, 100*4096)
	}
	if g := one(t, got, "go.memory.allocations"); g < 100 {
		t.Errorf("go.memory.allocations = %v", g)
	}
	if g := one(t, got, "go.memory.gc.goal"); g < 1<<20 {
		t.Errorf("go.memory.gc.goal = %v", g)
	}
	types := map[string]float64{}
	for _, p := range got["go.memory.used"] {
		v, _ := p.attrs.Value("go.memory.type")
		types[v.AsString()] = p.value
	}
	if len(types) != 2 || types["stack"] <= 0 || types["other"] <= types["stack"] {
		t.Errorf("go.memory.used by type = %v, want stack and other, other larger", types)
	}
	classes := map[string]float64{}
	for _, p := range got["go.cpu.time"] {
		v, _ := p.attrs.Value("go.cpu.state")
		classes[v.AsString()] = p.value
	}
	if len(classes) != 4 || classes["user"] <= 0 {
		t.Errorf("go.cpu.time by class = %v, want user, gc, scavenge, idle with user > 0", classes)
	}

	// cgroup figures are what package cgroup reads on this machine.
	lim := cgroup.Read()
	if lim.Memory.Unknown == "" {
		if g := one(t, got, "vitals.cgroup.memory.limit"); g != float64(lim.Memory.Max) {
			t.Errorf("vitals.cgroup.memory.limit = %v, want %d", g, lim.Memory.Max)
		}
	}
	if lim.CPU.Unknown == "" {
		if g := one(t, got, "vitals.cgroup.cpu.limit"); g != lim.CPU.Quota {
			t.Errorf("vitals.cgroup.cpu.limit = %v, want %v", g, lim.CPU.Quota)
		}
	}
	if r, err := cgroup.NewStatReader(); err == nil {
		var st cgroup.Stats
		if r.Read(&st) == nil && st.HaveMemory {
			if g := one(t, got, "vitals.cgroup.memory.usage"); g <= 0 {
				t.Errorf("vitals.cgroup.memory.usage = %v", g)
			}
		}
		if st.HaveCPU {
			one(t, got, "vitals.cgroup.cpu.periods")
			one(t, got, "vitals.cgroup.cpu.throttled_periods")
			one(t, got, "vitals.cgroup.cpu.throttled_time")
		}
		r.Close()
	}

	// After Close nothing is observed any more.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := collect(t, reader); len(got) != 0 {
		t.Errorf("after Close: %d instruments still observed", len(got))
	}
}

func TestSharedReadWithinInterval(t *testing.T) {
	s, err := metrics.New(metrics.WithMinInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	e, err := Register(mp, WithSampler(s))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a := one(t, collect(t, reader), "go.memory.allocated")
	keep := make([]byte, 1<<20)
	runtime.KeepAlive(keep)
	if b := one(t, collect(t, reader), "go.memory.allocated"); b != a {
		t.Errorf("second collection inside the interval read again: %v then %v", a, b)
	}
}

func TestRegisterErrors(t *testing.T) {
	if _, err := Register(nil); err == nil {
		t.Error("Register(nil) succeeded")
	}
	e, err := Register(noop.NewMeterProvider())
	if err != nil {
		t.Fatalf("Register on a no-op provider: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
}
