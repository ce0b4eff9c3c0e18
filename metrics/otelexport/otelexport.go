// Package otelexport publishes a [metrics.Sampler] to OpenTelemetry as
// observable instruments on any [metric.MeterProvider], following the Go
// runtime semantic conventions, plus the cgroup figures vitals reads. It
// imports the OpenTelemetry metric API only (no SDK, no Prometheus).
//
// # Instruments
//
// Semantic conventions (https://opentelemetry.io/docs/specs/semconv/runtime/go-metrics/):
//
//   - go.memory.used (By, go.memory.type = stack | other): memory mapped by
//     the Go runtime minus what it returned to the OS.
//   - go.memory.limit (By): GOMEMLIMIT; not reported while no limit is set.
//   - go.memory.allocated (By) and go.memory.allocations ({allocation}):
//     cumulative heap allocation.
//   - go.memory.gc.goal (By): heap size target of the current GC cycle.
//   - go.goroutine.count ({goroutine}), go.processor.limit ({thread}) and
//     go.config.gogc (%). go.goroutine.count is /sched/goroutines:goroutines,
//     as OpenTelemetry's contrib runtime package reads it: it includes the
//     runtime's own system goroutines, which Prometheus' go_goroutines and a
//     goroutine dump leave out.
//   - go.memory.gc.cycles ({gc_cycle}): completed GC cycles.
//   - go.cpu.time (s, go.cpu.state = user | gc | scavenge | idle): the
//     runtime's estimate of the CPU time its Ps spent in each state. The
//     runtime updates these estimates at the end of each GC cycle.
//
// go.schedule.duration and go.memory.gc.pause.duration are histograms, and
// the metric API has no observable histogram:
// [github.com/govitals/vitals/metrics/otelexport/producer] emits them
// through an SDK reader. Names, units, descriptions and attributes are
// those of semantic conventions v1.43.0 (the goconv package); a test holds
// them to it.
//
// vitals' own (absent when the cgroup cannot be read):
//
//   - vitals.cgroup.cpu.limit ({cpu}): CPU limit in cores; 0 = unlimited.
//   - vitals.cgroup.cpu.periods and vitals.cgroup.cpu.throttled_periods
//     ({period}), vitals.cgroup.cpu.throttled_time (s): CFS counters.
//   - vitals.cgroup.memory.limit, vitals.cgroup.memory.high (By): hard limit
//     and memory.high; 0 = none.
//   - vitals.cgroup.memory.usage (By): memory charged to the cgroup.
//   - vitals.incidents ({incident}, vitals.incident.trigger = memory | gc |
//     goroutines | cpu | latency | manual): incident bundles captured,
//     failed captures included, with [WithIncidents]; Prometheus' name for
//     it is vitals_incidents_total.
//
// # Cost
//
// One callback observes every instrument; it runs once per collection and
// reads through the sampler, so a collection inside the sampler's minimum
// interval costs no runtime read. The attribute sets are built once.
package otelexport

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/govitals/vitals/metrics"
)

// ScopeName is the instrumentation scope of the instruments.
const ScopeName = "github.com/govitals/vitals/metrics/otelexport"

// Option configures [Register].
type Option interface{ apply(*config) }

type config struct {
	sampler   *metrics.Sampler
	incidents Incidents
}

// Incidents is what [WithIncidents] observes: incident bundles captured so
// far, by trigger name. *incident.Monitor (vitals.Service.Incidents)
// implements it.
type Incidents interface {
	Counts() map[string]uint64
}

// WithIncidents adds vitals.incidents, observed from src at each
// collection (one small map a collection). A nil src, or a nil
// *incident.Monitor inside it, observes nothing.
func WithIncidents(src Incidents) Option {
	return optionFunc(func(c *config) { c.incidents = src })
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSampler observes s instead of a sampler of the exporter's own, so that
// several exporters share one read. The exporter does not close it.
func WithSampler(s *metrics.Sampler) Option {
	return optionFunc(func(c *config) { c.sampler = s })
}

// Exporter is the set of instruments [Register] created. Close unregisters
// them.
type Exporter struct {
	s     *metrics.Sampler
	owned bool
	reg   metric.Registration

	mu     sync.Mutex
	closed bool
}

type runtimeIdx struct {
	total, released, stacks, osStacks           int
	memlimit, allocBytes, allocObjs, goal, gors int
	procs, gogc, cycles                         int
	cpuUser, cpuGC, cpuScav, cpuIdle            int
}

var (
	attrStack    = metric.WithAttributeSet(attribute.NewSet(attribute.String("go.memory.type", "stack")))
	attrOther    = metric.WithAttributeSet(attribute.NewSet(attribute.String("go.memory.type", "other")))
	cpuStateAttr = func(c string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("go.cpu.state", c)))
	}
	attrUser, attrGC, attrScav, attrIdle = cpuStateAttr("user"), cpuStateAttr("gc"), cpuStateAttr("scavenge"), cpuStateAttr("idle")
)

