package gctrace

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// healthy returns cycle i (from 1) of a calm service: one cycle a second,
// 50 MiB live of a 100 MiB goal, 0.1ms pauses, background marking, 1% CPU.
func healthy(i int) Cycle {
	return Cycle{
		Num: uint64(i), At: time.Duration(i) * time.Second, CPUPercent: 1,
		SweepTerm: 50 * time.Microsecond, Mark: 2 * time.Millisecond, MarkTerm: 50 * time.Microsecond,
		SweepTermCPU: 100 * time.Microsecond, AssistCPU: 100 * time.Microsecond, BackgroundCPU: 3 * time.Millisecond,
		IdleCPU: 500 * time.Microsecond, MarkTermCPU: 100 * time.Microsecond,
		HeapStart: 98 << 20, HeapEnd: 100 << 20, HeapLive: 50 << 20, HeapGoal: 100 << 20, Procs: 4,
	}
}

func summarize(n int, change func(i int, c *Cycle), opts ...Option) *Summary {
	z := NewSummarizer(opts...)
	for i := 1; i <= n; i++ {
		c := healthy(i)
		if change != nil {
			change(i, &c)
		}
		z.Add(Record{Kind: KindGC, Cycle: c})
	}
	return z.Summary()
}

func TestHints(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		change func(i int, c *Cycle)
		opts   []Option
		want   []string
	}{
		{name: "healthy", n: 60},
		{name: "forced", n: 20, change: func(i int, c *Cycle) { c.Forced = i%3 == 0 }, want: []string{"forced-gc"}},
		{name: "one forced of many is fine", n: 60, change: func(i int, c *Cycle) { c.Forced = i == 7 }},
		{name: "gc cpu", n: 20, change: func(i int, c *Cycle) { c.CPUPercent = 15 }, want: []string{"gc-cpu"}},
		{name: "gc cpu in the first second is noise", n: 20, change: func(i int, c *Cycle) {
			c.CPUPercent = 30
			c.At = time.Duration(i) * time.Millisecond
		}},
		{name: "pinned with high cpu", n: 20, change: func(i int, c *Cycle) {
			c.CPUPercent = 25
			c.HeapLive = 90 << 20
		}, want: []string{"heap-pinned"}},
		{name: "pinned by a known limit", n: 20, opts: []Option{WithMemoryLimit(104 << 20)}, want: []string{"heap-pinned", "goal-at-limit"}},
		{name: "goal over the limit", n: 20, opts: []Option{WithMemoryLimit(90 << 20)}, want: []string{"heap-pinned", "over-limit"}},
		{name: "assists", n: 20, change: func(i int, c *Cycle) { c.AssistCPU = 3 * time.Millisecond }, want: []string{"assists"}},
		{name: "long pauses", n: 20, change: func(i int, c *Cycle) {
			if i == 5 {
				c.MarkTerm = 60 * time.Millisecond
			}
		}, want: []string{"long-pauses"}},
		{name: "frequent", n: 100, change: func(i int, c *Cycle) { c.At = time.Duration(i) * 20 * time.Millisecond }, want: []string{"frequent"}},
		{name: "live heap growing", n: 30, change: func(i int, c *Cycle) {
			c.HeapLive = uint64(10+3*i) << 20
			c.HeapGoal = 2 * c.HeapLive
		}, want: []string{"live-growth"}},
		{name: "lost lines", n: 20, change: func(i int, c *Cycle) { c.Num = uint64(2 * i) }, want: []string{"lost-lines"}},
		{name: "several processes", n: 20, change: func(i int, c *Cycle) { c.Num = uint64(1 + i%5) }, want: []string{"several-processes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(tt.n, tt.change, tt.opts...)
			var got []string
			for _, h := range s.Hints {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("hint IDs (-want +got):\n%s\n%v", d, s.Hints)
			}
		})
	}
}

func TestNoGCLinesHint(t *testing.T) {
	z := NewSummarizer()
	s := z.Summary()
	if len(s.Hints) != 0 {
		t.Errorf("empty input: hints %v, want none", s.Hints)
	}
	s.Input.Lines = 5
	if hs := hints(s); len(hs) != 1 || hs[0].ID != "no-gctrace" {
		t.Errorf("hints = %v, want no-gctrace", hs)
	}
}

