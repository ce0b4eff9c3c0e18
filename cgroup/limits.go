package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// walk collects the outcome of reading one limit file in each ancestor.
type walk struct {
	found    bool   // some level had a readable, well-formed file
	firstErr error  // first failure other than "file does not exist"
	val      uint64 // memory: bytes
	cores    float64
	limited  bool
	path     string
}

// takeBytes and takeCores record a limit read from file p: it replaces the
// current one when lower (levels are visited leaf first, so ties keep the
// deepest file).
func (w *walk) takeBytes(v uint64, p string) {
	if !w.limited || v < w.val {
		w.val, w.path, w.limited = v, p, true
	}
}

func (w *walk) takeCores(v float64, p string) {
	if !w.limited || v < w.cores {
		w.cores, w.path, w.limited = v, p, true
	}
}

// fail records a read or parse error for file p and warns about it.
func (w *walk) fail(err error, warn func(string, ...any)) {
	if w.firstErr == nil {
		w.firstErr = err
	}
	warn("%v.", err)
}

func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// isHierarchyRoot reports whether dir is the true root of a v2 hierarchy,
// which has no cgroup.type and no limit files at all (unlimited by design).
// A cgroup-namespace root is a child cgroup and has cgroup.type.
func isHierarchyRoot(c *config, loc location) bool {
	return loc.version == V2 && loc.dir == loc.mount && !c.exists(path.Join(loc.dir, "cgroup.type"))
}

// unknownReason says why a walk found no limit, or "" when "no limit" is a
// sound answer. A limit found at one level stands even when another level
// failed (the true limit can only be lower; the failure is a warning), but
// "unlimited" is only sound when every level could be read.
func (w *walk) unknownReason(c *config, loc location, file string) string {
	switch {
	case w.limited:
		return ""
	case w.firstErr != nil:
		return w.firstErr.Error()
	case w.found:
		return ""
	case isHierarchyRoot(c, loc):
		return ""
	default:
		return fmt.Sprintf("cgroup: no %s in %s or its visible ancestors (controller not enabled?)", file, loc.dir)
	}
}

// readCPU computes the effective CPU quota over every visible ancestor.
func readCPU(c *config, loc location, warn func(string, ...any)) CPU {
	if loc.dir == "" {
		return CPU{Unknown: loc.unknown}
	}
	var w walk
	file := "cpu.max"
	if loc.version == V1 {
		file = "cpu.cfs_quota_us"
	}
	for _, d := range loc.ancestors() {
		if loc.version == V2 {
			p := path.Join(d, "cpu.max")
			b, err := c.read(p)
			if notExist(err) {
				continue
			}
			if err != nil {
				w.fail(fmt.Errorf("cgroup: %w", err), warn)
				continue
			}
			q, per, lim, err := parseCPUMax(b)
			if err != nil {
				w.fail(fmt.Errorf("cgroup: parse %s: %w", p, err), warn)
				continue
			}
			w.found = true
			if lim {
				w.takeCores(float64(q)/float64(per), p)
			}
			continue
		}
		qp := path.Join(d, "cpu.cfs_quota_us")
		b, err := c.read(qp)
		if notExist(err) {
			continue
		}
		if err != nil {
			w.fail(fmt.Errorf("cgroup: %w", err), warn)
			continue
		}
		q, err := parseCFSValue(b)
		if err != nil {
			w.fail(fmt.Errorf("cgroup: parse %s: %w", qp, err), warn)
			continue
		}
		if q < 0 { // -1: no limit at this level
			w.found = true
			continue
		}
		if q == 0 {
			w.fail(fmt.Errorf("cgroup: parse %s: %w: quota 0", qp, errMalformed), warn)
			continue
		}
		pp := path.Join(d, "cpu.cfs_period_us")
		b, err = c.read(pp)
		if err != nil {
			w.fail(fmt.Errorf("cgroup: %w", err), warn)
			continue
		}
		per, err := parseCFSValue(b)
		if err == nil && per <= 0 {
			err = fmt.Errorf("%w: period %d", errMalformed, per)
		}
		if err != nil {
			w.fail(fmt.Errorf("cgroup: parse %s: %w", pp, err), warn)
			continue
		}
		w.found = true
		w.takeCores(float64(q)/float64(per), qp)
	}
	cpu := CPU{Limited: w.limited, Unknown: w.unknownReason(c, loc, file)}
	if w.limited {
		cpu.Quota, cpu.QuotaPath = w.cores, w.path
	}
	return cpu
}

