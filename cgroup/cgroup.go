// CONTRACT FILE: the exported API below is what other vitals packages code
// against. The cgroup owner implements it and may add to it, but must not
// rename or remove what is here without telling the integrator.
// The package documentation is in doc.go.

package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

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
func (c CPU) Effective() float64 {
	switch {
	case c.Limited && c.Quota > 0 && c.Affinity > 0:
		return min(c.Quota, float64(c.Affinity))
	case c.Limited && c.Quota > 0:
		return c.Quota
	case c.Affinity > 0:
		return float64(c.Affinity)
	}
	return 0
}

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
	affinity int                          // >0 overrides sched_getaffinity (tests)
	readFile func(string) ([]byte, error) // nil: readFileInto (tests inject EACCES)
	scratch  []byte                       // reused by readFileInto within one Read
}

// MaxWarnings bounds [Limits.Warnings]: past it, one last warning says how
// many more there were.
const MaxWarnings = 16

// maxWarningLen bounds one warning (a path can be long).
const maxWarningLen = 512

// Read reports the effective limits of the current process. It never fails:
// what it cannot learn is reported in the Unknown fields and Warnings.
// Cost: reads /proc/self/cgroup, /proc/self/mountinfo and two or three
// small files per visible cgroup level, with raw open/read/close, plus one
// sched_getaffinity: about 150 µs and 15 KiB of garbage on a 2-core VM,
// most of it the kernel generating mountinfo (see BenchmarkRead). Call it
// once at start-up or on a slow ticker, not per request.
func Read(opts ...Option) (l Limits) {
	defer func() {
		// A bug here must never take the service down at start-up.
		if r := recover(); r != nil {
			l = Limits{
				CPU:      CPU{Unknown: fmt.Sprintf("cgroup: internal error: %v", r)},
				Memory:   Memory{Unknown: fmt.Sprintf("cgroup: internal error: %v", r)},
				Warnings: append(l.Warnings, fmt.Sprintf("cgroup: internal error: %v.", r)),
			}
		}
	}()
	c := newConfig(opts)
	dropped := 0
	warn := func(format string, args ...any) {
		if len(l.Warnings) >= MaxWarnings {
			dropped++
			return
		}
		msg := fmt.Sprintf(format, args...)
		if len(msg) > maxWarningLen {
			cut := maxWarningLen
			for cut > 0 && !utf8.RuneStart(msg[cut]) {
				cut--
			}
			msg = msg[:cut] + "…"
		}
		l.Warnings = append(l.Warnings, msg)
	}
	defer func() {
		if dropped > 0 {
			l.Warnings = append(l.Warnings, fmt.Sprintf("cgroup: %d more warning(s) not shown.", dropped))
		}
	}()
	h := loadHierarchy(c, warn)
	cpuLoc := h.locate("cpu", warn)
	memLoc := h.locate("memory", warn)
	for i, loc := range []location{cpuLoc, memLoc} {
		if d := loc.depth(); d >= maxLevels && (i == 0 || loc.dir != cpuLoc.dir) {
			warn("cgroup: %s is %d levels below %s; only the nearest %d were read, so a limit set higher up is missed.",
				clip(loc.dir), d, loc.mount, maxLevels)
		}
	}
	l.Version = version(h, cpuLoc, memLoc)
	l.CPUPath, l.MemoryPath = cpuLoc.dir, memLoc.dir
	l.CPU = readCPU(c, cpuLoc, warn)
	l.Memory = readMemory(c, memLoc, warn)
	switch {
	case c.affinity > 0:
		l.CPU.Affinity = c.affinity
	case c.realRoot():
		n, err := schedAffinity()
		if err != nil {
			warn("cgroup: sched_getaffinity: %v.", err)
		}
		l.CPU.Affinity = n
	default:
		if h.err == nil {
			l.CPU.Affinity = readCpuset(c, h.locate("cpuset", func(string, ...any) {}), warn)
		}
	}
	return l
}

// WithRoot reads /proc and /sys below dir instead of "/" (fixture trees).
// Below any root other than "/", [CPU.Affinity] is counted from the tree's
// cpuset files (v2 cpuset.cpus.effective, v1 cpuset.effective_cpus or
// cpuset.cpus) instead of sched_getaffinity.
//
// A root may be a tree someone else made, so below it: files are opened
// without blocking and only if regular (a FIFO or device is refused, never
// waited on); symbolic links resolve inside the root as if it were "/"
// (openat2 RESOLVE_IN_ROOT; on kernels before 5.6 a link that leads out is
// refused); at most 64 cgroup levels are walked and [MaxWarnings] warnings
// of at most 512 bytes kept.
func WithRoot(dir string) Option { return optionFunc(func(c *config) { c.root = dir }) }

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
type StatReader struct {
	mu      sync.Mutex
	cpu     statFile // cpu.stat
	mem     statFile // memory.current or memory.usage_in_bytes
	closed  bool
	buf     [4096]byte
	cpuPath string // process view, "" if none
	memPath string
}

