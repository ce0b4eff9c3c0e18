// Package metrics samples the Go runtime and the process's cgroup counters
// cheaply, for exporters to publish: [github.com/govitals/vitals/metrics/promexport]
// for Prometheus and [github.com/govitals/vitals/metrics/otelexport] for
// OpenTelemetry. This package imports neither.
//
// # What a read costs
//
// A [Sampler] read is one [runtime/metrics.Read] over every metric the running
// Go supports ([runtime/metrics.All]) into samples allocated once, plus one
// pread of the cgroup CPU and memory counter files kept open by
// [github.com/govitals/vitals/cgroup.StatReader]. It does not stop the world
// (unlike [runtime.ReadMemStats]) and does not allocate. On a 2-core AMD EPYC
// the runtime part (113 metrics on Go 1.26, 8 of them histograms) takes 3-8 µs
// and the two preads 2-6 µs, more on a busy machine (BenchmarkSamplerRead,
// BenchmarkRuntimeRead, BenchmarkCgroupRead). The cgroup limits (quota,
// memory.max, memory.high) change rarely; they are re-read at most every
// 30 seconds, which costs a few small file reads and allocations.
//
// # Rate limit
//
// Scrapers call [Sampler.View]. A read older than the minimum interval
// (default one second, [WithMinInterval]) is refreshed first; concurrent
// scrapes inside the interval share one read. No goroutine is started, per
// scrape or otherwise: the first caller that finds the data stale refreshes it
// under a lock while the others wait for its result.
//
// # Hooks
//
// The values vitals itself decides (GOMAXPROCS and GOMEMLIMIT and where they
// came from, the start-up checklist, the goroutine leak watchdog) live in
// packages that import this one, so they reach the sampler through plain
// function hooks: [WithSettings], [WithChecks] and [WithWatchdog]. Each hook
// is called once per read, never per scrape, with the sampler's lock held:
// it must be quick and must not call the sampler. A hook that panics is
// recovered and its values are left out of that read.
package metrics
