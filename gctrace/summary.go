package gctrace

import (
	"errors"
	"io"
	"math"
	"slices"
	"time"
)

// Summary is what a run's trace says about its garbage collector. Heap sizes
// are bytes (whole MiB, as printed); durations are as printed by the runtime.
type Summary struct {
	// Input counts the lines read; set by [Summarize] and [Run].
	Input Stats

	// Cycles is the number of gc lines; Forced and Periodic count those
	// started by runtime.GC (or debug.FreeOSMemory) and by sysmon's
	// two-minute timer. LeakChecks counts goroutine leak detection cycles.
	Cycles, Forced, Periodic, LeakChecks int64
	// FirstCycle and LastCycle are the first and last GC numbers seen.
	// Missing is the number of cycle numbers between them without a line
	// (lost or damaged output).
	FirstCycle, LastCycle uint64
	Missing               int64
	// Restarts counts gc lines whose number is not above the previous
	// one: the input mixes several Go processes (a program that starts Go
	// children, "go run" tracing the compiler too) or several runs.
	Restarts int64
	// Start and End are the times since program start of the first and
	// last cycle seen.
	Start, End time.Duration
	// CyclesPerSecond is the rate of cycles between Start and End.
	CyclesPerSecond float64
	// GCCPUPercent is the runtime's own figure for the share of CPU spent in
	// GC since program start, from the last gc line.
	GCCPUPercent int
	// SweepTermCPU … MarkTermCPU total each CPU phase over all cycles.
	SweepTermCPU, AssistCPU, BackgroundCPU, IdleCPU, MarkTermCPU time.Duration

	// Pause is the distribution of stop-the-world time per cycle (sweep
	// termination plus mark termination wall time); Mark that of the
	// concurrent mark phase's wall time.
	Pause, Mark Distribution

	// LiveFirst … LiveLast describe the live (marked) heap after each cycle.
	LiveFirst, LiveMin, LiveMax, LiveLast uint64
	// GoalLast and GoalMax describe the heap goal; PeakHeap is the largest
	// heap size at the start or end of any cycle.
	GoalLast, GoalMax, PeakHeap uint64
	// LiveGrowth is the least-squares slope of the live heap over time, in
	// bytes per second, and LiveGrowthR2 how well a line fits (0–1).
	LiveGrowth, LiveGrowthR2 float64
	// PinnedCycles counts cycles whose heap is pinned at its goal: the
	// goal is at least 80% of a known memory limit, or the live heap is at
	// least 70% of the goal (with GOGC=100 alone it is about 50%, so the
	// goal is then set by the memory limit or a very low GOGC). Only goals
	// of 8 MiB or more count for the second rule, because MiB rounding
	// makes small heaps look pinned.
	// OverrunCycles counts cycles that ended above their goal.
	PinnedCycles, OverrunCycles int64
	// ProcsMin and ProcsMax are the smallest and largest P counts seen.
	ProcsMin, ProcsMax int
	// StacksLast and GlobalsLast are the scannable stack and global sizes
	// of the last cycle (Go 1.18+ lines).
	StacksLast, GlobalsLast uint64

	// MemoryLimit is the memory limit given with [WithMemoryLimit], or 0.
	MemoryLimit int64

	// ScavLines counts scavenger lines; ScavWork totals the memory they
	// report returned to the OS; ScavReleased is the released total of the
	// last line; ScavForced counts debug.FreeOSMemory lines.
	ScavLines, ScavForced  int64
	ScavWork, ScavReleased uint64
	// ScanLines counts gctrace=2 "scan:" lines.
	ScanLines int64

	// Points is the heap and pause series over time, at most the
	// [WithMaxPoints] number of points.
	Points []Point
	// Hints are the conclusions drawn, most important first.
	Hints []Hint
}

// Distribution summarizes a set of durations. Percentiles are accurate to
// within 1% (the histogram keeps three significant digits; the runtime
// prints two).
type Distribution struct {
	// N is the number of values and Total their sum.
	N     int64
	Total time.Duration
	// P50, P90 and P99 are percentiles: the smallest value that at least
	// that share of the values do not exceed. Max is the largest value.
	P50, P90, P99, Max time.Duration
}

// Point is one or more consecutive cycles merged for plotting. The sizes and
// Pause are maxima over the merged cycles.
type Point struct {
	// Run numbers the process or run the cycles belong to: 0 for the
	// first, one more at each restart of the gc numbers ([Summary.Restarts]).
	// Cycles of different runs are never merged into one point (unless
	// there are more runs than [WithMaxPoints] allows points).
	Run int
	// At is the time since program start of the first merged cycle (each
	// run counts from its own start).
	At time.Duration
	// Cycles is how many cycles were merged; Forced how many were forced.
	Cycles, Forced int
	// HeapStart, HeapLive and HeapGoal are the largest of each.
	HeapStart, HeapLive, HeapGoal uint64
	// Pause is the longest stop-the-world time.
	Pause time.Duration
}

