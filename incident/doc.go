// Package incident keeps the evidence of trouble on disk before anyone asks:
// when memory nears its limit, the GC spirals, goroutines pile up, the CPU
// quota runs out or the scheduler falls behind, it writes one bundle — a zip
// file — holding the flight recorder's trace of the seconds before, a heap
// profile, goroutine profiles and a manifest of what fired against which
// threshold.
//
// # Triggers
//
// A [Monitor] checks the Go runtime's memory and the goroutine count with
// one runtime/metrics read of four values and one pread of the cgroup's
// memory usage (no allocation, a few microseconds): every second while
// memory is far from its thresholds ([IdleCheckEvery]), every 100 ms when it
// is within 10 points of the threshold or on course to cross it within 3 s
// ([CheckEvery]) — fast enough for 40 MiB/s of growth into a 256 MiB limit.
// Once a second it also reads the GC's CPU share, the cgroup's CPU
// throttling, the process CPU time (getrusage) and the scheduler latency
// histogram. The triggers and their defaults, each explained on its option:
//
//   - [Memory]: Go memory at 80% of the effective limit (lowest of
//     GOMEMLIMIT, memory.max, memory.high), or cgroup usage at 95% of the
//     cgroup limit ([MemoryThreshold], [CgroupMemoryThreshold]).
//   - [GC]: GC at 40% of all CPU over 10 s ([GCThreshold]).
//   - [Goroutines]: ×4 within 10 s and at least 10000 ([GoroutineSpike]),
//     or the leak watchdog's report ([Monitor.Fire]).
//   - [CPU]: half the CFS periods throttled, or 95% of the quota used, over
//     10 s ([CPUThrottle], [CPUSaturation]); adds a 10 s CPU profile.
//   - [Latency]: scheduler latency p99 of 50 ms over 10 s ([LatencyThreshold]).
//   - [Manual]: [Monitor.Capture], POST /capture on [Monitor.Handler],
//     [OnSignal].
//
// # Bundles
//
// A bundle is "incident-<trigger>-<UTC time>-<seq>.zip" in a directory
// capped in files and bytes (20 and 256 MiB by default; oldest removed
// first, see [tracecap.Dir]). Its parts, each readable by the real tools
// once unzipped:
//
//	flight.trace         go tool trace       the flight recorder: the seconds before
//	heap.pb.gz           go tool pprof       in-use and allocated heap
//	goroutine.pb.gz      go tool pprof       every goroutine's stack, grouped
//	goroutines.txt       vitals stacks       the same snapshot as text (debug=1), with labels
//	goroutines-full.txt  vitals stacks       debug=2, only below GoroutineBudget
//	goroutineleak.pb.gz  go tool pprof       where the runtime has the profile
//	cpu.pb.gz            go tool pprof       CPU triggers: the next seconds
//	manifest.json                            Manifest: what fired, limits, history
//
// "vitals incident FILE" summarises a bundle.
//
// # Safety
//
// Goroutine snapshots use the concurrent goroutine profile, which does not
// stop the world for the dump (two brief stops, to start and to finish it);
// a bundle takes it once, and goroutines.txt is derived from the protobuf.
// The full debug=2 dump, which stops the world throughout (about 1.5 µs per
// goroutine), is written only below [GoroutineBudget]. Each
// trigger has a cooldown (10 minutes), all automatic triggers share a rate
// limit (3 in a row, then one per 10 minutes), and there is never more than
// one capture at a time. Captures run on their own goroutine: the service's
// goroutines never wait for one. Parts are streamed into the zip file with
// small buffers; near the memory limit (memory triggers, or within 10% of
// the limit) the bundle is lighter: stored uncompressed, without the full
// dump and the leak profile (which runs a GC cycle).
//
// # Cost
//
// Armed without a flight recorder: one wake-up a second while idle; the
// check itself is 0 allocations and microseconds (BenchmarkCheck), the
// wake-up of its goroutine costs more (BenchmarkArmed in bench/incident).
// The flight recorder, started by default, runs the execution tracer: a few
// percent of CPU, its ring (10 MiB by default), and longer collections: the
// application's GC pauses reached 1.3–3.2 ms at 2,000–10,000 goroutines with
// it on a 2-vCPU VM, 0.5–0.7 ms without (BENCHMARKS.md); [NoFlightRecorder]
// trades the trace of the seconds before for that. Above 20,000 goroutines
// it pauses ([tracecap.WithGoroutineCeiling]; the tracer's work grows with
// the goroutines and delays every stop-the-world) and bundles carry the
// trace held from the moment it paused, with a note saying so.
package incident
