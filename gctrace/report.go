package gctrace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// textRows is the number of rows in the text report's heap table.
const textRows = 12

// WriteText writes the summary as a short report for people: counts, CPU,
// pauses, heap, a table of the heap over time and the hints. It returns the
// first write error.
func (s *Summary) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	in := s.Input
	p("input: %d lines: %d runtime trace, %d other, %d malformed", in.Lines, in.Trace, in.Other, in.Malformed)
	if n := in.Embedded + in.Repaired; n > 0 {
		p(" (%d gc lines untangled from the program's output)", n)
	}
	p("\n")
	if s.Cycles == 0 {
		p("no GC cycles\n")
	} else {
		p("cycles: %d (gc %d–%d", s.Cycles, s.FirstCycle, s.LastCycle)
		if s.Missing > 0 {
			p(", %d missing", s.Missing)
		}
		if s.Restarts > 0 {
			p(", numbering restarted %d times", s.Restarts)
		}
		p(") over %s, %.2f/s; %d forced, %d periodic", fmtDur(s.End-s.Start), s.CyclesPerSecond, s.Forced, s.Periodic)
		if s.LeakChecks > 0 {
			p(", %d goroutine leak checks", s.LeakChecks)
		}
		p("\n")
		p("GC CPU: %d%% of available CPU since start (runtime's figure); GOMAXPROCS %s\n", s.GCCPUPercent, procs(s.ProcsMin, s.ProcsMax))
		mark := s.AssistCPU + s.BackgroundCPU + s.IdleCPU
		p("GC CPU time: %s total: STW %s, mark %s (assist %s, background %s, idle %s)\n",
			fmtDur(mark+s.SweepTermCPU+s.MarkTermCPU), fmtDur(s.SweepTermCPU+s.MarkTermCPU), fmtDur(mark),
			pct(s.AssistCPU, mark), pct(s.BackgroundCPU, mark), pct(s.IdleCPU, mark))
		p("STW pause per cycle: p50 %s, p90 %s, p99 %s, max %s, total %s\n",
			fmtDur(s.Pause.P50), fmtDur(s.Pause.P90), fmtDur(s.Pause.P99), fmtDur(s.Pause.Max), fmtDur(s.Pause.Total))
		p("concurrent mark: p50 %s, p90 %s, max %s\n", fmtDur(s.Mark.P50), fmtDur(s.Mark.P90), fmtDur(s.Mark.Max))
		p("live heap: first %s, min %s, max %s, last %s; trend %s/s (r²=%.2f)\n",
			mib(s.LiveFirst), mib(s.LiveMin), mib(s.LiveMax), mib(s.LiveLast), signedMiB(s.LiveGrowth), s.LiveGrowthR2)
		p("heap goal: last %s, max %s; peak heap %s; %d cycles pinned at the goal, %d overran the goal\n",
			mib(s.GoalLast), mib(s.GoalMax), mib(s.PeakHeap), s.PinnedCycles, s.OverrunCycles)
		if s.MemoryLimit > 0 {
			p("memory limit: %s (goal peaked at %.0f%% of it)\n", mib(uint64(s.MemoryLimit)), 100*float64(s.GoalMax)/float64(s.MemoryLimit))
		}
		if s.StacksLast > 0 || s.GlobalsLast > 0 {
			p("scannable roots (last cycle): stacks %s, globals %s\n", mib(s.StacksLast), mib(s.GlobalsLast))
		}
	}
	if s.ScavLines > 0 {
		p("scavenger: %d lines, %s returned to the OS, %s released at the end, %d forced\n", s.ScavLines, mib(s.ScavWork), mib(s.ScavReleased), s.ScavForced)
	}
	if s.ScanLines > 0 {
		p("scan statistics (gctrace=2): %d lines\n", s.ScanLines)
	}
	if rows := resample(s.Points, textRows); len(rows) > 0 {
		// Several runs: each row says its run, and the rows stay in input
		// order (each run's time counts from its own start).
		runs := s.Restarts > 0
		if runs {
			p("\n%4s", "run")
		} else {
			p("\n")
		}
		p("%10s %8s %10s %10s %10s %9s\n", "time", "cycles", "live", "goal", "at start", "max STW")
		for _, r := range rows {
			if runs {
				p("%4d", r.Run+1)
			}
			p("%10s %8d %10s %10s %10s %9s\n", fmtSeconds(r.At), r.Cycles, mib(r.HeapLive), mib(r.HeapGoal), mib(r.HeapStart), fmtDur(r.Pause))
		}
	}
	if len(s.Hints) > 0 {
		p("\nhints:\n")
		for _, h := range s.Hints {
			p("- [%s] %s\n", h.ID, h.Text)
		}
	}
	return b.Flush()
}