// Hint is one conclusion from the trace, with what to do about it. ID is
// stable (for tests and tools); Text is for people.
type Hint struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Summarizer accumulates records into a [Summary]. Its memory is bounded:
// a pause histogram of at most a few thousand buckets and the point series
// capped by [WithMaxPoints]. Add costs O(1) amortized. A Summarizer is not
// safe for concurrent use.
type Summarizer struct {
	cfg         config
	s           Summary
	pause, mark histogram
	reg         regression
	points      []Point
	stride      int // cycles per point
	cur         Point
	haveCycle   bool
	run         int // current run: restarts so far
}

// NewSummarizer returns an empty Summarizer. It uses the [WithMemoryLimit]
// and [WithMaxPoints] options.
func NewSummarizer(opts ...Option) *Summarizer {
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	if c.maxPoints == 0 {
		c.maxPoints = 1024
	}
	c.maxPoints = max(c.maxPoints, 16)
	return &Summarizer{cfg: c, stride: 1}
}

// Add adds one record.
func (z *Summarizer) Add(rec Record) {
	s := &z.s
	switch rec.Kind {
	case KindScav, KindScvg:
		s.ScavLines++
		s.ScavWork += rec.Scav.Work
		if rec.Scav.Forced || rec.Scav.Gen == -1 {
			s.ScavForced++
		}
		if rec.Kind == KindScav || rec.Scav.HasHeapStats {
			s.ScavReleased = rec.Scav.Released
		}
		return
	case KindScan:
		s.ScanLines++
		return
	case KindGC:
	default:
		return
	}
	c := &rec.Cycle
	if !z.haveCycle {
		z.haveCycle = true
		s.FirstCycle, s.Start = c.Num, c.At
		s.LiveFirst, s.LiveMin = c.HeapLive, c.HeapLive
		s.ProcsMin = c.Procs
	} else if c.Num <= s.LastCycle {
		s.Restarts++
		z.run++
	} else if c.Num-s.LastCycle-1 < 1<<40 {
		s.Missing += int64(c.Num - s.LastCycle - 1)
	}
	s.Cycles++
	s.LastCycle, s.End = c.Num, c.At
	if c.Forced {
		s.Forced++
	}
	if c.Periodic {
		s.Periodic++
	}
	if c.CheckingLeaks {
		s.LeakChecks++
	}
	s.GCCPUPercent = c.CPUPercent
	s.SweepTermCPU += c.SweepTermCPU
	s.AssistCPU += c.AssistCPU
	s.BackgroundCPU += c.BackgroundCPU
	s.IdleCPU += c.IdleCPU
	s.MarkTermCPU += c.MarkTermCPU
	z.pause.add(c.Pause())
	z.mark.add(c.Mark)
	s.LiveMin = min(s.LiveMin, c.HeapLive)
	s.LiveMax = max(s.LiveMax, c.HeapLive)
	s.LiveLast = c.HeapLive
	s.GoalLast = c.HeapGoal
	s.GoalMax = max(s.GoalMax, c.HeapGoal)
	s.PeakHeap = max(s.PeakHeap, c.HeapStart, c.HeapEnd)
	if lim := z.cfg.memoryLimit; (lim > 0 && c.HeapGoal*10 >= uint64(lim)*8) ||
		(c.HeapGoal >= 8<<20 && c.HeapLive*10 >= c.HeapGoal*7) {
		s.PinnedCycles++
	}
	if c.HeapEnd > c.HeapGoal {
		s.OverrunCycles++
	}
	s.ProcsMin = min(s.ProcsMin, c.Procs)
	s.ProcsMax = max(s.ProcsMax, c.Procs)
	if c.HasScanSizes {
		s.StacksLast, s.GlobalsLast = c.Stacks, c.Globals
	}
	z.reg.add((c.At - s.Start).Seconds(), float64(c.HeapLive)-float64(s.LiveFirst))
	z.addPoint(c)
}

func (z *Summarizer) addPoint(c *Cycle) {
	p := &z.cur
	if p.Cycles > 0 && p.Run != z.run {
		// A new run: the point under way belongs to the last one.
		z.appendPoint(*p)
		*p = Point{}
	}
	if p.Cycles == 0 {
		*p = Point{Run: z.run, At: c.At}
	}
	p.Cycles++
	if c.Forced {
		p.Forced++
	}
	p.HeapStart = max(p.HeapStart, c.HeapStart)
	p.HeapLive = max(p.HeapLive, c.HeapLive)
	p.HeapGoal = max(p.HeapGoal, c.HeapGoal)
	p.Pause = max(p.Pause, c.Pause())
	if p.Cycles < z.stride {
		return
	}
	z.appendPoint(*p)
	z.cur = Point{}
}

func (z *Summarizer) appendPoint(p Point) {
	z.points = append(z.points, p)
	if len(z.points) >= z.cfg.maxPoints {
		z.points = mergePairs(z.points, false)
		if len(z.points) >= z.cfg.maxPoints*3/4 {
			// Mostly one-point runs: merging within runs does not
			// shrink the series, so bound it across them.
			z.points = mergePairs(z.points, true)
		}
		z.stride *= 2
	}
}

