package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds the pure parsers, one per file format. Each takes the
// file's bytes (or one line) and never panics; each has a fuzz target.

var (
	errEmpty     = errors.New("empty file")
	errMalformed = errors.New("malformed content")
	errTooLarge  = errors.New("file too large")
)

// maxFileSize bounds what is read of any one file (mountinfo on a busy
// host is the largest, tens of KiB).
const maxFileSize = 4 << 20

// mountInfo is the part of one /proc/self/mountinfo line that cgroup needs.
type mountInfo struct {
	root       string // (4) root of the mount within the filesystem, unescaped
	mountPoint string // (5) mount point, unescaped
	fsType     string // (9) filesystem type
	superOpts  string // (11) super options, comma separated
}

// parseMountInfoLine parses one line of /proc/self/mountinfo:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue
//
// Any number of optional fields (7) may precede the " - " separator. The
// root and mount point are unescaped (\040 is a space).
func parseMountInfoLine(line string) (mountInfo, error) {
	line = strings.TrimRight(line, "\n")
	sep := strings.Index(line, " - ")
	if sep < 0 {
		return mountInfo{}, fmt.Errorf("mountinfo line %q: no \" - \" separator", clip(line))
	}
	pre := strings.Fields(line[:sep])
	post := strings.Fields(line[sep+3:])
	// (1) id (2) parent (3) major:minor (4) root (5) mount point (6) options, then optional fields.
	if len(pre) < 6 || len(post) < 2 {
		return mountInfo{}, fmt.Errorf("mountinfo line %q: too few fields", clip(line))
	}
	root, err := unescapeOctal(pre[3])
	if err != nil {
		return mountInfo{}, fmt.Errorf("mountinfo line %q: root: %w", clip(line), err)
	}
	mnt, err := unescapeOctal(pre[4])
	if err != nil {
		return mountInfo{}, fmt.Errorf("mountinfo line %q: mount point: %w", clip(line), err)
	}
	if !strings.HasPrefix(root, "/") || !strings.HasPrefix(mnt, "/") {
		return mountInfo{}, fmt.Errorf("mountinfo line %q: root and mount point must be absolute", clip(line))
	}
	mi := mountInfo{root: root, mountPoint: mnt, fsType: post[0]}
	if len(post) >= 3 {
		mi.superOpts = post[2]
	}
	return mi, nil
}

// unescapeOctal undoes the kernel's show_path escaping: space, tab,
// newline and backslash appear as a backslash and three octal digits.
func unescapeOctal(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+3 >= len(s) {
			return "", fmt.Errorf("truncated escape in %q", clip(s))
		}
		v := 0
		for _, d := range []byte(s[i+1 : i+4]) {
			if d < '0' || d > '7' {
				return "", fmt.Errorf("bad escape in %q", clip(s))
			}
			v = v*8 + int(d-'0')
		}
		if v > 0xff {
			return "", fmt.Errorf("bad escape in %q", clip(s))
		}
		b.WriteByte(byte(v))
		i += 3
	}
	return b.String(), nil
}

// procCgroup is one line of /proc/self/cgroup: "hierarchy-ID:controllers:path".
type procCgroup struct {
	id          string
	controllers string // comma separated; empty for v2
	path        string
}

// parseProcCgroupLine parses one line of /proc/self/cgroup. The path may
// contain colons, so only the first two separate fields.
func parseProcCgroupLine(line string) (procCgroup, error) {
	line = strings.TrimRight(line, "\n")
	id, rest, ok := strings.Cut(line, ":")
	if !ok {
		return procCgroup{}, fmt.Errorf("cgroup line %q: want id:controllers:path", clip(line))
	}
	ctl, path, ok := strings.Cut(rest, ":")
	if !ok {
		return procCgroup{}, fmt.Errorf("cgroup line %q: want id:controllers:path", clip(line))
	}
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return procCgroup{}, fmt.Errorf("cgroup line %q: hierarchy id is not a number", clip(line))
	}
	if !strings.HasPrefix(path, "/") {
		return procCgroup{}, fmt.Errorf("cgroup line %q: path is not absolute", clip(line))
	}
	return procCgroup{id: id, controllers: ctl, path: path}, nil
}

// hasController reports whether the comma-separated list has name.
func hasController(list, name string) bool {
	for list != "" {
		var c string
		c, list, _ = strings.Cut(list, ",")
		if c == name {
			return true
		}
	}
	return false
}

// parseCPUMax parses v2 cpu.max, "<quota> <period>\n" or "max <period>\n".
// limited is false for "max".
func parseCPUMax(b []byte) (quota, period int64, limited bool, err error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, 0, false, errEmpty
	}
	if len(f) > 2 {
		return 0, 0, false, fmt.Errorf("%w: want \"<quota> <period>\", got %q", errMalformed, clip(string(b)))
	}
	period = 100000 // the kernel default when only the quota is given
	if len(f) == 2 {
		period, err = strconv.ParseInt(f[1], 10, 64)
		if err != nil || period <= 0 {
			return 0, 0, false, fmt.Errorf("%w: bad period %q", errMalformed, clip(f[1]))
		}
	}
	if f[0] == "max" {
		return 0, period, false, nil
	}
	quota, err = strconv.ParseInt(f[0], 10, 64)
	if err != nil || quota <= 0 {
		return 0, 0, false, fmt.Errorf("%w: bad quota %q", errMalformed, clip(f[0]))
	}
	return quota, period, true, nil
}

