package promexport

import (
	"fmt"
	"runtime"
	rtm "runtime/metrics"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/govitals/vitals/metrics"
)

// source says where a family's values come from.
type source int

const (
	srcRuntime    source = iota // scalar runtime metric idx
	srcGoroutines               // go_goroutines: Snapshot.Goroutines
	srcRuntimeH                 // runtime histogram idx, exact sum from idx2 if >= 0
	srcMemStat                  // go_memstats_*: sum of runtime scalars terms
	srcGoInfo                   // go_info{version}
	srcGCDuration               // go_gc_duration_seconds summary
	srcLastGC                   // go_memstats_last_gc_time_seconds
	srcCPULimit
	srcMemLimit
	srcMemHigh
	srcMemUsage
	srcPeriods
	srcThrottled
	srcThrottledSecs
	srcGOMAXPROCS
	srcGOMEMLIMIT
	srcChecks
	srcLeakSuspected
	srcLeakBaseline
	srcLeakGoroutines
	srcLeakReports
)

// family is one metric name with everything needed to emit it, built once.
type family struct {
	name, help string
	typ        dto.MetricType
	desc       *prometheus.Desc
	labels     []string // label names, sorted; values come with each point
	src        source
	idx, idx2  int   // runtime sample indices
	terms      []int // srcMemStat: runtime sample indices summed
	hist       metrics.Layout
	fb         []float64 // fine bucket boundaries of a runtime histogram
}

func newFamily(name, help string, typ dto.MetricType, src source, labels ...string) *family {
	return &family{
		name: name, help: help, typ: typ, src: src, labels: labels, idx: -1, idx2: -1,
		desc: prometheus.NewDesc(name, help, labels, nil),
	}
}

var (
	gauge     = dto.MetricType_GAUGE
	counter   = dto.MetricType_COUNTER
	histogram = dto.MetricType_HISTOGRAM
	summary   = dto.MetricType_SUMMARY
)

// exactSums are runtime histograms whose exact sum is another runtime metric.
var exactSums = map[string]string{
	"/gc/heap/allocs-by-size:bytes": "/gc/heap/allocs:bytes",
	"/gc/heap/frees-by-size:bytes":  "/gc/heap/frees:bytes",
}

// runtimeFamilies covers every runtime metric the sampler reads, named as
// client_golang names them.
func runtimeFamilies(s *metrics.Sampler) ([]*family, error) {
	var fams []*family
	var hists []rtm.Sample
	for _, d := range s.Descriptions() {
		if d.Kind == rtm.KindFloat64Histogram {
			hists = append(hists, rtm.Sample{Name: d.Name})
		}
	}
	rtm.Read(hists) // boundaries are fixed for the life of the process
	bounds := map[string][]float64{}
	for _, h := range hists {
		if h.Value.Kind() == rtm.KindFloat64Histogram {
			bounds[h.Name] = h.Value.Float64Histogram().Buckets
		}
	}
	for _, d := range s.Descriptions() {
		name, unit, ok := runtimeName(d)
		if !ok {
			continue
		}
		help := fmt.Sprintf("%s (runtime/metrics %s)", d.Description, d.Name)
		switch {
		case d.Kind == rtm.KindFloat64Histogram:
			fb := bounds[d.Name]
			if len(fb) < 2 {
				continue
			}
			f := newFamily(name, help, histogram, srcRuntimeH)
			f.idx = s.Index(d.Name)
			if sum, ok := exactSums[d.Name]; ok {
				f.idx2 = s.Index(sum)
			}
			f.fb = slices.Clone(fb)
			f.hist = metrics.NewLayout(f.fb, metrics.MergeBuckets(f.fb, unit))
			fams = append(fams, f)
		case d.Cumulative:
			f := newFamily(name, help, counter, srcRuntime)
			f.idx = s.Index(d.Name)
			fams = append(fams, f)
		default:
			f := newFamily(name, help, gauge, srcRuntime)
			f.idx = s.Index(d.Name)
			fams = append(fams, f)
		}
	}
	return fams, nil
}

