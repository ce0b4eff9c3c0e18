package promexport

import (
	"math"
	"runtime"
	rtm "runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/metrics"
)

func hooks() []metrics.Option {
	return []metrics.Option{
		metrics.WithMinInterval(time.Hour),
		metrics.WithSettings(func() metrics.Settings {
			return metrics.Settings{
				GOMAXPROCS: runtime.GOMAXPROCS(0), GOMAXPROCSSource: "cgroup",
				GOMEMLIMIT: math.MaxInt64, GOMEMLIMITSource: "unset",
			}
		}),
		metrics.WithChecks(func() []metrics.Check {
			return []metrics.Check{
				{Name: "GOTRACEBACK", OK: false, Detail: "single"},
				{Name: "GOMAXPROCS", OK: true},
				{Name: "GOMAXPROCS", OK: false}, // duplicate: first wins
				{Name: ""},                      // nameless: dropped
			}
		}),
		metrics.WithWatchdog(func() metrics.WatchdogState {
			return metrics.WatchdogState{Baseline: 12, Goroutines: 40, Suspected: true, Reports: 3}
		}),
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return math.NaN()
}

func labelsOf(m *dto.Metric) string {
	var b []string
	for _, l := range m.GetLabel() {
		b = append(b, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(b, ",")
}

func TestVitalsMetrics(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 1 {
		t.Skip()
	}
	c := newTestCollector(t, hooks()...)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	m := gatherMap(t, reg)
	got := map[string]float64{}
	for name, mf := range m {
		if !strings.HasPrefix(name, "vitals_") {
			continue
		}
		for _, x := range mf.Metric {
			k := name
			if l := labelsOf(x); l != "" {
				k += "{" + l + "}"
			}
			got[k] = value(x)
		}
	}
	want := map[string]float64{
		"vitals_gomaxprocs{source=cgroup}":          float64(runtime.GOMAXPROCS(0)),
		"vitals_gomemlimit_bytes{source=unset}":     math.MaxInt64,
		"vitals_checklist_ok{item=GOMAXPROCS}":      1,
		"vitals_checklist_ok{item=GOTRACEBACK}":     0,
		"vitals_goroutine_leak_suspected":           1,
		"vitals_goroutine_leak_baseline_goroutines": 12,
		"vitals_goroutine_leak_goroutines":          40,
		"vitals_goroutine_leak_reports_total":       3,
	}
	// The cgroup figures are those package cgroup reads on this machine.
	lim := cgroup.Read()
	if lim.CPU.Unknown == "" {
		want["vitals_cgroup_cpu_limit_cores"] = lim.CPU.Quota
	}
	if lim.Memory.Unknown == "" {
		want["vitals_cgroup_memory_limit_bytes"] = float64(lim.Memory.Max)
		want["vitals_cgroup_memory_high_bytes"] = float64(lim.Memory.High)
	}
	if r, err := cgroup.NewStatReader(); err == nil {
		var st cgroup.Stats
		if r.Read(&st) == nil {
			if st.HaveCPU {
				want["vitals_cgroup_cpu_periods_total"] = float64(st.Periods)
				want["vitals_cgroup_cpu_throttled_periods_total"] = float64(st.ThrottledPeriods)
				want["vitals_cgroup_cpu_throttled_seconds_total"] = st.ThrottledTime.Seconds()
			}
			if st.HaveMemory {
				want["vitals_cgroup_memory_usage_bytes"] = float64(st.MemoryUsage)
			}
		}
		r.Close()
	}
	// Counters and usage move between our read and the collector's: compare
	// those loosely, the rest exactly.
	loose := map[string]bool{"vitals_cgroup_memory_usage_bytes": true, "vitals_cgroup_cpu_periods_total": true,
		"vitals_cgroup_cpu_throttled_periods_total": true, "vitals_cgroup_cpu_throttled_seconds_total": true}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s", k)
		case loose[k]:
			if g < 0 || w > 0 && math.Abs(g-w)/w > 0.5 {
				t.Errorf("%s = %v, cgroup reads %v", k, g, w)
			}
		case g != w:
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, got[k])
		}
	}
}

// TestGatherMatchesRegistry checks the collector's own Gatherer against the
// registry's view of the same frame.
func TestGatherMatchesRegistry(t *testing.T) {
	c := newTestCollector(t, hooks()...)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	viaReg, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	direct, err := c.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(text(t, viaReg), text(t, direct)); diff != "" {
		t.Errorf("Gather differs from the registry's (-registry +Gather):\n%s", diff)
	}
}

