package leak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/govitals/vitals/stacks"
)

// WatchdogOption configures [NewWatchdog]. Options are built only by this
// package.
type WatchdogOption interface{ applyWatchdog(*wdConfig) }

type wdOptionFunc func(*wdConfig)

func (f wdOptionFunc) applyWatchdog(c *wdConfig) { f(c) }

type wdConfig struct {
	interval     time.Duration
	warmUp       time.Duration
	window       int
	quantile     float64
	absSlack     int
	relSlack     float64
	suspectAfter int
	raises       int
	raiseDecay   int
	dumpEvery    time.Duration
	maxDump      int
	onReport     []func(Report)
	logger       *slog.Logger
	count        func() int
	dump         func() (*stacks.Dump, error)
	full         func() (*stacks.Dump, error)
	now          func() time.Time
}

// Watchdog defaults: see [NewWatchdog].
const (
	DefaultSampleEvery       = 10 * time.Second
	DefaultWarmUp            = 2 * time.Minute
	DefaultWindowSamples     = 30
	DefaultAbsSlack          = 50
	DefaultRelSlack          = 0.2
	DefaultSuspectAfter      = 3
	DefaultDumpEvery         = 15 * time.Minute
	DefaultMaxDumpGoroutines = 1000
)

// SampleEvery sets how often the goroutine count is read (default
// [DefaultSampleEvery]).
func SampleEvery(d time.Duration) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.interval = d })
}

// WarmUp sets how long after Start samples are ignored, while the service
// starts its pools and connections (default [DefaultWarmUp]).
func WarmUp(d time.Duration) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.warmUp = d })
}

// WindowSamples sets the samples per window (default
// [DefaultWindowSamples]: 5 minutes at the default rate). Each window is
// summarized by its 10th-percentile count, so load cycles shorter than a
// window never look like growth.
func WindowSamples(n int) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.window = n })
}

// Slack sets how far above the baseline the count must stay to count as
// excess: more than abs goroutines and more than rel×baseline (defaults
// [DefaultAbsSlack], [DefaultRelSlack]).
func Slack(abs int, rel float64) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.absSlack, c.relSlack = abs, rel })
}

// SuspectAfter sets for how many consecutive windows the count must stay in
// excess before it is judged (default [DefaultSuspectAfter]).
func SuspectAfter(windows int) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.suspectAfter = windows })
}

// DumpAtMostEvery rate-limits goroutine snapshots taken on suspicion
// (default [DefaultDumpEvery]).
func DumpAtMostEvery(d time.Duration) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.dumpEvery = d })
}

// MaxDumpGoroutines sets the goroutine count up to which a suspicion also
// takes a full dump (runtime.Stack of every goroutine), which adds the
// created-by frame and the first goroutine IDs to each reported group. A
// full dump stops the world for about 50 ms per 10,000 goroutines, so above
// n the report holds only what the goroutine profile gives (stacks, counts,
// labels; see [Report].DetailSkipped). Default [DefaultMaxDumpGoroutines]
// (about 5 ms); 0 never takes a full dump. The goroutine profile itself is
// taken whatever the count.
func MaxDumpGoroutines(n int) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.maxDump = n })
}

// OnReport adds a function called (on the watchdog's goroutine) with every
// report of a suspected leak. Each OnReport given is called, in the order
// given; one that panics is logged and does not stop the others.
func OnReport(f func(Report)) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) {
		if f != nil {
			c.onReport = append(c.onReport, f)
		}
	})
}

// WithLogger logs reports (Warn) and baseline changes (Info) to l. The
// watchdog is silent without it.
func WithLogger(l *slog.Logger) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.logger = l })
}

// withCount and withDump are seams for simulation tests.
func withCount(f func() int) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.count = f })
}

func withDump(f func() (*stacks.Dump, error)) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.dump = f })
}

func withFull(f func() (*stacks.Dump, error)) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.full = f })
}

func withNow(f func() time.Time) WatchdogOption {
	return wdOptionFunc(func(c *wdConfig) { c.now = f })
}

