// Package promexport publishes a [metrics.Sampler] to Prometheus: every Go
// runtime metric under the names client_golang's Go collector uses, the
// go_memstats_* compatibility set computed from runtime/metrics, and vitals'
// own cgroup, settings, checklist and leak-watchdog metrics.
//
// A [Collector] replaces collectors.NewGoCollector: do not register both on
// one registry (it rejects the repeated names). An application registry that
// already holds client_golang's Go or process collector is served next to a
// Collector with [Merge], the Collector first: each go_* family is then
// served once, from the Collector. A Collector registers on any
// [prometheus.Registerer]. It also is
// a [prometheus.Gatherer] of its own, which skips the registry's per-metric
// bookkeeping (about seven allocations per metric family, whatever the
// collector): serve it with the application's registry through [Merge] for
// the cheapest scrape.
//
// # Cost
//
// A scrape inside the sampler's minimum interval (default one second) reuses
// the last read and the protobufs built from it: no runtime read and no
// allocation in the collector. A scrape after it reads once (see package
// metrics) and builds the protobufs for all metrics with about twenty
// allocations in total. No scrape stops the world: nothing here calls
// runtime.ReadMemStats or debug.ReadGCStats.
//
// # Runtime metrics
//
// Each runtime/metrics name maps to go_<path>_<unit>, with "_total" on
// cumulative scalars (go_sched_latencies_seconds, go_gc_heap_goal_bytes,
// go_cpu_classes_gc_total_cpu_seconds_total, ...). Histograms become
// Prometheus histograms with the buckets client_golang uses: byte sizes merged
// to powers of two, durations to powers of ten up to one second with the rest
// in +Inf. Their sums are exact for the allocation and free size histograms
// and bucket-midpoint estimates for the others. go_goroutines, go_threads,
// go_info, go_gc_duration_seconds (estimated from the GC pause histogram) and
// go_memstats_last_gc_time_seconds (resolution: one sampling interval) keep
// client_golang's names too. go_goroutines counts as client_golang's does
// (runtime.NumGoroutine: the runtime's own system goroutines left out, the
// count a goroutine dump shows); go_sched_goroutines_goroutines, from
// /sched/goroutines:goroutines, includes them.
//
// # vitals metrics
//
//   - vitals_cgroup_cpu_limit_cores: CPU limit in cores; 0 = unlimited.
//   - vitals_cgroup_cpu_periods_total: CFS periods elapsed.
//   - vitals_cgroup_cpu_throttled_periods_total: CFS periods throttled.
//   - vitals_cgroup_cpu_throttled_seconds_total: time throttled.
//   - vitals_cgroup_memory_limit_bytes: hard memory limit; 0 = unlimited.
//   - vitals_cgroup_memory_high_bytes: memory.high; 0 = unset.
//   - vitals_cgroup_memory_usage_bytes: memory charged to the cgroup.
//   - vitals_gomaxprocs{source}: GOMAXPROCS and where it came from.
//   - vitals_gomemlimit_bytes{source}: GOMEMLIMIT and where it came from.
//   - vitals_checklist_ok{item}: 1 when a start-up checklist item is in line.
//   - vitals_goroutine_leak_suspected: 1 while the leak watchdog suspects a leak.
//   - vitals_goroutine_leak_baseline_goroutines, vitals_goroutine_leak_goroutines:
//     the watchdog's steady-state and last goroutine counts, which include
//     the runtime's system goroutines (/sched/goroutines:goroutines).
//   - vitals_goroutine_leak_reports_total: leak reports made.
//
// The cgroup metrics are absent when the cgroup cannot be read; the checklist
// and watchdog metrics are absent without the matching [metrics.WithChecks]
// and [metrics.WithWatchdog] hooks. deploy/prometheus/vitals-rules.yml holds
// alerting rules over them.
package promexport

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/govitals/vitals/metrics"
)

// Option configures [New].
type Option interface{ apply(*config) }