func TestDistribution(t *testing.T) {
	var h histogram
	for i := 100; i >= 1; i-- {
		h.add(time.Duration(i) * time.Microsecond)
	}
	got := h.dist()
	want := Distribution{N: 100, P50: 50 * time.Microsecond, P90: 90 * time.Microsecond, P99: 99 * time.Microsecond,
		Max: 100 * time.Microsecond, Total: 5050 * time.Microsecond}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Three significant digits: 123456ns lands in the 123000ns bucket.
	var h2 histogram
	h2.add(123456)
	h2.add(200000)
	if p := h2.dist().P50; p != 123000 {
		t.Errorf("P50 = %d, want 123000", p)
	}
}

func TestPointsBounded(t *testing.T) {
	const n = 1000
	s := summarize(n, func(i int, c *Cycle) {
		if i == 777 {
			c.MarkTerm = 9 * time.Millisecond
			c.HeapLive = 99 << 20
		}
	}, WithMaxPoints(16))
	if len(s.Points) > 16 {
		t.Fatalf("%d points, want at most 16", len(s.Points))
	}
	total, maxPause, maxLive := 0, time.Duration(0), uint64(0)
	for i, p := range s.Points {
		total += p.Cycles
		maxPause = max(maxPause, p.Pause)
		maxLive = max(maxLive, p.HeapLive)
		if i > 0 && p.At <= s.Points[i-1].At {
			t.Errorf("points out of order at %d", i)
		}
	}
	if total != n {
		t.Errorf("points cover %d cycles, want %d", total, n)
	}
	if maxPause != 9*time.Millisecond+50*time.Microsecond || maxLive != 99<<20 {
		t.Errorf("merging lost the peak: pause %v, live %d", maxPause, maxLive)
	}
}

func TestSummaryCounts(t *testing.T) {
	z := NewSummarizer()
	z.Add(Record{Kind: KindScav, Scav: Scav{Work: 4 << 10, Released: 8 << 10}})
	z.Add(Record{Kind: KindScvg, Scav: Scav{Gen: -1, Work: 1 << 20}})
	z.Add(Record{Kind: KindScan, Scan: Scan{Class: "total", Objs: 3}})
	z.Add(Record{Kind: KindForced})
	for i := 1; i <= 3; i++ {
		c := healthy(i)
		c.Periodic = i == 2
		c.CheckingLeaks = i == 3
		z.Add(Record{Kind: KindGC, Cycle: c})
	}
	s := z.Summary()
	if s.ScavLines != 2 || s.ScavWork != 4<<10+1<<20 || s.ScavForced != 1 || s.ScavReleased != 8<<10 || s.ScanLines != 1 {
		t.Errorf("scavenger/scan counts: %d lines, %d work, %d forced, %d released, %d scan", s.ScavLines, s.ScavWork, s.ScavForced, s.ScavReleased, s.ScanLines)
	}
	if s.Cycles != 3 || s.Periodic != 1 || s.LeakChecks != 1 || s.CyclesPerSecond != 1 {
		t.Errorf("cycles %d, periodic %d, leak checks %d, rate %v", s.Cycles, s.Periodic, s.LeakChecks, s.CyclesPerSecond)
	}
	if s.LiveGrowth != 0 || s.ProcsMin != 4 || s.ProcsMax != 4 {
		t.Errorf("growth %v, procs %d–%d", s.LiveGrowth, s.ProcsMin, s.ProcsMax)
	}
}

func TestWithRecordFunc(t *testing.T) {
	in := "x\n" + gc1 + "\nscav 512 KiB work, 2048 KiB total, 87% util\n" + gc2 + "\n"
	var lines []string
	s, err := Summarize(strings.NewReader(in), WithRecordFunc(func(r Record) {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Cycles != 2 || len(lines) != 3 {
		t.Fatalf("%d cycles, %d records", s.Cycles, len(lines))
	}
	want := []string{
		`{"kind":"gc","line":2,"gc":{"num":1,"at_ns":0,"cpu_percent":19,"sweep_term_ns":390000,"mark_ns":190000,"mark_term_ns":5000,"sweep_term_cpu_ns":780000,"assist_cpu_ns":130000,"background_cpu_ns":0,"idle_cpu_ns":0,"mark_term_cpu_ns":10000,"heap_start_bytes":3145728,"heap_end_bytes":4194304,"heap_live_bytes":3145728,"heap_goal_bytes":4194304,"stacks_bytes":0,"globals_bytes":0,"has_scan_sizes":true,"procs":2}}`,
		`{"kind":"scav","line":3,"scav":{"work_bytes":524288,"released_bytes":2097152,"util_percent":87}}`,
	}
	if d := cmp.Diff(want, lines[:2]); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}
