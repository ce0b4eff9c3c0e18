// Package cgroup reports the CPU and memory limits that really apply to the
// current process, read from Linux control groups (v1, v2 and hybrid).
//
// [Read] finds the process's cgroup the way the Go runtime does (through
// /proc/self/cgroup and /proc/self/mountinfo, translating through the
// mount's root, unescaping \040-style escapes, skipping mounts that cannot
// reach a cgroup outside the process's cgroup namespace), then takes the
// minimum limit over every visible ancestor up to the mount point:
//
//   - CPU: v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, at every
//     level (the runtime reads only the leaf), and the affinity mask
//     (sched_getaffinity), so a quota of 4 in a 2-CPU cpuset is 2 CPUs
//     ([CPU.Effective]).
//   - Memory: v2 memory.max, and memory.high reported apart; v1
//     memory.limit_in_bytes at every level plus hierarchical_memory_limit
//     from memory.stat, which the kernel computes over all ancestors, even
//     those above a cgroup namespace.
//
// "max", a v1 quota of -1 and v1's page-rounded LONG_MAX memory sentinel
// (different for 4 KiB and 64 KiB pages, so compared against a threshold)
// mean "no limit". In hybrid mode a controller bound to a v1 hierarchy
// wins over the unified one.
//
// Read never fails: a missing /proc, an unreadable or malformed file, or a
// cgroup outside the namespace leaves the matching Unknown field set to the
// reason and adds a sentence to [Limits.Warnings]. A limit found at one
// level stands when another level fails (the true limit can only be lower);
// "no limit" is only reported when every level could be read.
//
// [StatReader] keeps cpu.stat and the memory usage file open and re-reads
// them with pread, without allocating, for metrics: CFS periods, throttled
// periods and throttled time (v1 ns and v2 µs both become a
// [time.Duration]) and current memory usage.
//
// # Fixtures
//
// [WithRoot] reads /proc and /sys below another directory. testdata/layouts
// holds one tree per layout (v1 with and without a namespace, hybrid, v2,
// out-of-namespace paths, garbage in each file, ...), written by
// gen_testdata.go. Below a fixture root the affinity comes from the
// cpuset files of the tree instead of sched_getaffinity.
package cgroup