// readMemoryFile walks file (memory.max, memory.high, memory.limit_in_bytes)
// over every visible ancestor.
func readMemoryFile(c *config, loc location, file string, warn func(string, ...any)) walk {
	var w walk
	for _, d := range loc.ancestors() {
		p := path.Join(d, file)
		b, err := c.read(p)
		if notExist(err) {
			continue
		}
		if err != nil {
			w.fail(fmt.Errorf("cgroup: %w", err), warn)
			continue
		}
		v, lim, err := parseMemoryValue(b)
		if err != nil {
			w.fail(fmt.Errorf("cgroup: parse %s: %w", p, err), warn)
			continue
		}
		w.found = true
		if lim {
			w.takeBytes(v, p)
		}
	}
	return w
}

// readMemory computes the effective memory limits over every visible
// ancestor; on v1 it also takes hierarchical_memory_limit from the leaf's
// memory.stat, which the kernel computes over all ancestors, even those
// outside the namespace.
func readMemory(c *config, loc location, warn func(string, ...any)) Memory {
	if loc.dir == "" {
		return Memory{Unknown: loc.unknown}
	}
	if loc.version == V2 {
		w := readMemoryFile(c, loc, "memory.max", warn)
		m := Memory{Limited: w.limited, Unknown: w.unknownReason(c, loc, "memory.max")}
		if w.limited {
			m.Max, m.MaxPath = w.val, w.path
		}
		h := readMemoryFile(c, loc, "memory.high", warn)
		if h.limited {
			m.High, m.HighPath = h.val, h.path
		}
		return m
	}
	w := readMemoryFile(c, loc, "memory.limit_in_bytes", warn)
	p := path.Join(loc.dir, "memory.stat")
	b, err := c.read(p)
	switch {
	case notExist(err):
	case err != nil:
		w.fail(fmt.Errorf("cgroup: %w", err), warn)
	default:
		v, lim, ok, err := parseMemoryStatKey(b, "hierarchical_memory_limit")
		switch {
		case err != nil:
			w.fail(fmt.Errorf("cgroup: parse %s: hierarchical_memory_limit: %w", p, err), warn)
		case ok:
			w.found = true
			if lim {
				w.takeBytes(v, p)
			}
		}
	}
	m := Memory{Limited: w.limited, Unknown: w.unknownReason(c, loc, "memory.limit_in_bytes")}
	if w.limited {
		m.Max, m.MaxPath = w.val, w.path
	}
	return m
}

// readCpuset counts the CPUs of the process's cpuset from the tree (used for
// fixture roots; the live process asks sched_getaffinity). 0 when unknown.
func readCpuset(c *config, loc location, warn func(string, ...any)) int {
	if loc.dir == "" {
		return 0
	}
	files := []string{"cpuset.cpus.effective", "cpuset.cpus"}
	if loc.version == V1 {
		files = []string{"cpuset.effective_cpus", "cpuset.cpus"}
	}
	for _, f := range files {
		p := path.Join(loc.dir, f)
		b, err := c.read(p)
		if notExist(err) {
			continue
		}
		if err != nil {
			warn("cgroup: %v.", err)
			return 0
		}
		n, err := parseCPUList(b)
		if errors.Is(err, errEmpty) {
			continue // v2 cpuset.cpus is empty unless set
		}
		if err != nil {
			warn("cgroup: parse %s: %v.", p, err)
			return 0
		}
		return n
	}
	return 0
}

// version names the hierarchy that supplied the limits.
func version(h hierarchy, locs ...location) Version {
	var v1, v2 bool
	for _, l := range locs {
		switch l.version {
		case V1:
			v1 = true
		case V2:
			v2 = true
		}
	}
	hasV2Mount := h.hasV2 && slices.ContainsFunc(h.mounts, func(m mountInfo) bool { return m.fsType == "cgroup2" })
	switch {
	case v1 && (v2 || hasV2Mount):
		return Hybrid
	case v1:
		return V1
	case v2:
		return V2
	}
	return VersionUnknown
}