// Report describes one suspected leak.
type Report struct {
	Time      time.Time `json:"time"`
	Baseline  int       `json:"baseline"`
	Threshold int       `json:"threshold"`
	Current   int       `json:"current"`
	// Grew are the stack groups that appeared or grew since the snapshot
	// taken at the baseline, most growth first (at most 10); without a
	// baseline snapshot, the largest groups with Before 0. They come from
	// the goroutine profile (debug=1): stacks without the runtime's own
	// frames at the top, with counts and pprof labels, but no state, wait
	// time or goroutine IDs, and a CreatedBy only when a full dump was
	// also taken (see DetailSkipped).
	Grew []*stacks.GroupChange `json:"grew,omitempty"`
	// DumpSkipped says why no snapshot was taken ("" when one was).
	DumpSkipped string `json:"dump_skipped,omitempty"`
	// DetailSkipped says why no full dump added created-by frames and
	// goroutine IDs to Grew ("" when one did): above
	// [MaxDumpGoroutines], or the full dump failed.
	DetailSkipped string `json:"detail_skipped,omitempty"`
	// Ignored counts goroutines of the dump left out of Grew because
	// they are not the service's: the watchdog's own and vitals' other
	// background goroutines, and net/http connection goroutines running
	// only standard-library code (idle keep-alive connections, whose
	// number follows the clients, not a leak).
	Ignored int `json:"ignored,omitempty"`
}

// String renders the report for logs.
func (r Report) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "leak suspected: %d goroutines, baseline %d (threshold %d)", r.Current, r.Baseline, r.Threshold)
	if r.DumpSkipped != "" {
		fmt.Fprintf(&b, "; no dump: %s", r.DumpSkipped)
	}
	for _, gc := range r.Grew {
		top := "?"
		if len(gc.Group.Frames) > 0 {
			top = gc.Group.Frames[0].Func
		}
		fmt.Fprintf(&b, "\n  %+d (%d -> %d) %s", gc.After-gc.Before, gc.Before, gc.After, top)
		if cb := gc.Group.CreatedBy; cb != nil {
			fmt.Fprintf(&b, " created by %s", cb.Func)
		}
	}
	return b.String()
}

// WatchdogState is a snapshot for metrics and health pages.
type WatchdogState struct {
	// Samples is how many goroutine counts have been taken.
	Samples uint64 `json:"samples"`
	// Current is the latest goroutine count.
	Current int `json:"current"`
	// Baseline is the learned steady-state count; 0 until learned.
	Baseline int `json:"baseline"`
	// Threshold is the count above which a window counts as excess
	// (baseline plus both slacks); 0 until learned.
	Threshold int `json:"threshold"`
	// Suspected is true while a leak is suspected.
	Suspected bool `json:"suspected"`
	// Reports is how many leak reports were made.
	Reports uint64 `json:"reports"`
	// Dumps is how many goroutine snapshots were taken (goroutine
	// profiles, collected without stopping the world for long).
	Dumps uint64 `json:"dumps"`
	// FullDumps is how many full dumps were taken on suspicion to add
	// created-by frames (each stops the world, about 50 ms per 10,000
	// goroutines; only up to [MaxDumpGoroutines]).
	FullDumps uint64 `json:"full_dumps"`
	// DumpsSkipped counts snapshots not taken on suspicion:
	// rate-limited, or the profile could not be read.
	DumpsSkipped uint64 `json:"dumps_skipped"`
	// Rebaselines counts step-ups accepted as a new steady level.
	Rebaselines uint64 `json:"rebaselines"`
	// Last is the latest report, if any.
	Last *Report `json:"last,omitempty"`
	// WarmingUp is true until the baseline is learned: before that the
	// watchdog has no verdict, leak or not.
	WarmingUp bool `json:"warming_up"`
	// VerdictAt is when the baseline is (or was) learned and the first
	// verdict possible: the warm-up plus one window of samples after the
	// first sample. Zero before [Watchdog.Start].
	VerdictAt time.Time `json:"verdict_at,omitzero"`
	// VerdictIn is how long after this snapshot VerdictAt comes (0 once
	// it has passed); in JSON, nanoseconds. Read it rather than VerdictAt
	// from another machine: it does not depend on the two clocks agreeing.
	VerdictIn time.Duration `json:"verdict_in"`
}