// baseFamilies are the five metrics client_golang's Go collector always
// emits, computed from runtime/metrics instead of debug.ReadGCStats.
func baseFamilies(s *metrics.Sampler) []*family {
	// client_golang's go_goroutines is runtime.NumGoroutine, which leaves
	// out the runtime's system goroutines; go_sched_goroutines_goroutines
	// (from /sched/goroutines:goroutines) counts them too.
	g := newFamily("go_goroutines", "Number of goroutines that currently exist, as runtime.NumGoroutine counts them: the runtime's own system goroutines excluded (go_sched_goroutines_goroutines includes them).", gauge, srcGoroutines)
	th := newFamily("go_threads", "Number of OS threads the runtime currently has (runtime/metrics /sched/threads/total:threads).", gauge, srcRuntime)
	th.idx = s.Index("/sched/threads/total:threads")
	gc := newFamily("go_gc_duration_seconds",
		"Stop-the-world pause durations of garbage collection. Estimated from the runtime/metrics histogram /sched/pauses/total/gc:seconds over the life of the process: count is the number of GC cycles, sum and quantiles are bucket estimates.",
		summary, srcGCDuration)
	gc.idx = s.Index("/sched/pauses/total/gc:seconds")
	if gc.idx < 0 {
		gc.idx = s.Index("/gc/pauses:seconds")
	}
	gc.idx2 = s.Index("/gc/cycles/total:gc-cycles")
	last := newFamily("go_memstats_last_gc_time_seconds",
		"Number of seconds since 1970 of the last garbage collection, as seen by the sampler: the time of the first read that observed the latest cycle (resolution: one sampling interval).",
		gauge, srcLastGC)
	last.idx = gc.idx2
	info := newFamily("go_info", "Information about the Go environment.", gauge, srcGoInfo, "version")
	var out []*family
	for _, f := range []*family{g, th, gc, last, info} {
		if f.src == srcGoInfo || f.src == srcGoroutines || f.idx >= 0 {
			out = append(out, f)
		}
	}
	return out
}

// memStatFamilies are client_golang's go_memstats_* compatibility set,
// computed from runtime/metrics the way client_golang derives them (each
// value is a sum of memory classes), without runtime.ReadMemStats.
func memStatFamilies(s *metrics.Sampler) []*family {
	const (
		tiny      = "/gc/heap/tiny/allocs:objects"
		objs      = "/memory/classes/heap/objects:bytes"
		unused    = "/memory/classes/heap/unused:bytes"
		released  = "/memory/classes/heap/released:bytes"
		free      = "/memory/classes/heap/free:bytes"
		stacks    = "/memory/classes/heap/stacks:bytes"
		osStacks  = "/memory/classes/os-stacks:bytes"
		spanInuse = "/memory/classes/metadata/mspan/inuse:bytes"
		spanFree  = "/memory/classes/metadata/mspan/free:bytes"
		mcInuse   = "/memory/classes/metadata/mcache/inuse:bytes"
		mcFree    = "/memory/classes/metadata/mcache/free:bytes"
	)
	defs := []struct {
		name  string
		typ   dto.MetricType
		help  string
		terms []string
	}{
		{"alloc_bytes", gauge, "Bytes of allocated heap objects (MemStats.Alloc).", []string{objs}},
		{"alloc_bytes_total", counter, "Cumulative bytes allocated for heap objects (MemStats.TotalAlloc).", []string{"/gc/heap/allocs:bytes"}},
		{"sys_bytes", gauge, "Total bytes of memory obtained from the OS (MemStats.Sys).", []string{"/memory/classes/total:bytes"}},
		{"mallocs_total", counter, "Cumulative count of heap objects allocated, tiny ones included (MemStats.Mallocs).", []string{"/gc/heap/allocs:objects", tiny}},
		{"frees_total", counter, "Cumulative count of heap objects freed, tiny ones included (MemStats.Frees).", []string{"/gc/heap/frees:objects", tiny}},
		{"heap_alloc_bytes", gauge, "Bytes of allocated heap objects (MemStats.HeapAlloc).", []string{objs}},
		{"heap_sys_bytes", gauge, "Bytes of heap memory obtained from the OS (MemStats.HeapSys).", []string{objs, unused, released, free}},
		{"heap_idle_bytes", gauge, "Bytes in idle (unused) heap spans (MemStats.HeapIdle).", []string{released, free}},
		{"heap_inuse_bytes", gauge, "Bytes in in-use heap spans (MemStats.HeapInuse).", []string{objs, unused}},
		{"heap_released_bytes", gauge, "Bytes of physical memory returned to the OS (MemStats.HeapReleased).", []string{released}},
		{"heap_objects", gauge, "Number of allocated heap objects (MemStats.HeapObjects).", []string{"/gc/heap/objects:objects"}},
		{"stack_inuse_bytes", gauge, "Bytes in stack spans (MemStats.StackInuse).", []string{stacks}},
		{"stack_sys_bytes", gauge, "Bytes of stack memory obtained from the OS (MemStats.StackSys).", []string{stacks, osStacks}},
		{"mspan_inuse_bytes", gauge, "Bytes of allocated mspan structures (MemStats.MSpanInuse).", []string{spanInuse}},
		{"mspan_sys_bytes", gauge, "Bytes of memory obtained from the OS for mspan structures (MemStats.MSpanSys).", []string{spanInuse, spanFree}},
		{"mcache_inuse_bytes", gauge, "Bytes of allocated mcache structures (MemStats.MCacheInuse).", []string{mcInuse}},
		{"mcache_sys_bytes", gauge, "Bytes of memory obtained from the OS for mcache structures (MemStats.MCacheSys).", []string{mcInuse, mcFree}},
		{"buck_hash_sys_bytes", gauge, "Bytes of memory in profiling bucket hash tables (MemStats.BuckHashSys).", []string{"/memory/classes/profiling/buckets:bytes"}},
		{"gc_sys_bytes", gauge, "Bytes of memory in garbage collection metadata (MemStats.GCSys).", []string{"/memory/classes/metadata/other:bytes"}},
		{"other_sys_bytes", gauge, "Bytes of memory in miscellaneous off-heap runtime allocations (MemStats.OtherSys).", []string{"/memory/classes/other:bytes"}},
		{"next_gc_bytes", gauge, "Target heap size of the next GC cycle (MemStats.NextGC).", []string{"/gc/heap/goal:bytes"}},
	}
	var out []*family
	for _, d := range defs {
		f := newFamily("go_memstats_"+d.name, d.help+" Computed from runtime/metrics.", d.typ, srcMemStat)
		for _, t := range d.terms {
			if i := s.Index(t); i >= 0 {
				f.terms = append(f.terms, i)
			}
		}
		out = append(out, f)
	}
	return out
}