// mergePairs halves a series by merging neighbours, in place; neighbours
// of different runs only when acrossRuns.
func mergePairs(ps []Point, acrossRuns bool) []Point {
	n := 0
	for i := 0; i < len(ps); {
		p := ps[i]
		if i+1 < len(ps) && (acrossRuns || ps[i+1].Run == p.Run) {
			p = mergePoint(p, ps[i+1])
			i += 2
		} else {
			i++
		}
		ps[n] = p
		n++
	}
	return ps[:n]
}

// mergePoint merges q, which follows p, into p.
func mergePoint(p, q Point) Point {
	p.Cycles += q.Cycles
	p.Forced += q.Forced
	p.HeapStart = max(p.HeapStart, q.HeapStart)
	p.HeapLive = max(p.HeapLive, q.HeapLive)
	p.HeapGoal = max(p.HeapGoal, q.HeapGoal)
	p.Pause = max(p.Pause, q.Pause)
	return p
}

// Summary returns the summary of the records added so far, with hints. It
// copies the point series, so the Summarizer can go on.
func (z *Summarizer) Summary() *Summary {
	s := z.s
	s.MemoryLimit = max(z.cfg.memoryLimit, 0)
	s.Points = slices.Clone(z.points)
	if z.cur.Cycles > 0 {
		s.Points = append(s.Points, z.cur)
	}
	s.Pause = z.pause.dist()
	s.Mark = z.mark.dist()
	if span := (s.End - s.Start).Seconds(); s.Cycles > 1 && span > 0 {
		s.CyclesPerSecond = float64(s.Cycles-1) / span
	}
	s.LiveGrowth, s.LiveGrowthR2 = z.reg.fit()
	s.Hints = hints(&s)
	return &s
}

// Summarize reads a whole trace from r and summarizes it. It takes the
// options of [NewReader] and [NewSummarizer], and [WithRecordFunc]. Memory use is constant in the
// input size. The only error is one reading r.
func Summarize(r io.Reader, opts ...Option) (*Summary, error) {
	rd := NewReader(r, opts...)
	z := NewSummarizer(opts...)
	f := z.cfg.onRecord
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s := z.Summary()
			s.Input = rd.Stats()
			return s, err
		}
		if f != nil {
			f(rec)
		}
		z.Add(rec)
	}
	s := z.Summary()
	s.Input = rd.Stats()
	return s, nil
}

// histogram counts durations in buckets of three significant digits, so it
// has at most 900 buckets per decade of nanoseconds.
type histogram struct {
	counts map[uint32]int64
	n      int64
	total  time.Duration
	max    time.Duration
}

func bucketOf(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	v, e := uint64(d), uint32(0)
	for v >= 1000 {
		v /= 10
		e++
	}
	return e<<10 | uint32(v)
}

func bucketValue(b uint32) time.Duration {
	v := uint64(b & 1023)
	for e := b >> 10; e > 0; e-- {
		v *= 10
	}
	return time.Duration(v)
}

func (h *histogram) add(d time.Duration) {
	if h.counts == nil {
		h.counts = make(map[uint32]int64)
	}
	h.counts[bucketOf(d)]++
	h.n++
	h.total += d
	h.max = max(h.max, d)
}

func (h *histogram) dist() Distribution {
	d := Distribution{N: h.n, Total: h.total, Max: h.max}
	if h.n == 0 {
		return d
	}
	keys := make([]uint32, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	q := func(p float64) time.Duration {
		rank := int64(math.Ceil(p * float64(h.n)))
		rank = max(rank, 1)
		var seen int64
		for _, k := range keys {
			seen += h.counts[k]
			if seen >= rank {
				return min(bucketValue(k), h.max)
			}
		}
		return h.max
	}
	d.P50, d.P90, d.P99 = q(0.50), q(0.90), q(0.99)
	return d
}

// regression is a streaming least-squares fit of y over x.
type regression struct {
	n, sx, sy, sxx, sxy, syy float64
}

func (r *regression) add(x, y float64) {
	r.n++
	r.sx += x
	r.sy += y
	r.sxx += x * x
	r.sxy += x * y
	r.syy += y * y
}

// fit returns the slope and the coefficient of determination.
func (r *regression) fit() (slope, r2 float64) {
	if r.n < 2 {
		return 0, 0
	}
	vx := r.n*r.sxx - r.sx*r.sx
	vy := r.n*r.syy - r.sy*r.sy
	cov := r.n*r.sxy - r.sx*r.sy
	if vx <= 0 {
		return 0, 0
	}
	slope = cov / vx
	if vy > 0 {
		r2 = math.Min(1, cov*cov/(vx*vy))
	}
	if math.IsNaN(slope) || math.IsInf(slope, 0) {
		return 0, 0
	}
	return slope, r2
}