func text(t *testing.T, mfs []*dto.MetricFamily) string {
	t.Helper()
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestHistograms(t *testing.T) {
	c := newTestCollector(t, metrics.WithMinInterval(0))
	before := bucketHolding(t, gatherMap(t, c), 1000)
	// Allocate a known number of 1000-byte objects so the size histogram moves.
	var keep [][]byte
	for range 2000 {
		keep = append(keep, make([]byte, 1000))
	}
	runtime.KeepAlive(keep)
	m := gatherMap(t, c)
	// Allocation counts are flushed per span, so a few may lag behind.
	if d := bucketHolding(t, m, 1000) - before; d < 1800 || d > 2200 {
		t.Errorf("the bucket holding 1000-byte objects grew by %d after 2000 allocations", d)
	}
	// The allocation size histogram has an exact sum: the allocated bytes.
	allocs := m["go_gc_heap_allocs_by_size_bytes"].Metric[0].GetHistogram()
	total := m["go_gc_heap_allocs_bytes_total"].Metric[0].GetCounter().GetValue()
	if allocs.GetSampleSum() != total || allocs.GetSampleCount() < 1000 {
		t.Errorf("allocs-by-size sum = %v (count %d), want the allocs counter %v", allocs.GetSampleSum(), allocs.GetSampleCount(), total)
	}
	// Time histograms: the sum is an estimate, but positive when there are
	// observations.
	sl := m["go_sched_latencies_seconds"].Metric[0].GetHistogram()
	if sl.GetSampleCount() > 0 && !(sl.GetSampleSum() > 0) {
		t.Errorf("sched latencies: count %d but sum %v", sl.GetSampleCount(), sl.GetSampleSum())
	}
	gc := m["go_gc_duration_seconds"].Metric[0].GetSummary()
	runtime.GC()
	if len(gc.GetQuantile()) != 5 {
		t.Errorf("go_gc_duration_seconds has %d quantiles, want 5", len(gc.GetQuantile()))
	}
}

// bucketHolding returns the number of observations in the allocation size
// bucket that holds objects of the given size.
func bucketHolding(t *testing.T, m map[string]*dto.MetricFamily, size float64) uint64 {
	t.Helper()
	var prev uint64
	for _, b := range m["go_gc_heap_allocs_by_size_bytes"].Metric[0].GetHistogram().GetBucket() {
		if b.GetUpperBound() >= size {
			return b.GetCumulativeCount() - prev
		}
		prev = b.GetCumulativeCount()
	}
	t.Fatalf("no bucket holds %v", size)
	return 0
}

func TestQuantile(t *testing.T) {
	h := &rtm.Float64Histogram{Buckets: []float64{math.Inf(-1), 0, 1, 2, math.Inf(1)}, Counts: []uint64{0, 10, 10, 0}}
	tests := []struct{ q, want float64 }{{0, 0}, {0.25, 0.5}, {0.5, 1}, {0.75, 1.5}, {1, 2}}
	for _, tt := range tests {
		if got := quantile(h, 20, tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if quantile(h, 0, 0.5) != 0 {
		t.Error("quantile of an empty histogram is not 0")
	}
}

func TestSharedFrameDoesNotAllocate(t *testing.T) {
	c := newTestCollector(t) // one-second interval
	if _, err := c.Gather(); err != nil {
		t.Fatal(err)
	}
	// Collect through a channel: the prebuilt metrics are sent as they are.
	ch := make(chan prometheus.Metric, 1000)
	n := testing.AllocsPerRun(20, func() {
		c.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	})
	if n > 0.5 { // a refresh may land inside the 20 runs
		t.Errorf("Collect inside the interval allocates %v times, want 0", n)
	}
	var out dto.Metric
	c.Collect(ch)
	pm := <-ch
	if a := testing.AllocsPerRun(100, func() { _ = pm.Write(&out) }); a != 0 {
		t.Errorf("Write allocates %v times, want 0", a)
	}
}

func TestWithoutMemStats(t *testing.T) {
	s, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := New(WithSampler(s), WithMemStats(false))
	if err != nil {
		t.Fatal(err)
	}
	for name := range gatherMap(t, c) {
		if strings.HasPrefix(name, "go_memstats_") && name != "go_memstats_last_gc_time_seconds" {
			t.Errorf("memstats metric %s with WithMemStats(false)", name)
		}
	}
	if n := testutil.CollectAndCount(c, "go_memstats_alloc_bytes"); n != 0 {
		t.Errorf("go_memstats_alloc_bytes collected %d times", n)
	}
}

func TestOwnSampler(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "go_goroutines"); n != 1 {
		t.Errorf("go_goroutines collected %d times, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRuntimeName(t *testing.T) {
	tests := []struct {
		d    rtm.Description
		name string
		unit string
		ok   bool
	}{
		{rtm.Description{Name: "/sched/latencies:seconds", Kind: rtm.KindFloat64Histogram, Cumulative: true}, "go_sched_latencies_seconds", "seconds", true},
		{rtm.Description{Name: "/gc/heap/goal:bytes", Kind: rtm.KindUint64}, "go_gc_heap_goal_bytes", "bytes", true},
		{rtm.Description{Name: "/cpu/classes/gc/mark/assist:cpu-seconds", Kind: rtm.KindFloat64, Cumulative: true}, "go_cpu_classes_gc_mark_assist_cpu_seconds_total", "cpu_seconds", true},
		{rtm.Description{Name: "/godebug/non-default-behavior/x509sha1:events", Kind: rtm.KindUint64, Cumulative: true}, "go_godebug_non_default_behavior_x509sha1_events_total", "events", true},
		{rtm.Description{Name: "/a/b:bytes/op", Kind: rtm.KindUint64}, "go_a_b_bytes_per_op", "bytes_per_op", true},
		{rtm.Description{Name: "/flat:bytes", Kind: rtm.KindUint64}, "", "", false},
		{rtm.Description{Name: "/x/y:bytes", Kind: rtm.KindBad}, "", "", false},
		{rtm.Description{Name: "/x/é:bytes", Kind: rtm.KindUint64}, "", "", false},
		{rtm.Description{Name: "nocolon", Kind: rtm.KindUint64}, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.d.Name, func(t *testing.T) {
			name, unit, ok := runtimeName(tt.d)
			if ok != tt.ok || ok && (name != tt.name || unit != tt.unit) {
				t.Errorf("runtimeName = %q, %q, %v; want %q, %q, %v", name, unit, ok, tt.name, tt.unit, tt.ok)
			}
		})
	}
}