// vitalsFamilies are vitals' own metrics. Each is documented in the package
// comment.
func vitalsFamilies() []*family {
	return []*family{
		newFamily("vitals_cgroup_cpu_limit_cores", "CPU limit of the process's cgroup in cores (CFS quota/period, the minimum over ancestors); 0 when unlimited, absent when unknown.", gauge, srcCPULimit),
		newFamily("vitals_cgroup_cpu_periods_total", "CFS enforcement periods elapsed in the process's cgroup (cpu.stat nr_periods).", counter, srcPeriods),
		newFamily("vitals_cgroup_cpu_throttled_periods_total", "CFS periods in which the process's cgroup was throttled (cpu.stat nr_throttled).", counter, srcThrottled),
		newFamily("vitals_cgroup_cpu_throttled_seconds_total", "Total time the process's cgroup was throttled (cpu.stat throttled_usec / throttled_time).", counter, srcThrottledSecs),
		newFamily("vitals_cgroup_memory_limit_bytes", "Hard memory limit of the process's cgroup (memory.max / memory.limit_in_bytes, the minimum over ancestors); 0 when unlimited, absent when unknown.", gauge, srcMemLimit),
		newFamily("vitals_cgroup_memory_high_bytes", "memory.high throttling threshold of the process's cgroup (cgroup v2); 0 when unset, absent when unknown.", gauge, srcMemHigh),
		newFamily("vitals_cgroup_memory_usage_bytes", "Memory charged to the process's cgroup (memory.current / memory.usage_in_bytes).", gauge, srcMemUsage),
		newFamily("vitals_gomaxprocs", "Current GOMAXPROCS; the source label says where the value came from (cgroup, env, runtime, ...).", gauge, srcGOMAXPROCS, "source"),
		newFamily("vitals_gomemlimit_bytes", "Current GOMEMLIMIT in bytes (9.223372036854776e+18 when unset); the source label says where the value came from.", gauge, srcGOMEMLIMIT, "source"),
		newFamily("vitals_checklist_ok", "One gauge per start-up checklist item: 1 when the setting is in line with the production checklist, 0 when it drifted.", gauge, srcChecks, "item"),
		newFamily("vitals_goroutine_leak_suspected", "1 while the goroutine leak watchdog suspects a leak, else 0.", gauge, srcLeakSuspected),
		newFamily("vitals_goroutine_leak_baseline_goroutines", "Goroutine count the leak watchdog considers steady state (it counts as /sched/goroutines:goroutines does: the runtime's system goroutines included, unlike go_goroutines).", gauge, srcLeakBaseline),
		newFamily("vitals_goroutine_leak_goroutines", "Goroutine count at the leak watchdog's last look (as /sched/goroutines:goroutines counts: the runtime's system goroutines included, unlike go_goroutines).", gauge, srcLeakGoroutines),
		newFamily("vitals_goroutine_leak_reports_total", "Leak reports the watchdog has made since start.", counter, srcLeakReports),
	}
}

// goVersion is go_info's label value.
var goVersion = runtime.Version()
