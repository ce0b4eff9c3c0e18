// Package cgroup_test compares vitals' cgroup.StatReader (files kept open,
// pread, no allocation) with the usual way of sampling cgroup counters:
// os.ReadFile and a line parser on every scrape.
package cgroup_test

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/govitals/vitals/cgroup"
)

// readFileStats is the common approach: open, read, close and parse with
// bufio and strings on every sample.
func readFileStats(cpuStat, memFile string, s *cgroup.Stats) error {
	*s = cgroup.Stats{}
	b, err := os.ReadFile(cpuStat)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "nr_periods":
			s.Periods, s.HaveCPU = v, true
		case "nr_throttled":
			s.ThrottledPeriods = v
		}
	}
	b, err = os.ReadFile(memFile)
	if err != nil {
		return err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return err
	}
	s.MemoryUsage, s.HaveMemory = v, true
	return nil
}

func BenchmarkCounters(b *testing.B) {
	r, err := cgroup.NewStatReader()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cpuStat, memFile := r.Paths()
	if cpuStat == "" || memFile == "" {
		b.Skip("no cgroup cpu.stat and memory usage file on this machine")
	}
	var want cgroup.Stats
	if err := r.Read(&want); err != nil {
		b.Fatal(err)
	}
	b.Run("vitals-StatReader", func(b *testing.B) {
		var s cgroup.Stats
		b.ReportAllocs()
		for b.Loop() {
			if err := r.Read(&s); err != nil {
				b.Fatal(err)
			}
		}
		if s.Periods < want.Periods {
			b.Fatalf("periods went backwards: %d < %d", s.Periods, want.Periods)
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		var s cgroup.Stats
		b.ReportAllocs()
		for b.Loop() {
			if err := readFileStats(cpuStat, memFile, &s); err != nil {
				b.Fatal(err)
			}
		}
		if s.Periods < want.Periods || s.MemoryUsage == 0 {
			b.Fatalf("os.ReadFile read %+v", s)
		}
	})
}