// Watchdog watches the goroutine count of a running service and reports
// sustained, growing excess over a learned baseline as a suspected leak,
// with the stacks that grew. Create it with [NewWatchdog].
type Watchdog struct {
	c wdConfig

	mu       sync.Mutex
	st       WatchdogState
	start    time.Time
	window   []int
	winIdx   int
	haveBase bool
	floor    int // baseline before any raise
	streak   int
	first    int // window low at the start of the streak
	raises   int
	lastRise int
	lastDump time.Time
	baseDump []*stacks.Group

	lifeMu  sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// NewWatchdog returns a watchdog; nothing runs until [Watchdog.Start].
//
// Every sample reads one runtime/metrics value (/sched/goroutines), well
// under a microsecond; at the default 10 s interval that is under 0.0001%
// of a CPU. After the warm-up, the 10th percentile of the first window is
// the baseline. At the end of each window its 10th percentile ("low") is
// compared with the baseline: above it by both slacks, the window is in
// excess. After [SuspectAfter] windows in excess, a low that still grew by
// half the slack is a suspected leak; a flat one is a new steady level and
// becomes the baseline, unless the baseline was raised three times within
// twelve windows without falling back (a slow leak climbing in steps).
// A suspicion takes a goroutine snapshot (rate-limited), diffs its stack
// groups with those of the snapshot taken at the baseline, and reports.
// Snapshots are the goroutine profile (pprof "goroutine", debug=1), which
// the runtime collects concurrently: a leak of 100,000 goroutines is
// captured, grouped with counts and labels, for a stop-the-world pause of
// well under a millisecond. Up to [MaxDumpGoroutines] goroutines a full
// dump adds each reported group's created-by frame and first IDs; above
// it the report says so in [Report].DetailSkipped. The diff leaves out goroutines that are not the
// service's to leak: the watchdog's own, vitals' other background
// goroutines, and net/http connection goroutines running only
// standard-library code (see [Report].Ignored). Until the baseline is
// learned the watchdog has no verdict; [WatchdogState].VerdictAt says when
// it will.
func NewWatchdog(opts ...WatchdogOption) (*Watchdog, error) {
	c := wdConfig{
		interval:     DefaultSampleEvery,
		warmUp:       DefaultWarmUp,
		window:       DefaultWindowSamples,
		quantile:     0.1,
		absSlack:     DefaultAbsSlack,
		relSlack:     DefaultRelSlack,
		suspectAfter: DefaultSuspectAfter,
		raises:       3,
		raiseDecay:   12,
		dumpEvery:    DefaultDumpEvery,
		maxDump:      DefaultMaxDumpGoroutines,
	}
	for _, o := range opts {
		if o != nil {
			o.applyWatchdog(&c)
		}
	}
	switch {
	case c.interval <= 0:
		return nil, errors.New("leak: watchdog: sample interval must be positive")
	case c.window < 1:
		return nil, errors.New("leak: watchdog: window must hold at least one sample")
	case c.suspectAfter < 1:
		return nil, errors.New("leak: watchdog: SuspectAfter must be at least 1")
	case c.absSlack < 0 || c.relSlack < 0 || math.IsNaN(c.relSlack):
		return nil, errors.New("leak: watchdog: slack must not be negative")
	}
	if c.count == nil {
		c.count = goroutineCounter()
	}
	if c.dump == nil {
		c.dump = profileDump
	}
	if c.full == nil {
		c.full = fullDump
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	w := &Watchdog{c: c}
	w.st.WarmingUp = true
	return w, nil
}

// goroutineCounter reads /sched/goroutines:goroutines when the runtime
// offers it, runtime.NumGoroutine otherwise.
func goroutineCounter() func() int {
	const name = "/sched/goroutines:goroutines"
	for _, d := range metrics.All() {
		if d.Name == name {
			s := []metrics.Sample{{Name: name}}
			var mu sync.Mutex
			return func() int {
				mu.Lock()
				defer mu.Unlock()
				metrics.Read(s)
				if s[0].Value.Kind() == metrics.KindUint64 {
					return int(s[0].Value.Uint64())
				}
				return runtime.NumGoroutine()
			}
		}
	}
	return runtime.NumGoroutine
}

// Start starts sampling on a new goroutine until ctx is done or Close is
// called. It returns an error if the watchdog was already started or closed.
func (w *Watchdog) Start(ctx context.Context) error {
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.closed {
		return errors.New("leak: watchdog: closed")
	}
	if w.started {
		return errors.New("leak: watchdog: already started")
	}
	w.started = true
	w.stop = make(chan struct{})
	w.done = make(chan struct{})
	go w.run(ctx, w.stop, w.done)
	return nil
}

func (w *Watchdog) run(ctx context.Context, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(w.c.interval)
	defer t.Stop()
	w.tick(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case now := <-t.C:
			w.tick(now)
		}
	}
}

// Close stops the watchdog and waits for its goroutine to exit. It is
// idempotent and always returns nil.
func (w *Watchdog) Close() error {
	w.lifeMu.Lock()
	if w.closed {
		w.lifeMu.Unlock()
		return nil
	}
	w.closed = true
	stop, done := w.stop, w.done
	w.lifeMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return nil
}

// State returns a snapshot of the watchdog's counters (cheap: a mutex and a
// copy). Export it as metrics: Current and Baseline as gauges, Reports as a
// counter, Suspected as 0/1. With vitals' metrics package:
//
//	metrics.New(metrics.WithWatchdog(func() metrics.WatchdogState {
//		s := w.State()
//		return metrics.WatchdogState{Baseline: s.Baseline, Goroutines: s.Current,
//			Suspected: s.Suspected, Reports: s.Reports}
//	}))
func (w *Watchdog) State() WatchdogState {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.st
	if st.WarmingUp && !st.VerdictAt.IsZero() {
		st.VerdictIn = max(0, st.VerdictAt.Sub(w.c.now()))
	}
	return st
}

// verdictAt is when the sample that completes the first window after the
// warm-up is taken, for sampling that started at start.
func (w *Watchdog) verdictAt(start time.Time) time.Time {
	iv := w.c.interval
	first := (w.c.warmUp + iv - 1) / iv // index of the first sample past the warm-up
	if w.c.warmUp <= 0 {
		first = 0
	}
	return start.Add((first + time.Duration(w.c.window) - 1) * iv)
}

func (w *Watchdog) threshold(base int) int {
	return base + max(w.c.absSlack, int(math.Ceil(w.c.relSlack*float64(base))))
}

// tick takes one sample. It never panics: a failure inside the watchdog
// must not take the service down.
func (w *Watchdog) tick(now time.Time) {
	var rep *Report
	func() {
		defer func() {
			if r := recover(); r != nil {
				w.c.logger.Error("leak: watchdog: internal error", "panic", fmt.Sprint(r))
			}
		}()
		w.mu.Lock()
		defer w.mu.Unlock()
		rep = w.sampleLocked(now)
	}()
	if rep != nil {
		w.c.logger.Warn("leak: goroutine leak suspected", "current", rep.Current,
			"baseline", rep.Baseline, "threshold", rep.Threshold, "report", rep.String())
		for _, f := range w.c.onReport {
			func() {
				defer func() {
					if r := recover(); r != nil {
						w.c.logger.Error("leak: watchdog: OnReport panicked", "panic", fmt.Sprint(r))
					}
				}()
				f(*rep)
			}()
		}
	}
}

func (w *Watchdog) sampleLocked(now time.Time) *Report {
	n := w.c.count()
	w.st.Samples++
	w.st.Current = n
	if w.start.IsZero() {
		w.start = now
		w.st.VerdictAt = w.verdictAt(now)
	}
	if now.Sub(w.start) < w.c.warmUp {
		return nil
	}
	w.window = append(w.window, n)
	if len(w.window) < w.c.window {
		return nil
	}
	lo := quantile(w.window, w.c.quantile)
	w.window = w.window[:0]
	w.winIdx++
	if !w.haveBase {
		w.haveBase = true
		w.st.WarmingUp = false
		// The estimate made at the first sample can run ahead of the
		// sampling ticks by a fraction of an interval; the verdict came now.
		w.st.VerdictAt = now
		w.floor = lo
		w.setBaseline(lo, n, "learned")
		return nil
	}
	base := w.st.Baseline
	if lo <= w.st.Threshold {
		w.streak = 0
		w.st.Suspected = false
		if lo < base {
			w.st.Baseline, w.st.Threshold = lo, w.threshold(lo)
		}
		if lo <= w.threshold(w.floor) || w.winIdx-w.lastRise > w.c.raiseDecay {
			w.raises = 0
			w.floor = w.st.Baseline
		}
		return nil
	}
	w.streak++
	if w.streak == 1 {
		w.first = lo
	}
	if w.streak < w.c.suspectAfter {
		return nil
	}
	w.streak = 0
	slack := w.st.Threshold - base
	if !w.st.Suspected && 2*(lo-w.first) < slack {
		// Flat excess: a new steady level, unless it keeps happening.
		if w.winIdx-w.lastRise > w.c.raiseDecay {
			w.raises = 0
		}
		w.raises++
		w.lastRise = w.winIdx
		if w.raises < w.c.raises {
			w.st.Rebaselines++
			w.setBaseline(lo, n, "raised")
			return nil
		}
		w.raises = 0
	}
	return w.suspectLocked(now, n)
}

func (w *Watchdog) setBaseline(lo, n int, why string) {
	w.st.Baseline, w.st.Threshold = lo, w.threshold(lo)
	w.baseDump = nil
	if d, err := w.c.dump(); err == nil {
		gs, _ := serviceGoroutines(d.Goroutines, curID())
		w.baseDump = stacks.GroupBy(gs, stacks.MergeStates())
	} else {
		w.c.logger.Info("leak: watchdog: baseline snapshot failed", "err", err)
	}
	w.c.logger.Info("leak: watchdog: baseline "+why, "baseline", lo, "threshold", w.st.Threshold)
}

func (w *Watchdog) suspectLocked(now time.Time, n int) *Report {
	w.st.Suspected = true
	w.st.Reports++
	rep := &Report{Time: now, Baseline: w.st.Baseline, Threshold: w.st.Threshold, Current: n}
	if !w.lastDump.IsZero() && now.Sub(w.lastDump) < w.c.dumpEvery {
		rep.DumpSkipped = fmt.Sprintf("rate-limited: last dump %v ago", now.Sub(w.lastDump).Round(time.Second))
	}
	if rep.DumpSkipped != "" {
		w.st.DumpsSkipped++
	} else if d, err := w.c.dump(); err != nil {
		rep.DumpSkipped = "dump failed: " + err.Error()
		w.st.DumpsSkipped++
	} else {
		w.lastDump = now
		w.st.Dumps++
		gs, ignored := serviceGoroutines(d.Goroutines, curID())
		rep.Ignored = ignored
		groups := stacks.GroupBy(gs, stacks.MergeStates())
		if w.baseDump != nil {
			delta := stacks.Diff(w.baseDump, groups)
			rep.Grew = append(append(rep.Grew, delta.Appeared...), delta.Grew...)
		} else {
			for _, g := range groups {
				rep.Grew = append(rep.Grew, &stacks.GroupChange{Group: g, After: g.Count})
			}
		}
		slices.SortStableFunc(rep.Grew, func(a, b *stacks.GroupChange) int {
			return (b.After - b.Before) - (a.After - a.Before)
		})
		w.addDetail(rep, n)
		if len(rep.Grew) > 10 {
			rep.Grew = rep.Grew[:10]
		}
	}
	w.st.Last = rep
	return rep
}

// addDetail fills in the created-by frames and first goroutine IDs of
// the groups in rep.Grew from a full dump, when n goroutines are few
// enough for one; groups that a full dump shows vitals created are moved
// to rep.Ignored. Groups already carrying a CreatedBy (a full-dump
// snapshot) are left as they are.
func (w *Watchdog) addDetail(rep *Report, n int) {
	need := false
	for _, gc := range rep.Grew {
		need = need || gc.Group.CreatedBy == nil
	}
	switch {
	case !need || len(rep.Grew) == 0:
		return
	case w.c.maxDump <= 0 || n > w.c.maxDump:
		rep.DetailSkipped = fmt.Sprintf("%d goroutines, above the full-dump limit of %d: no created-by frames or goroutine IDs", n, w.c.maxDump)
		return
	}
	d, err := w.c.full()
	if err != nil {
		rep.DetailSkipped = "full dump failed: " + err.Error()
		return
	}
	w.st.FullDumps++
	details := detailsByStack(d)
	kept := rep.Grew[:0]
	for _, gc := range rep.Grew {
		g := gc.Group
		if dt := details[profileKey(g.Frames)]; dt != nil && g.CreatedBy == nil {
			if dt.createdBy != nil && vitalsPkgs[dt.createdBy.Pkg] {
				rep.Ignored += g.Count
				continue
			}
			g.CreatedBy = dt.createdBy
			if len(g.IDs) == 0 {
				g.IDs = dt.ids
			}
		}
		kept = append(kept, gc)
	}
	rep.Grew = kept
}

// quantile returns the q-quantile (nearest rank, rounding down) of xs,
// reordering xs.
func quantile(xs []int, q float64) int {
	slices.Sort(xs)
	i := int(q * float64(len(xs)-1))
	return xs[i]
}

// serviceGoroutines drops from gs the goroutines that are not the
// service's to leak: self (the watchdog's goroutine, taking the dump),
// vitals' own background goroutines and net/http connection goroutines
// running only standard-library code. It returns the rest and how many
// were dropped (a profile record counts for its goroutines). With a
// profile (debug=1), whose records have no IDs and no created-by frame,
// self and the goroutines vitals created are found by their frames alone.
func serviceGoroutines(gs []*stacks.Goroutine, self uint64) ([]*stacks.Goroutine, int) {
	out := make([]*stacks.Goroutine, 0, len(gs))
	dropped := 0
	for _, g := range gs {
		if (self != 0 && g.ID == self) || vitalsOwn(g) || idleConn(g) {
			dropped += max(g.Count, 1)
			continue
		}
		out = append(out, g)
	}
	return out, dropped
}

// vitalsPkgs are the packages whose goroutines run a service's vitals:
// the watchdog, the admin server and its handlers, the dashboard's
// sampler, startup's cgroup refresher, Start's own.
var vitalsPkgs = map[string]bool{
	"github.com/govitals/vitals":           true,
	"github.com/govitals/vitals/admin":     true,
	"github.com/govitals/vitals/dashboard": true,
	"github.com/govitals/vitals/leak":      true,
	"github.com/govitals/vitals/metrics":   true,
	"github.com/govitals/vitals/startup":   true,
	"github.com/govitals/vitals/tracecap":  true,
}

func vitalsOwn(g *stacks.Goroutine) bool {
	if g.CreatedBy != nil && vitalsPkgs[g.CreatedBy.Pkg] {
		return true
	}
	for i := range g.Frames {
		if vitalsPkgs[g.Frames[i].Pkg] {
			return true
		}
	}
	return false
}

// idleConn reports a net/http connection goroutine (server or client
// side) with nothing but standard-library frames: between requests, or
// reading one. A handler blocked in the service's code has its frames on
// the stack and is kept.
func idleConn(g *stacks.Goroutine) bool {
	conn := false
	for i := range g.Frames {
		f := &g.Frames[i]
		switch f.Func {
		case "net/http.(*conn).serve", "net/http.(*persistConn).readLoop",
			"net/http.(*persistConn).writeLoop", "net/http.(*http2serverConn).serve",
			"net/http.(*http2ClientConn).readLoop":
			conn = true
		}
		if !stdlib(f.Pkg) {
			return false
		}
	}
	return conn
}

// stdlib reports an import path of the standard library (no dot in the
// first element); "" (unknown) counts as not.
func stdlib(pkg string) bool {
	if pkg == "" {
		return false
	}
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}
