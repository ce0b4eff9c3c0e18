package cgroup

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The seed corpora under testdata/fuzz/ are real inputs: lines and files
// from this repository's fixtures and from live Linux machines (v1, v2 and
// hybrid). Run one target with, for example:
//
//	go test -run '^$' -fuzz '^FuzzParseMountInfoLine$' -fuzztime 60s ./cgroup

func FuzzParseMountInfoLine(f *testing.F) {
	f.Add(`36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`)
	f.Add(`41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`)
	f.Add(`1 2 0:3 /a\040b /c\134d rw shared:1 master:2 propagate_from:3 unbindable - cgroup cgroup rw,cpu`)
	f.Fuzz(func(t *testing.T, line string) {
		mi, err := parseMountInfoLine(line)
		if err != nil {
			return
		}
		if !strings.HasPrefix(mi.root, "/") || !strings.HasPrefix(mi.mountPoint, "/") {
			t.Fatalf("accepted %q with relative root %q or mount point %q", line, mi.root, mi.mountPoint)
		}
		if mi.fsType == "" || strings.ContainsAny(mi.fsType, " \t\n") {
			t.Fatalf("accepted %q with file system type %q", line, mi.fsType)
		}
		if !strings.Contains(line, `\`) && !strings.Contains(line, mi.mountPoint) {
			t.Fatalf("mount point %q is not in %q", mi.mountPoint, line)
		}
	})
}

func FuzzUnescapeOctal(f *testing.F) {
	f.Add(`/a\040b`)
	f.Add(`\134\011\012`)
	f.Add(`\777`)
	f.Fuzz(func(t *testing.T, s string) {
		out, err := unescapeOctal(s)
		if err != nil {
			return
		}
		if len(out) > len(s) {
			t.Fatalf("unescapeOctal(%q) = %q grew", s, out)
		}
		if !strings.Contains(s, `\`) && out != s {
			t.Fatalf("unescapeOctal(%q) = %q changed a string without escapes", s, out)
		}
		// Escaping every backslash back gives an input that round-trips.
		var esc strings.Builder
		for _, c := range []byte(out) {
			if c == '\\' || c == ' ' || c == '\t' || c == '\n' {
				esc.WriteString(`\` + strconv.FormatInt(int64(c)+01000, 8)[1:])
				continue
			}
			esc.WriteByte(c)
		}
		if again, err := unescapeOctal(esc.String()); err != nil || again != out {
			t.Fatalf("round trip of %q: %q, %v", out, again, err)
		}
	})
}

func FuzzParseProcCgroupLine(f *testing.F) {
	f.Add("0::/")
	f.Add("4:memory:/process_api/06d184caec48941cea4f73a3c3e37b71")
	f.Add("2:cpu,cpuacct:/docker/0123:with:colons")
	f.Fuzz(func(t *testing.T, line string) {
		pc, err := parseProcCgroupLine(line)
		if err != nil {
			return
		}
		if got := pc.id + ":" + pc.controllers + ":" + pc.path; got != strings.TrimRight(line, "\n") {
			t.Fatalf("fields of %q rejoin to %q", line, got)
		}
		if !strings.HasPrefix(pc.path, "/") {
			t.Fatalf("accepted relative path %q", pc.path)
		}
	})
}

func FuzzParseCPUMax(f *testing.F) {
	f.Add([]byte("max 100000\n"))
	f.Add([]byte("150000 100000\n"))
	f.Add([]byte("50000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, p, lim, err := parseCPUMax(b)
		if err != nil {
			return
		}
		if p <= 0 || (lim && q <= 0) || (!lim && q != 0) {
			t.Fatalf("parseCPUMax(%q) = %d, %d, %v", b, q, p, lim)
		}
		if lim {
			q2, p2, lim2, err := parseCPUMax([]byte(strconv.FormatInt(q, 10) + " " + strconv.FormatInt(p, 10) + "\n"))
			if err != nil || q2 != q || p2 != p || !lim2 {
				t.Fatalf("round trip of %d %d: %d %d %v %v", q, p, q2, p2, lim2, err)
			}
		}
	})
}

func FuzzParseCFSValue(f *testing.F) {
	f.Add([]byte("-1\n"))
	f.Add([]byte("100000\n"))
	f.Add([]byte("150000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseCFSValue(b)
		if err != nil {
			return
		}
		if v2, err := parseCFSValue([]byte(strconv.FormatInt(v, 10) + "\n")); err != nil || v2 != v {
			t.Fatalf("round trip of %d: %d, %v", v, v2, err)
		}
	})
}

func FuzzParseMemoryValue(f *testing.F) {
	f.Add([]byte("max\n"))
	f.Add([]byte("9223372036854771712\n"))
	f.Add([]byte("9223372036854710272\n"))
	f.Add([]byte("314572800\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, lim, err := parseMemoryValue(b)
		if err != nil {
			return
		}
		if lim && v >= unlimitedMemory || !lim && v != 0 {
			t.Fatalf("parseMemoryValue(%q) = %d, %v", b, v, lim)
		}
		if lim {
			if v2, lim2, err := parseMemoryValue([]byte(strconv.FormatUint(v, 10))); err != nil || v2 != v || !lim2 {
				t.Fatalf("round trip of %d: %d %v %v", v, v2, lim2, err)
			}
		}
	})
}

func FuzzParseMemoryStat(f *testing.F) {
	f.Add([]byte("cache 0\nrss 1\nhierarchical_memory_limit 9223372036854771712\nhierarchical_memsw_limit 9223372036854771712\n"))
	f.Add([]byte("hierarchical_memory_limit 268435456"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, lim, found, err := parseMemoryStatKey(b, "hierarchical_memory_limit")
		if !found && (err != nil || lim || v != 0) {
			t.Fatalf("not found but %d %v %v", v, lim, err)
		}
		if found && err == nil && !strings.Contains(string(b), "hierarchical_memory_limit ") {
			t.Fatalf("found a key that is not in %q", b)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	f.Add([]byte("0-1\n"))
	f.Add([]byte("0-3,8,10-11\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseCPUList(b)
		if err == nil && n < 1 {
			t.Fatalf("parseCPUList(%q) = %d", b, n)
		}
	})
}

// refCPUStat is the obvious, allocating parser parseCPUStat must agree with.
func refCPUStat(b []byte) (Stats, bool, bool) {
	var s Stats
	valid := false
	var havePeriods, haveNS, haveUS bool
	var ns, us uint64
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimRight(v, " \r\t"), 10, 64)
		if err != nil {
			continue
		}
		valid = true
		switch k {
		case "nr_periods":
			s.Periods, havePeriods = n, true
		case "nr_throttled":
			s.ThrottledPeriods = n
		case "throttled_time":
			ns, haveNS = n, true
		case "throttled_usec":
			us, haveUS = n, true
		}
	}
	if !havePeriods {
		return Stats{}, false, valid
	}
	switch {
	case haveNS:
		s.ThrottledTime = time.Duration(min(ns, 1<<63-1))
	case haveUS:
		s.ThrottledTime = time.Duration(min(us, (1<<63-1)/1000) * 1000)
		if us > (1<<63-1)/1000 {
			s.ThrottledTime = 1<<63 - 1
		}
	}
	return s, true, true
}

func FuzzParseCPUStat(f *testing.F) {
	f.Add([]byte("nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"))
	f.Add([]byte("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 500\nnr_throttled 42\nthrottled_usec 1500000\nnr_bursts 0\nburst_usec 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Stats
		ok, valid := parseCPUStat(b, &got)
		want, wantOK, wantValid := refCPUStat(b)
		if ok != wantOK || valid != wantValid || (ok && got != want) {
			t.Fatalf("parseCPUStat(%q) = %+v, %v, %v; reference says %+v, %v, %v", b, got, ok, valid, want, wantOK, wantValid)
		}
	})
}

// FuzzRead feeds arbitrary /proc/self/cgroup, mountinfo and limit files
// through the whole of Read: it must never panic (Read's recover would turn
// a panic into an "internal error" warning, which fails here).
func FuzzRead(f *testing.F) {
	f.Add([]byte("0::/a\n"), []byte("1 2 0:3 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), []byte("150000 100000\n"), []byte("max\n"))
	f.Add([]byte("2:cpu,cpuacct:/a\n3:memory:/a\n"), []byte("1 2 0:3 /a /c rw - cgroup cgroup rw,cpu,cpuacct\n1 2 0:4 / /m rw - cgroup cgroup rw,memory\n"), []byte("-1\n"), []byte("9223372036854771712\n"))
	f.Fuzz(func(t *testing.T, cg, mi, cpu, mem []byte) {
		read := withReadFile(func(name string) ([]byte, error) {
			name = filepath.ToSlash(name)
			switch {
			case strings.HasSuffix(name, "/proc/self/cgroup"):
				return cg, nil
			case strings.HasSuffix(name, "/proc/self/mountinfo"):
				return mi, nil
			case strings.HasSuffix(name, "/cpu.max"), strings.HasSuffix(name, "/cpu.cfs_quota_us"), strings.HasSuffix(name, "/cpu.cfs_period_us"):
				return cpu, nil
			case strings.HasSuffix(name, "/memory.max"), strings.HasSuffix(name, "/memory.limit_in_bytes"), strings.HasSuffix(name, "/memory.stat"), strings.HasSuffix(name, "/memory.high"):
				return mem, nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
		})
		l := Read(WithRoot("/nonexistent-fuzz-root"), read, withAffinity(1))
		for _, w := range l.Warnings {
			if strings.Contains(w, "internal error") {
				t.Fatal(w)
			}
		}
		if l.CPU.Limited && l.CPU.Quota <= 0 || l.Memory.Limited && l.Memory.Max == 0 {
			t.Fatalf("limited with no value: %+v", l)
		}
	})
}