// Paths returns the counter files the reader has open, as seen by the
// process ("" for a file it could not open). It does not allocate.
func (r *StatReader) Paths() (cpuStat, memoryUsage string) { return r.cpuPath, r.memPath }

// NewStatReader opens the counter files of the current process's cgroup.
// Missing files are not an error: the matching Have* field stays false.
// The returned reader is never nil and always usable; the error, when not
// nil, lists files that exist but could not be opened (EACCES, ...).
// Cost: the same file reads as [Read], plus two open file descriptors
// until [StatReader.Close].
func NewStatReader(opts ...Option) (*StatReader, error) {
	c := newConfig(opts)
	r := &StatReader{cpu: noFile, mem: noFile}
	h := loadHierarchy(c, func(string, ...any) {})
	var errs []error
	if loc := h.locate("cpu", func(string, ...any) {}); loc.dir != "" {
		p := path.Join(loc.dir, "cpu.stat")
		f, err := openStat(c, p)
		if err == nil {
			r.cpu, r.cpuPath = f, p
		} else if !notExist(err) {
			errs = append(errs, err)
		}
	}
	if loc := h.locate("memory", func(string, ...any) {}); loc.dir != "" {
		p := path.Join(loc.dir, "memory.current")
		if loc.version == V1 {
			p = path.Join(loc.dir, "memory.usage_in_bytes")
		}
		f, err := openStat(c, p)
		if err == nil {
			r.mem, r.memPath = f, p
		} else if !notExist(err) {
			errs = append(errs, err)
		}
	}
	return r, errors.Join(errs...)
}

// Read fills s, clearing it first. It does not allocate (except to build
// an error) and takes a mutex. Cost: one pread per open file, about
// 1.3 µs each here (see BenchmarkStatReaderRead). A file that fails to
// read or parse leaves its Have* field false and is named in the error.
func (r *StatReader) Read(s *Stats) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*s = Stats{}
	if r.closed {
		return errStatClosed
	}
	var errCPU, errMem error
	if r.cpu != noFile {
		n, err := pread(r.cpu, r.buf[:])
		if err != nil {
			errCPU = &fs.PathError{Op: "pread", Path: r.cpuPath, Err: err}
		} else {
			var valid bool
			s.HaveCPU, valid = parseCPUStat(r.buf[:n], s)
			if !valid {
				errCPU = &fs.PathError{Op: "parse", Path: r.cpuPath, Err: errMalformed}
			}
		}
	}
	if r.mem != noFile {
		n, err := pread(r.mem, r.buf[:64])
		if err != nil {
			errMem = &fs.PathError{Op: "pread", Path: r.memPath, Err: err}
		} else if v, ok := atou(bytes.TrimRight(r.buf[:n], "\n")); ok {
			s.MemoryUsage, s.HaveMemory = v, true
		} else {
			errMem = &fs.PathError{Op: "parse", Path: r.memPath, Err: errMalformed}
		}
	}
	if errCPU != nil || errMem != nil {
		return fmt.Errorf("cgroup: %w", errors.Join(errCPU, errMem))
	}
	return nil
}

// Close closes the files. Idempotent.
func (r *StatReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for _, f := range []*statFile{&r.cpu, &r.mem} {
		if *f != noFile {
			errs = append(errs, closeStat(*f))
			*f = noFile
		}
	}
	return errors.Join(errs...)
}

// MarshalJSON writes the version as its name ("v1", "v2", "hybrid",
// "unknown"), so a report says "hybrid" rather than 3.
func (v Version) MarshalJSON() ([]byte, error) { return []byte(`"` + v.String() + `"`), nil }

// UnmarshalJSON reads a name written by [Version.MarshalJSON] or the number
// that reports before names were used carried.
func (v *Version) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	for _, c := range []Version{VersionUnknown, V1, V2, Hybrid} {
		if s == c.String() || s == strconv.Itoa(int(c)) {
			*v = c
			return nil
		}
	}
	if s == "null" {
		return nil
	}
	return fmt.Errorf("cgroup: unknown version %.40q", s)
}

// String returns "unknown", "v1", "v2" or "hybrid".
func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	case Hybrid:
		return "hybrid"
	}
	return "unknown"
}