// parseCFSValue parses v1 cpu.cfs_quota_us or cpu.cfs_period_us: one
// decimal integer and a newline. -1 (quota only) means unlimited.
func parseCFSValue(b []byte) (int64, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, errEmpty
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: want an integer, got %q", errMalformed, clip(s))
	}
	return v, nil
}

// unlimitedMemory is the threshold above which a v1 memory limit means
// "no limit". The kernel's sentinel is LONG_MAX rounded down to a page
// (9223372036854771712 with 4 KiB pages, 9223372036854710272 with 64 KiB
// pages), so compare against a threshold far below any sentinel and far
// above any real limit (4 EiB).
const unlimitedMemory = 1 << 62

// parseMemoryValue parses memory.max, memory.high, memory.limit_in_bytes,
// or v1 hierarchical_memory_limit: a decimal byte count or "max". limited
// is false for "max" and for v1's page-rounded LONG_MAX sentinel; 0 is an
// error.
func parseMemoryValue(b []byte) (v uint64, limited bool, err error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, false, errEmpty
	}
	if s == "max" {
		return 0, false, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil {
		// v1 prints signed values; a negative limit is nonsense.
		return 0, false, fmt.Errorf("%w: want a byte count or \"max\", got %q", errMalformed, clip(s))
	}
	if v >= unlimitedMemory {
		return 0, false, nil
	}
	if v == 0 {
		// The kernel accepts 0, but no running process fits in it: the file
		// is not describing this process (or is not a limit file at all).
		return 0, false, fmt.Errorf("%w: a limit of 0 bytes", errMalformed)
	}
	return v, true, nil
}

// parseMemoryStatKey finds key in a "key value\n" file such as v1
// memory.stat and parses its value as with parseMemoryValue.
func parseMemoryStatKey(b []byte, key string) (v uint64, limited, found bool, err error) {
	for line := range strings.Lines(string(b)) {
		k, val, ok := strings.Cut(strings.TrimRight(line, "\n"), " ")
		if !ok || k != key {
			continue
		}
		v, limited, err = parseMemoryValue([]byte(val))
		return v, limited, true, err
	}
	return 0, false, false, nil
}

// parseCPUList counts the CPUs in a cpuset list such as "0-3,8,10-11".
func parseCPUList(b []byte) (int, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, errEmpty
	}
	n := 0
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%w: bad cpu list %q", errMalformed, clip(s))
		}
		c := a
		if isRange {
			c, err = strconv.ParseUint(hi, 10, 32)
			if err != nil || c < a {
				return 0, fmt.Errorf("%w: bad cpu list %q", errMalformed, clip(s))
			}
		}
		n += int(c - a + 1)
		if n > math.MaxInt32 {
			return 0, fmt.Errorf("%w: cpu list too large", errMalformed)
		}
	}
	return n, nil
}

// parseCPUStat parses cpu.stat into s without allocating. It understands
// v1 (throttled_time, ns) and v2 (throttled_usec, µs) and ignores other
// keys. cfs reports whether nr_periods was present (v2 without the cpu
// controller has only usage_usec and friends); valid whether any line was
// a well-formed "key value".
func parseCPUStat(b []byte, s *Stats) (cfs, valid bool) {
	var periods, throttled, ns, us uint64
	var havePeriods, haveNS, haveUS bool
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		key, val := line[:sp], line[sp+1:]
		v, ok := atou(val)
		if !ok {
			continue
		}
		valid = true
		switch string(key) { // no allocation: the compiler compares in place
		case "nr_periods":
			periods, havePeriods = v, true
		case "nr_throttled":
			throttled = v
		case "throttled_time":
			ns, haveNS = v, true
		case "throttled_usec":
			us, haveUS = v, true
		}
	}
	if !havePeriods {
		return false, valid
	}
	s.Periods = periods
	s.ThrottledPeriods = throttled
	switch {
	case haveNS:
		s.ThrottledTime = satDuration(ns, 1)
	case haveUS:
		s.ThrottledTime = satDuration(us, 1000)
	default:
		s.ThrottledTime = 0
	}
	return true, true
}

// satDuration returns v*unit nanoseconds, saturating at the maximum Duration.
func satDuration(v, unit uint64) time.Duration {
	if v > math.MaxInt64/unit {
		return math.MaxInt64
	}
	return time.Duration(v * unit)
}

// atou parses a decimal uint64 with optional trailing spaces, no allocation.
func atou(b []byte) (uint64, bool) {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// clip shortens s for error messages.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
