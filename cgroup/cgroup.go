// Package cgroup reports the CPU and memory limits that really apply to the
// current process, read from Linux control groups (v1, v2 and hybrid).
//
// CONTRACT FILE: the exported API below is what other vitals packages code
// against. The cgroup owner implements it and may add to it, but must not
// rename or remove what is here without telling the integrator.
package cgroup

import "time"

// Version says which cgroup hierarchy supplied the limits.
type Version int

const (
	// VersionUnknown: no cgroup information could be read (not Linux, no
	// /proc, no controllers mounted).
	VersionUnknown Version = 0
	// V1 is the legacy per-controller hierarchy.
	V1 Version = 1
	// V2 is the unified hierarchy.
	V2 Version = 2
	// Hybrid is v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified.
	Hybrid Version = 3
)

// CPU is the effective CPU limit of the process.
type CPU struct {
	// Limited reports whether any visible ancestor sets a CFS quota.
	Limited bool `json:"limited"`
	// Quota is the effective limit in cores (quota/period), the minimum over
	// every visible ancestor. 0 when not Limited.
	Quota float64 `json:"quota,omitempty"`
	// QuotaPath is the cgroup file (relative to the root) that set Quota.
	QuotaPath string `json:"quota_path,omitempty"`
	// Affinity is the number of CPUs in the sched_getaffinity mask (or the
	// cpuset in fixture trees); 0 when unknown.
	Affinity int `json:"affinity,omitempty"`
	// Unknown is non-empty when the limit could not be determined; it says why.
	Unknown string `json:"unknown,omitempty"`
}

// Effective returns the CPUs the process can really use: min(Quota, Affinity)
// over the values that are known, or 0 when neither is.
func (c CPU) Effective() float64 { panic("unimplemented") }

// Memory is the effective memory limit of the process.
type Memory struct {
	// Limited reports whether any visible ancestor sets a hard limit
	// (v2 memory.max, v1 memory.limit_in_bytes / hierarchical_memory_limit).
	Limited bool `json:"limited"`
	// Max is the effective hard limit in bytes (minimum over ancestors).
	Max uint64 `json:"max,omitempty"`
	// MaxPath is the cgroup file that set Max.
	MaxPath string `json:"max_path,omitempty"`
	// High is the effective v2 memory.high in bytes; 0 when unset or v1.
	High uint64 `json:"high,omitempty"`
	// HighPath is the file that set High.
	HighPath string `json:"high_path,omitempty"`
	// Unknown is non-empty when the limit could not be determined; it says why.
	Unknown string `json:"unknown,omitempty"`
}

// Limits is what [Read] found.
type Limits struct {
	Version Version `json:"version"`
	// CPUPath and MemoryPath are the process's cgroup directories as seen
	// in this mount namespace (absolute paths under Root); empty if unknown.
	CPUPath    string `json:"cpu_path,omitempty"`
	MemoryPath string `json:"memory_path,omitempty"`
	CPU        CPU    `json:"cpu"`
	Memory     Memory `json:"memory"`
	// Warnings are non-fatal oddities met on the way (an unreadable file, a
	// path outside the namespace), each a full sentence.
	Warnings []string `json:"warnings,omitempty"`
}

// Option configures [Read] and [NewStatReader].
type Option interface{ apply(*config) }

type config struct {
	root     string
	affinity int // >0 overrides sched_getaffinity (tests)
}

// Read reports the effective limits of the current process. It never fails:
// what it cannot learn is reported in the Unknown fields and Warnings.
// Cost: a handful of small file reads (tens of microseconds); no allocation
// beyond the result.
func Read(opts ...Option) Limits { panic("unimplemented") }

// WithRoot reads /proc and /sys below dir instead of "/" (fixture trees).
func WithRoot(dir string) Option { panic("unimplemented") }

// Stats are the live counters of the process's cgroup.
type Stats struct {
	// CPU CFS counters (cpu.stat): zero when unavailable.
	Periods          uint64        `json:"nr_periods"`
	ThrottledPeriods uint64        `json:"nr_throttled"`
	ThrottledTime    time.Duration `json:"throttled_time"`
	// MemoryUsage is memory.current (v2) or memory.usage_in_bytes (v1).
	MemoryUsage uint64 `json:"memory_usage"`
	// HaveCPU and HaveMemory report whether each part was read.
	HaveCPU    bool `json:"have_cpu"`
	HaveMemory bool `json:"have_memory"`
}

// StatReader keeps the counter files open and re-reads them with pread,
// so a read costs two syscalls and no allocation. Safe for concurrent use.
type StatReader struct { /* implementation */
}

// NewStatReader opens the counter files of the current process's cgroup.
// Missing files are not an error: the matching Have* field stays false.
func NewStatReader(opts ...Option) (*StatReader, error) { panic("unimplemented") }

// Read fills s. It does not allocate.
func (r *StatReader) Read(s *Stats) error { panic("unimplemented") }

// Close closes the files. Idempotent.
func (r *StatReader) Close() error { panic("unimplemented") }