type config struct {
	sampler  *metrics.Sampler
	memStats bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSampler publishes s instead of a sampler of the collector's own, so
// that Prometheus and OpenTelemetry exporters share one read. The collector
// does not close a sampler it was given.
func WithSampler(s *metrics.Sampler) Option {
	return optionFunc(func(c *config) { c.sampler = s })
}

// WithMemStats includes (the default) or leaves out the 21 go_memstats_*
// compatibility gauges and counters.
func WithMemStats(on bool) Option {
	return optionFunc(func(c *config) { c.memStats = on })
}

// Collector is a [prometheus.Collector] and a [prometheus.Gatherer] over a
// [metrics.Sampler]. It is safe for concurrent use.
type Collector struct {
	s     *metrics.Sampler
	owned bool
	fams  []*family // sorted by name

	mu    sync.Mutex
	b     builder
	frame *frame
}

var (
	_ prometheus.Collector = (*Collector)(nil)
	_ prometheus.Gatherer  = (*Collector)(nil)
)

// New builds a Collector: its descriptors and bucket layouts are computed
// here, once. Without [WithSampler] it creates a sampler with the default
// minimum interval of one second; [Collector.Close] closes that one.
func New(opts ...Option) (*Collector, error) {
	cfg := config{memStats: true}
	for _, o := range opts {
		o.apply(&cfg)
	}
	c := &Collector{s: cfg.sampler}
	if c.s == nil {
		s, err := metrics.New()
		if err != nil {
			return nil, fmt.Errorf("promexport: %w", err)
		}
		c.s, c.owned = s, true
	}
	fams, err := runtimeFamilies(c.s)
	if err != nil {
		c.Close()
		return nil, err
	}
	fams = append(fams, baseFamilies(c.s)...)
	if cfg.memStats {
		fams = append(fams, memStatFamilies(c.s)...)
	}
	fams = append(fams, vitalsFamilies()...)
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(fams); i++ {
		if fams[i].name == fams[i-1].name {
			c.Close()
			return nil, fmt.Errorf("promexport: two metrics named %s", fams[i].name)
		}
	}
	c.fams = fams
	return c, nil
}

// Close closes the sampler the collector created; idempotent. A sampler
// passed with [WithSampler] is left open.
func (c *Collector) Close() error {
	if c.owned {
		return c.s.Close()
	}
	return nil
}

// Describe sends the descriptor of every metric the collector can emit.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.fams {
		ch <- f.desc
	}
}

// Collect sends the metrics of the current frame. Cost: see the package
// documentation; the metrics sent share immutable protobufs, so Write does
// not allocate.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	fr := c.current()
	for i := range fr.metrics {
		ch <- &fr.metrics[i]
	}
}

// Gather returns the collector's metric families, sorted by name, without
// going through a registry: two allocations per call, plus two for the
// first Gather of a new read. The families share the frame's immutable protobufs; callers must
// not modify them.
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	fr := c.current()
	c.mu.Lock()
	ptrs := fr.metricPtrs()
	c.mu.Unlock()
	mfs := make([]dto.MetricFamily, len(fr.fams))
	out := make([]*dto.MetricFamily, len(fr.fams))
	start := 0
	for k, fi := range fr.fams {
		f := c.fams[fi]
		end := fr.runs[k]
		mf := &mfs[k]
		mf.Name, mf.Help, mf.Type = &f.name, &f.help, &f.typ
		mf.Metric = ptrs[start:end:end]
		out[k] = mf
		start = end
	}
	return out, nil
}

// current returns the frame for the sampler's current read, building it when
// the sampler has read since the last one.
// A panic while building (a bug) is recovered: the scrape then serves the
// previous frame, or nothing, and the service stays up.
func (c *Collector) current() *frame {
	var fr *frame
	c.s.View(func(sn *metrics.Snapshot) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.frame == nil || c.frame.gen != sn.Generation {
			if nf := c.buildSafe(sn); nf != nil {
				c.frame = nf
			}
		}
		fr = c.frame
	})
	if fr == nil {
		return &frame{}
	}
	return fr
}

func (c *Collector) buildSafe(sn *metrics.Snapshot) (fr *frame) {
	defer func() {
		if recover() != nil {
			fr = nil
		}
	}()
	c.b.collect(c.fams, sn)
	return c.b.build(c.fams, sn.Generation)
}
