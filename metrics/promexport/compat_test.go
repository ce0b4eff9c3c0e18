package promexport

import (
	"math"
	rtm "runtime/metrics"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

func gatherMap(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	m := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		m[mf.GetName()] = mf
	}
	return m
}

// TestSameNamesAsClientGolang checks that every metric client_golang's Go
// collector emits with MetricsAll is emitted here under the same name, type
// and (for histograms) bucket bounds, so dashboards keep working.
func TestSameNamesAsClientGolang(t *testing.T) {
	theirs := prometheus.NewRegistry()
	theirs.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
	c := newTestCollector(t)
	ours := prometheus.NewPedanticRegistry()
	ours.MustRegister(c)

	tm, om := gatherMap(t, theirs), gatherMap(t, ours)
	if len(tm) < 100 {
		t.Fatalf("client_golang emitted only %d families: the comparison would prove little", len(tm))
	}
	for name, tf := range tm {
		of, ok := om[name]
		if !ok {
			t.Errorf("missing %s (%s)", name, tf.GetType())
			continue
		}
		if of.GetType() != tf.GetType() {
			t.Errorf("%s: type %s, client_golang has %s", name, of.GetType(), tf.GetType())
			continue
		}
		if tf.GetType() == dto.MetricType_HISTOGRAM {
			if diff := cmp.Diff(bounds(tf), bounds(of)); diff != "" {
				t.Errorf("%s: bucket bounds differ (-client_golang +ours):\n%s", name, diff)
			}
		}
	}
	for name := range om {
		if _, ok := tm[name]; !ok && !strings.HasPrefix(name, "vitals_") {
			t.Errorf("extra runtime metric %s that client_golang does not emit", name)
		}
	}
	// The memstats-like values are computed the same way: live gauges that
	// barely move between the two gathers must agree within 10%. A GC between
	// the two gathers can move them (gc_sys grows with the heap), so a pair
	// that disagrees is gathered again, a few times, before it counts.
	for _, name := range []string{"go_memstats_sys_bytes", "go_memstats_heap_sys_bytes", "go_memstats_stack_sys_bytes", "go_memstats_gc_sys_bytes"} {
		var tv, ov float64
		for attempt := 0; attempt < 10; attempt++ {
			if attempt > 0 {
				tm, om = gatherMap(t, theirs), gatherMap(t, ours)
			}
			tv, ov = tm[name].Metric[0].GetGauge().GetValue(), om[name].Metric[0].GetGauge().GetValue()
			if ov > 0 && math.Abs(tv-ov)/tv <= 0.10 {
				break
			}
		}
		if ov <= 0 || math.Abs(tv-ov)/tv > 0.10 {
			t.Errorf("%s = %v, client_golang says %v (10 gathers)", name, ov, tv)
		}
	}
}

func bounds(mf *dto.MetricFamily) []float64 {
	var b []float64
	for _, bk := range mf.Metric[0].GetHistogram().GetBucket() {
		b = append(b, bk.GetUpperBound())
	}
	return b
}

// TestEveryRuntimeMetricServed: every runtime/metrics metric of the running
// toolchain (Go 1.27 adds and drops /godebug/non-default-behavior/*
// counters, for one) is served under the name runtimeName gives it, as a
// counter, gauge or histogram matching its kind; none is dropped.
func TestEveryRuntimeMetricServed(t *testing.T) {
	got := gatherMap(t, newTestCollector(t))
	for _, d := range rtm.All() {
		name, _, ok := runtimeName(d)
		if !ok {
			t.Errorf("%s (kind %v) has no Prometheus name", d.Name, d.Kind)
			continue
		}
		mf, ok := got[name]
		if !ok {
			t.Errorf("%s not served (as %s)", d.Name, name)
			continue
		}
		want := dto.MetricType_GAUGE
		switch {
		case d.Kind == rtm.KindFloat64Histogram:
			want = dto.MetricType_HISTOGRAM
		case d.Cumulative:
			want = dto.MetricType_COUNTER
		}
		if mf.GetType() != want {
			t.Errorf("%s served as %s %s, want %s", d.Name, name, mf.GetType(), want)
		}
		if !strings.Contains(mf.GetHelp(), d.Name) {
			t.Errorf("%s: help %q does not name the runtime metric", name, mf.GetHelp())
		}
	}
}