// Register creates the instruments on a meter of mp named [ScopeName] and
// registers one callback observing them all. Without [WithSampler] it
// creates a sampler with the default one-second minimum interval.
func Register(mp metric.MeterProvider, opts ...Option) (*Exporter, error) {
	if mp == nil {
		return nil, errors.New("otelexport: nil MeterProvider")
	}
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	e := &Exporter{s: cfg.sampler}
	if e.s == nil {
		s, err := metrics.New()
		if err != nil {
			return nil, fmt.Errorf("otelexport: %w", err)
		}
		e.s, e.owned = s, true
	}
	m := mp.Meter(ScopeName)
	var errs []error
	i64 := func(make func(string, ...metric.Int64ObservableUpDownCounterOption) (metric.Int64ObservableUpDownCounter, error), name, unit, desc string) metric.Int64ObservableUpDownCounter {
		inst, err := make(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return inst
	}
	upDown := m.Int64ObservableUpDownCounter
	memUsed := i64(upDown, "go.memory.used", "By", "Memory used by the Go runtime.")
	memLimit := i64(upDown, "go.memory.limit", "By", "Go runtime memory limit configured by the user, if a limit exists.")
	gcGoal := i64(upDown, "go.memory.gc.goal", "By", "Heap size target for the end of the GC cycle.")
	gors := i64(upDown, "go.goroutine.count", "{goroutine}", "Count of live goroutines.")
	procs := i64(upDown, "go.processor.limit", "{thread}", "The number of OS threads that can execute user-level Go code simultaneously.")
	gogc := i64(upDown, "go.config.gogc", "%", "Heap size target percentage configured by the user, otherwise 100.")
	allocated, err := m.Int64ObservableCounter("go.memory.allocated", metric.WithUnit("By"), metric.WithDescription("Memory allocated to the heap by the application."))
	errs = append(errs, err)
	allocations, err := m.Int64ObservableCounter("go.memory.allocations", metric.WithUnit("{allocation}"), metric.WithDescription("Count of allocations to the heap by the application."))
	errs = append(errs, err)
	cpuTime, err := m.Float64ObservableCounter("go.cpu.time", metric.WithUnit("s"), metric.WithDescription("Estimated CPU time spent by the Go runtime."))
	errs = append(errs, err)
	gcCycles, err := m.Int64ObservableCounter("go.memory.gc.cycles", metric.WithUnit("{gc_cycle}"), metric.WithDescription("Number of completed GC cycles."))
	errs = append(errs, err)

	cgCPULimit, err := m.Float64ObservableUpDownCounter("vitals.cgroup.cpu.limit", metric.WithUnit("{cpu}"), metric.WithDescription("CPU limit of the process's cgroup in cores; 0 when unlimited."))
	errs = append(errs, err)
	cgPeriods, err := m.Int64ObservableCounter("vitals.cgroup.cpu.periods", metric.WithUnit("{period}"), metric.WithDescription("CFS enforcement periods elapsed in the process's cgroup."))
	errs = append(errs, err)
	cgThrottled, err := m.Int64ObservableCounter("vitals.cgroup.cpu.throttled_periods", metric.WithUnit("{period}"), metric.WithDescription("CFS periods in which the process's cgroup was throttled."))
	errs = append(errs, err)
	cgThrottledTime, err := m.Float64ObservableCounter("vitals.cgroup.cpu.throttled_time", metric.WithUnit("s"), metric.WithDescription("Total time the process's cgroup was throttled."))
	errs = append(errs, err)
	cgMemLimit := i64(upDown, "vitals.cgroup.memory.limit", "By", "Hard memory limit of the process's cgroup; 0 when unlimited.")
	cgMemHigh := i64(upDown, "vitals.cgroup.memory.high", "By", "memory.high of the process's cgroup; 0 when unset.")
	cgMemUsage := i64(upDown, "vitals.cgroup.memory.usage", "By", "Memory charged to the process's cgroup.")
	incidents, err := m.Int64ObservableCounter("vitals.incidents", metric.WithUnit("{incident}"), metric.WithDescription("Incident bundles captured, by trigger (failed captures included)."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		e.Close()
		return nil, fmt.Errorf("otelexport: create instruments: %w", err)
	}

	s := e.s
	ix := runtimeIdx{
		total: s.Index("/memory/classes/total:bytes"), released: s.Index("/memory/classes/heap/released:bytes"),
		stacks: s.Index("/memory/classes/heap/stacks:bytes"), osStacks: s.Index("/memory/classes/os-stacks:bytes"),
		memlimit: s.Index("/gc/gomemlimit:bytes"), allocBytes: s.Index("/gc/heap/allocs:bytes"),
		allocObjs: s.Index("/gc/heap/allocs:objects"),
		goal:      s.Index("/gc/heap/goal:bytes"), gors: s.Index("/sched/goroutines:goroutines"),
		procs: s.Index("/sched/gomaxprocs:threads"), gogc: s.Index("/gc/gogc:percent"),
		cycles:  s.Index("/gc/cycles/total:gc-cycles"),
		cpuUser: s.Index("/cpu/classes/user:cpu-seconds"), cpuGC: s.Index("/cpu/classes/gc/total:cpu-seconds"),
		cpuScav: s.Index("/cpu/classes/scavenge/total:cpu-seconds"), cpuIdle: s.Index("/cpu/classes/idle:cpu-seconds"),
	}
	cb := func(_ context.Context, o metric.Observer) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("otelexport: observe: panic: %v", r)
			}
		}()
		s.View(func(sn *metrics.Snapshot) {
			v := func(i int) int64 { return int64(sn.Value(i)) }
			stack := v(ix.stacks) + v(ix.osStacks)
			o.ObserveInt64(memUsed, stack, attrStack)
			o.ObserveInt64(memUsed, v(ix.total)-v(ix.released)-stack, attrOther)
			if lim := sn.Value(ix.memlimit); ix.memlimit >= 0 && lim < math.MaxInt64 {
				o.ObserveInt64(memLimit, int64(lim))
			}
			o.ObserveInt64(allocated, v(ix.allocBytes))
			o.ObserveInt64(allocations, v(ix.allocObjs))
			o.ObserveInt64(gcGoal, v(ix.goal))
			o.ObserveInt64(gors, v(ix.gors))
			o.ObserveInt64(procs, v(ix.procs))
			if ix.gogc >= 0 {
				o.ObserveInt64(gogc, v(ix.gogc))
			}
			if ix.cycles >= 0 {
				o.ObserveInt64(gcCycles, v(ix.cycles))
			}
			if ix.cpuUser >= 0 {
				o.ObserveFloat64(cpuTime, sn.Value(ix.cpuUser), attrUser)
				o.ObserveFloat64(cpuTime, sn.Value(ix.cpuGC), attrGC)
				o.ObserveFloat64(cpuTime, sn.Value(ix.cpuScav), attrScav)
				o.ObserveFloat64(cpuTime, sn.Value(ix.cpuIdle), attrIdle)
			}
			if sn.HaveLimits {
				if sn.Limits.CPU.Unknown == "" {
					o.ObserveFloat64(cgCPULimit, sn.Limits.CPU.Quota)
				}
				if sn.Limits.Memory.Unknown == "" {
					o.ObserveInt64(cgMemLimit, clampInt64(sn.Limits.Memory.Max))
					o.ObserveInt64(cgMemHigh, clampInt64(sn.Limits.Memory.High))
				}
			}
			if st := &sn.Cgroup; st.HaveCPU {
				o.ObserveInt64(cgPeriods, clampInt64(st.Periods))
				o.ObserveInt64(cgThrottled, clampInt64(st.ThrottledPeriods))
				o.ObserveFloat64(cgThrottledTime, st.ThrottledTime.Seconds())
			}
			if st := &sn.Cgroup; st.HaveMemory {
				o.ObserveInt64(cgMemUsage, clampInt64(st.MemoryUsage))
			}
		})
		if src := cfg.incidents; src != nil {
			for trigger, n := range src.Counts() {
				o.ObserveInt64(incidents, clampInt64(n), metric.WithAttributeSet(attribute.NewSet(attribute.String("vitals.incident.trigger", trigger))))
			}
		}
		return nil
	}
	reg, err := m.RegisterCallback(cb,
		memUsed, memLimit, allocated, allocations, gcGoal, gors, procs, gogc, cpuTime, gcCycles,
		cgCPULimit, cgPeriods, cgThrottled, cgThrottledTime, cgMemLimit, cgMemHigh, cgMemUsage, incidents)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("otelexport: register callback: %w", err)
	}
	e.reg = reg
	return e, nil
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// Close unregisters the callback and closes the sampler the exporter
// created. Idempotent.
func (e *Exporter) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.reg != nil {
		errs = append(errs, e.reg.Unregister())
	}
	if e.owned {
		errs = append(errs, e.s.Close())
	}
	return errors.Join(errs...)
}