// resample merges points into about n rows, in order, never merging two
// runs into one row while there are at most n runs (each run gets rows in
// proportion to its points, at least one).
func resample(ps []Point, n int) []Point {
	if len(ps) <= n {
		return ps
	}
	var runs [][]Point
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].Run == ps[i].Run {
			j++
		}
		runs = append(runs, ps[i:j])
		i = j
	}
	if len(runs) == 1 || len(runs) > n {
		return spread(ps, n)
	}
	out := make([]Point, 0, n+len(runs))
	for _, r := range runs {
		out = append(out, spread(r, max(1, n*len(r)/len(ps)))...)
	}
	return out
}

// spread merges ps into at most n rows of consecutive points.
func spread(ps []Point, n int) []Point {
	if len(ps) <= n {
		return ps
	}
	out := make([]Point, 0, n)
	for i := range n {
		lo, hi := i*len(ps)/n, (i+1)*len(ps)/n
		r := ps[lo]
		for _, q := range ps[lo+1 : hi] {
			r = mergePoint(r, q)
		}
		out = append(out, r)
	}
	return out
}

func procs(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

func pct(part, whole time.Duration) string {
	if whole <= 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}

// mib formats a byte count in binary units. The runtime prints whole MiB
// (calling them MB), so most values are whole MiB.
func mib(b uint64) string {
	switch {
	case b >= 10<<30:
		return fmt.Sprintf("%.0f GiB", float64(b)/(1<<30))
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

func signedMiB(v float64) string {
	if v < 0 {
		return "-" + mib(uint64(-v))
	}
	return "+" + mib(uint64(v))
}

// fmtDur formats a duration in milliseconds or seconds with at most three
// significant digits, like the runtime's own lines.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", ms(d))
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", ms(d))
	}
	if d < time.Microsecond {
		return strconv.FormatFloat(ms(d), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(ms(d), 'g', 3, 64) + "ms"
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type jsonDist struct {
	N     int64   `json:"n"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Total float64 `json:"total"`
}

func toJSONDist(d Distribution) jsonDist {
	return jsonDist{d.N, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Total)}
}

type jsonPoint struct {
	At        float64 `json:"at_s"`
	Cycles    int     `json:"cycles"`
	Forced    int     `json:"forced"`
	HeapStart uint64  `json:"heap_start_bytes"`
	HeapLive  uint64  `json:"heap_live_bytes"`
	HeapGoal  uint64  `json:"heap_goal_bytes"`
	Pause     float64 `json:"pause_ms"`
	// Run is the point's run (0 first); left out for the first run, so
	// traces of one process keep their layout.
	Run int `json:"run,omitempty"`
}

type jsonSummary struct {
	Input           Stats   `json:"input"`
	Cycles          int64   `json:"cycles"`
	Forced          int64   `json:"forced"`
	Periodic        int64   `json:"periodic"`
	LeakChecks      int64   `json:"leak_checks"`
	FirstCycle      uint64  `json:"first_cycle"`
	LastCycle       uint64  `json:"last_cycle"`
	Missing         int64   `json:"missing"`
	Restarts        int64   `json:"restarts"`
	Start           float64 `json:"start_s"`
	End             float64 `json:"end_s"`
	CyclesPerSecond float64 `json:"cycles_per_second"`
	GCCPUPercent    int     `json:"gc_cpu_percent"`
	CPU             struct {
		SweepTerm  float64 `json:"sweep_term"`
		Assist     float64 `json:"assist"`
		Background float64 `json:"background"`
		Idle       float64 `json:"idle"`
		MarkTerm   float64 `json:"mark_term"`
	} `json:"cpu_ms"`
	Pause jsonDist `json:"pause_ms"`
	Mark  jsonDist `json:"mark_ms"`
	Heap  struct {
		LiveFirst     uint64  `json:"live_first_bytes"`
		LiveMin       uint64  `json:"live_min_bytes"`
		LiveMax       uint64  `json:"live_max_bytes"`
		LiveLast      uint64  `json:"live_last_bytes"`
		GoalLast      uint64  `json:"goal_last_bytes"`
		GoalMax       uint64  `json:"goal_max_bytes"`
		Peak          uint64  `json:"peak_bytes"`
		Growth        float64 `json:"live_growth_bytes_per_s"`
		GrowthR2      float64 `json:"live_growth_r2"`
		PinnedCycles  int64   `json:"pinned_cycles"`
		OverrunCycles int64   `json:"overrun_cycles"`
		Stacks        uint64  `json:"stacks_last_bytes"`
		Globals       uint64  `json:"globals_last_bytes"`
	} `json:"heap"`
	ProcsMin    int   `json:"procs_min"`
	ProcsMax    int   `json:"procs_max"`
	MemoryLimit int64 `json:"memory_limit_bytes"`
	Scavenger   struct {
		Lines    int64  `json:"lines"`
		Forced   int64  `json:"forced"`
		Work     uint64 `json:"work_bytes"`
		Released uint64 `json:"released_bytes"`
	} `json:"scavenger"`
	ScanLines int64       `json:"scan_lines"`
	Points    []jsonPoint `json:"points"`
	Hints     []Hint      `json:"hints"`
}

// MarshalJSON encodes the summary with durations in milliseconds (or
// seconds for times since start, fields ending in _s) and sizes in bytes,
// in snake_case fields. The schema is stable.
func (s *Summary) MarshalJSON() ([]byte, error) {
	var j jsonSummary
	j.Input = s.Input
	j.Cycles, j.Forced, j.Periodic, j.LeakChecks = s.Cycles, s.Forced, s.Periodic, s.LeakChecks
	j.FirstCycle, j.LastCycle, j.Missing, j.Restarts = s.FirstCycle, s.LastCycle, s.Missing, s.Restarts
	j.Start, j.End = s.Start.Seconds(), s.End.Seconds()
	j.CyclesPerSecond = round(s.CyclesPerSecond, 4)
	j.GCCPUPercent = s.GCCPUPercent
	j.CPU.SweepTerm, j.CPU.Assist, j.CPU.Background = ms(s.SweepTermCPU), ms(s.AssistCPU), ms(s.BackgroundCPU)
	j.CPU.Idle, j.CPU.MarkTerm = ms(s.IdleCPU), ms(s.MarkTermCPU)
	j.Pause, j.Mark = toJSONDist(s.Pause), toJSONDist(s.Mark)
	h := &j.Heap
	h.LiveFirst, h.LiveMin, h.LiveMax, h.LiveLast = s.LiveFirst, s.LiveMin, s.LiveMax, s.LiveLast
	h.GoalLast, h.GoalMax, h.Peak = s.GoalLast, s.GoalMax, s.PeakHeap
	h.Growth, h.GrowthR2 = round(s.LiveGrowth, 0), round(s.LiveGrowthR2, 4)
	h.PinnedCycles, h.OverrunCycles = s.PinnedCycles, s.OverrunCycles
	h.Stacks, h.Globals = s.StacksLast, s.GlobalsLast
	j.ProcsMin, j.ProcsMax, j.MemoryLimit = s.ProcsMin, s.ProcsMax, s.MemoryLimit
	j.Scavenger.Lines, j.Scavenger.Forced = s.ScavLines, s.ScavForced
	j.Scavenger.Work, j.Scavenger.Released = s.ScavWork, s.ScavReleased
	j.ScanLines = s.ScanLines
	j.Points = make([]jsonPoint, len(s.Points))
	for i, p := range s.Points {
		j.Points[i] = jsonPoint{p.At.Seconds(), p.Cycles, p.Forced, p.HeapStart, p.HeapLive, p.HeapGoal, ms(p.Pause), p.Run}
	}
	j.Hints = s.Hints
	if j.Hints == nil {
		j.Hints = []Hint{}
	}
	return json.Marshal(&j)
}

// round rounds v to the given number of decimal places, so the JSON does not
// depend on the last bits of floating-point sums.
func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+copysignHalf(v))) / p
}

func copysignHalf(v float64) float64 {
	if v < 0 {
		return -0.5
	}
	return 0.5
}
