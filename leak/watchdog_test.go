package leak

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/stacks"
)

// simDump builds a synthetic dump: base goroutines serving requests and
// extra goroutines parked in a leaky handler.
func simDump(base, extra int) *stacks.Dump {
	d := &stacks.Dump{}
	id := uint64(1 << 32) // never a real goroutine's, such as the test's own
	add := func(n int, state string, fn string) {
		for range n {
			d.Goroutines = append(d.Goroutines, &stacks.Goroutine{
				ID: id, State: state,
				Frames:    []stacks.Frame{{Func: fn, Pkg: "example.com/svc", File: "/svc/" + fn + ".go", Line: 10}},
				CreatedBy: &stacks.Frame{Func: "example.com/svc.accept", Pkg: "example.com/svc", File: "/svc/a.go", Line: 3},
			})
			id++
		}
	}
	add(base, "IO wait", "example.com/svc.serve")
	add(extra, "chan send", "example.com/svc.leakyHandler.func1")
	return d
}

// asProfile turns a full dump into what the debug=1 goroutine profile
// gives: no IDs, states or created-by frames.
func asProfile(d *stacks.Dump) *stacks.Dump {
	for _, g := range d.Goroutines {
		g.ID, g.State, g.CreatedBy = 0, "", nil
	}
	return d
}

type simResult struct {
	reports []Report
	state   WatchdogState
	dumps   []time.Time
	fulls   int // full dumps asked for
}

// simulate drives a watchdog with a synthetic goroutine count series
// (one sample per 10 s for the given duration). leak(i) is the part of
// count(i) that sits in the leaky stack.
func simulate(t *testing.T, dur time.Duration, count func(i int) int, leak func(i int) int, opts ...WatchdogOption) simResult {
	t.Helper()
	var res simResult
	i := 0
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	opts = append([]WatchdogOption{
		withCount(func() int { return count(i) }),
		withDump(func() (*stacks.Dump, error) {
			res.dumps = append(res.dumps, now)
			l := 0
			if leak != nil {
				l = leak(i)
			}
			return asProfile(simDump(count(i)-l, l)), nil
		}),
		withFull(func() (*stacks.Dump, error) {
			res.fulls++
			l := 0
			if leak != nil {
				l = leak(i)
			}
			return simDump(count(i)-l, l), nil
		}),
		OnReport(func(r Report) { res.reports = append(res.reports, r) }),
	}, opts...)
	w, err := NewWatchdog(opts...)
	if err != nil {
		t.Fatal(err)
	}
	for ; now.Sub(start) < dur; i++ {
		w.tick(now)
		now = now.Add(DefaultSampleEvery)
	}
	res.state = w.State()
	return res
}

func perMinute(i int) float64 { return float64(i) * 10 / 60 } // sample index -> minutes

func noise(seed uint64) func() int {
	r := rand.New(rand.NewPCG(seed, seed))
	return func() int { return r.IntN(21) - 10 }
}

func TestWatchdogSimulations(t *testing.T) {
	const base = 500
	n := noise(1)
	tests := []struct {
		name      string
		dur       time.Duration
		count     func(i int) int
		leak      func(i int) int
		wantLeak  bool
		within    time.Duration // first report no later than this
		wantRebas uint64
	}{
		{
			name:  "steady with noise",
			dur:   6 * time.Hour,
			count: func(int) int { return base + n() },
		},
		{
			name: "slow ramp: 4 goroutines a minute after 30 minutes",
			dur:  6 * time.Hour,
			count: func(i int) int {
				return base + n() + int(max(0, 4*(perMinute(i)-30)))
			},
			leak:     func(i int) int { return int(max(0, 4*(perMinute(i)-30))) },
			wantLeak: true,
			within:   3 * time.Hour,
		},
		{
			name: "fast ramp: 40 a minute",
			dur:  2 * time.Hour,
			count: func(i int) int {
				return base + n() + int(max(0, 40*(perMinute(i)-30)))
			},
			leak:     func(i int) int { return int(max(0, 40*(perMinute(i)-30))) },
			wantLeak: true,
			within:   time.Hour,
		},
		{
			name: "sawtooth load, 4 minute period",
			dur:  6 * time.Hour,
			count: func(i int) int {
				return base + n() + int(400*math.Mod(perMinute(i), 4)/4)
			},
		},
		{
			name: "sawtooth load, 10 minute period",
			dur:  6 * time.Hour,
			count: func(i int) int {
				return base + n() + int(400*math.Mod(perMinute(i), 10)/10)
			},
		},
		{
			name: "bursts that drain",
			dur:  6 * time.Hour,
			count: func(i int) int {
				if i%120 < 3 { // 30 s of 3000 extra every 20 minutes
					return base + 3000 + n()
				}
				return base + n()
			},
		},
		{
			name: "step up to a new steady level",
			dur:  6 * time.Hour,
			count: func(i int) int {
				if perMinute(i) > 60 {
					return 1500 + n()
				}
				return base + n()
			},
			wantRebas: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := simulate(t, tt.dur, tt.count, tt.leak)
			if got := len(res.reports) > 0; got != tt.wantLeak {
				t.Fatalf("reported: %v, want %v (state %+v, first %v)", got, tt.wantLeak, res.state, firstReport(res))
			}
			if tt.wantRebas != 0 && res.state.Rebaselines != tt.wantRebas {
				t.Errorf("rebaselines %d, want %d", res.state.Rebaselines, tt.wantRebas)
			}
			if !tt.wantLeak {
				if res.state.Suspected {
					t.Errorf("state says suspected: %+v", res.state)
				}
				return
			}
			r := res.reports[0]
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if late := r.Time.Sub(start); late > tt.within {
				t.Errorf("first report after %v, want within %v", late, tt.within)
			}
			if len(r.Grew) == 0 || r.Grew[0].Group.Frames[0].Func != "example.com/svc.leakyHandler.func1" {
				t.Fatalf("report does not lead with the leaky stack: %s", r)
			}
			if r.Grew[0].After-r.Grew[0].Before <= 0 {
				t.Errorf("leaky group did not grow: %s", r)
			}
			if r.Current <= r.Threshold || r.Threshold <= r.Baseline {
				t.Errorf("inconsistent report numbers: %+v", r)
			}
			if !res.state.Suspected || res.state.Reports == 0 || res.state.Last == nil {
				t.Errorf("state does not show the suspicion: %+v", res.state)
			}
		})
	}
}

func firstReport(r simResult) string {
	if len(r.reports) == 0 {
		return "none"
	}
	return r.reports[0].String()
}

func TestWatchdogDumpLimits(t *testing.T) {
	ramp := func(i int) int { return 500 + int(max(0, 40*(perMinute(i)-30))) }
	leak := func(i int) int { return int(max(0, 40*(perMinute(i)-30))) }

	t.Run("rate limited", func(t *testing.T) {
		res := simulate(t, 4*time.Hour, ramp, leak, DumpAtMostEvery(time.Hour))
		if res.state.DumpsSkipped == 0 || res.state.Reports < 3 {
			t.Fatalf("want several reports, some without a dump: %+v", res.state)
		}
		// dumps[0] is the baseline dump; suspicion dumps are >= 1h apart.
		for i := 2; i < len(res.dumps); i++ {
			if gap := res.dumps[i].Sub(res.dumps[i-1]); gap < time.Hour {
				t.Errorf("dumps %v apart, limit 1h", gap)
			}
		}
		var skipped int
		for _, r := range res.reports {
			if strings.HasPrefix(r.DumpSkipped, "rate-limited") {
				skipped++
			}
		}
		if skipped == 0 {
			t.Errorf("no report says it was rate-limited")
		}
	})
	t.Run("full dump below the limit", func(t *testing.T) {
		res := simulate(t, 2*time.Hour, ramp, leak, MaxDumpGoroutines(1e6))
		if len(res.reports) == 0 || res.fulls == 0 {
			t.Fatalf("%d reports, %d full dumps", len(res.reports), res.fulls)
		}
		r := res.reports[0]
		if r.DetailSkipped != "" || len(r.Grew) == 0 || r.Grew[0].Group.CreatedBy == nil ||
			r.Grew[0].Group.CreatedBy.Func != "example.com/svc.accept" || len(r.Grew[0].Group.IDs) == 0 {
			t.Errorf("full dump detail missing: %+v\n%s", r, r)
		}
	})
	t.Run("too many goroutines for a full dump", func(t *testing.T) {
		// The snapshot is taken whatever the count; only the full dump
		// that adds created-by frames is skipped.
		res := simulate(t, 2*time.Hour, ramp, leak, MaxDumpGoroutines(400))
		if len(res.dumps) < 2 || res.fulls != 0 {
			t.Errorf("%d snapshots and %d full dumps, want the baseline's and the suspicion's and no full dump", len(res.dumps), res.fulls)
		}
		if len(res.reports) == 0 {
			t.Fatal("no report")
		}
		r := res.reports[0]
		if r.DumpSkipped != "" || !strings.Contains(r.DetailSkipped, "above the full-dump limit of 400") {
			t.Errorf("report does not say why there is no detail: %+v", r)
		}
		if !strings.Contains(r.String(), "leakyHandler") {
			t.Errorf("report lacks the leak:\n%s", r)
		}
	})
}

func TestWatchdogStartClose(t *testing.T) {
	var logs bytes.Buffer
	w, err := NewWatchdog(SampleEvery(time.Millisecond), WarmUp(0), WindowSamples(2),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.State().Baseline == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := w.State()
	if st.Baseline <= 0 || st.Current <= 0 || st.Samples < 2 {
		t.Errorf("no baseline learned from the real count: %+v", st)
	}
	if !strings.Contains(logs.String(), "baseline learned") {
		t.Errorf("baseline not logged: %q", logs.String())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Start(ctx); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestWatchdogSurvivesPanics(t *testing.T) {
	calls := 0
	w, err := NewWatchdog(WarmUp(0), WindowSamples(1), SuspectAfter(1), Slack(0, 0),
		withCount(func() int { calls++; return 10 * calls }),
		withDump(func() (*stacks.Dump, error) { panic("dump exploded") }),
		OnReport(func(Report) { panic("callback exploded") }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		w.tick(time.Unix(int64(i), 0)) // must not panic
	}
	if w.State().Samples == 0 {
		t.Error("no samples taken")
	}
}

// TestWatchdogCallsEveryOnReport: several OnReport options are all called,
// in order, and one that panics does not stop the next (vitals.Start adds
// its incident hook before the caller's own).
func TestWatchdogCallsEveryOnReport(t *testing.T) {
	calls := 0
	var order []string
	w, err := NewWatchdog(WarmUp(0), WindowSamples(1), SuspectAfter(1), Slack(0, 0),
		withCount(func() int { calls++; return 10 * calls }),
		withDump(func() (*stacks.Dump, error) { return &stacks.Dump{}, nil }),
		OnReport(func(Report) { order = append(order, "first"); panic("first exploded") }),
		OnReport(nil),
		OnReport(func(Report) { order = append(order, "second") }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		w.tick(time.Unix(int64(i), 0))
	}
	if len(order) < 2 || len(order)%2 != 0 {
		t.Fatalf("calls %v: want first, second for every report", order)
	}
	for i := 0; i < len(order); i += 2 {
		if order[i] != "first" || order[i+1] != "second" {
			t.Fatalf("calls %v: want first, second for every report", order)
		}
	}
}

func TestNewWatchdogRejectsBadOptions(t *testing.T) {
	for _, o := range []WatchdogOption{SampleEvery(0), WindowSamples(0), SuspectAfter(0), Slack(-1, 0), Slack(1, math.NaN())} {
		if _, err := NewWatchdog(o); err == nil || !strings.HasPrefix(err.Error(), "leak: watchdog: ") {
			t.Errorf("NewWatchdog accepted a bad option: %v", err)
		}
	}
}

func TestWatchdogVerdictAt(t *testing.T) {
	tests := []struct {
		name string
		opts []WatchdogOption
		want time.Duration // after the first sample
	}{
		// 2 min of warm-up (samples 0-11), then 30 samples: the 42nd
		// sample, at 410 s, completes the first window.
		{"defaults", nil, 410 * time.Second},
		{"no warm-up", []WatchdogOption{WarmUp(0), WindowSamples(5), SampleEvery(time.Second)}, 4 * time.Second},
		{"warm-up between samples", []WatchdogOption{WarmUp(25 * time.Second), WindowSamples(3)}, 50 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := start
			w, err := NewWatchdog(append([]WatchdogOption{
				withCount(func() int { return 100 }),
				withDump(func() (*stacks.Dump, error) { return simDump(100, 0), nil }),
				withNow(func() time.Time { return clock }),
			}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			if st := w.State(); !st.WarmingUp || !st.VerdictAt.IsZero() || st.VerdictIn != 0 {
				t.Errorf("before Start: %+v, want warming up with no verdict time", st)
			}
			w.tick(clock)
			st := w.State()
			if want := start.Add(tt.want); !st.VerdictAt.Equal(want) || st.VerdictIn != tt.want {
				t.Fatalf("VerdictAt %v (in %v), want %v (in %v)", st.VerdictAt, st.VerdictIn, want, tt.want)
			}
			// The watchdog learns its baseline exactly then, not a sample
			// before.
			for clock = clock.Add(w.c.interval); clock.Before(st.VerdictAt); clock = clock.Add(w.c.interval) {
				w.tick(clock)
				if s := w.State(); s.Baseline != 0 || !s.WarmingUp {
					t.Fatalf("baseline learned at %v, before VerdictAt %v", clock.Sub(start), tt.want)
				}
			}
			w.tick(clock)
			if s := w.State(); s.Baseline == 0 || s.WarmingUp || s.VerdictIn != 0 {
				t.Errorf("at VerdictAt: %+v, want a baseline", s)
			}
		})
	}
}

// TestWatchdogIgnoresOwnAndConnectionGoroutines takes a real dump of this
// process with a running watchdog, a server with an idle keep-alive
// connection and its client, and checks what the leak report leaves out.
func TestWatchdogIgnoresOwnAndConnectionGoroutines(t *testing.T) {
	w, err := NewWatchdog(SampleEvery(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.Write([]byte("ok")) }))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	d, err := stacks.Parse(bytes.NewReader(dumpAll(nil)))
	if err != nil {
		t.Fatal(err)
	}
	has := func(g *stacks.Goroutine, fn string) bool {
		return hasFunc(g.Frames, fn) || (g.CreatedBy != nil && g.CreatedBy.Func == fn)
	}
	must := map[string]bool{ // one goroutine each, at least, that must be left out
		"github.com/govitals/vitals/leak.(*Watchdog).Start": false,
		"net/http.(*conn).serve":                            false,
		"net/http.(*persistConn).readLoop":                  false,
		"net/http.(*persistConn).writeLoop":                 false,
	}
	for _, g := range d.Goroutines {
		for fn := range must {
			if has(g, fn) {
				must[fn] = true
			}
		}
	}
	for fn, seen := range must {
		if !seen {
			t.Fatalf("no goroutine with %s in the dump: the test set-up is wrong", fn)
		}
	}
	// What a service leaks stays: a goroutine of its own, and a handler
	// blocked in its code on a connection goroutine.
	svc := simDump(0, 2).Goroutines
	handler := &stacks.Goroutine{ID: 1 << 40, State: "chan receive", Frames: []stacks.Frame{
		{Func: "example.com/svc.subscribe", Pkg: "example.com/svc"},
		{Func: "net/http.HandlerFunc.ServeHTTP", Pkg: "net/http"},
		{Func: "net/http.serverHandler.ServeHTTP", Pkg: "net/http"},
		{Func: "net/http.(*conn).serve", Pkg: "net/http"},
	}, CreatedBy: &stacks.Frame{Func: "net/http.(*Server).Serve", Pkg: "net/http"}}
	all := append(append(d.Goroutines, svc...), handler)
	kept, ignored := serviceGoroutines(all, curID())
	if ignored < len(must) {
		t.Errorf("ignored %d goroutines, want at least %d", ignored, len(must))
	}
	for _, g := range kept {
		for fn := range must {
			if has(g, fn) && g != handler {
				t.Errorf("goroutine %d (%s) counted as the service's", g.ID, fn)
			}
		}
	}
	for _, g := range append(svc, handler) {
		if !slices.Contains(kept, g) {
			t.Errorf("service goroutine %s left out", g.Frames[0].Func)
		}
	}
}

// TestWatchdogReportLeavesOutItsOwnGoroutine: the dump taken on suspicion
// runs on the watchdog's goroutine, whose stack differs from the one at
// the baseline; it must not show up as growth.
func TestWatchdogReportLeavesOutItsOwnGoroutine(t *testing.T) {
	own := func(line int) *stacks.Goroutine {
		return &stacks.Goroutine{ID: uint64(line), State: "running", Frames: []stacks.Frame{
			{Func: "github.com/govitals/vitals/leak.dumpAll", Pkg: "github.com/govitals/vitals/leak", Line: line},
		}, CreatedBy: &stacks.Frame{Func: "github.com/govitals/vitals/leak.(*Watchdog).Start", Pkg: "github.com/govitals/vitals/leak"}}
	}
	dumps := 0
	res := simulate(t, 40*time.Minute,
		func(i int) int { return 100 + max(0, i-30)*2 },
		func(i int) int { return max(0, i-30) * 2 },
		WarmUp(0), WindowSamples(6),
		withDump(func() (*stacks.Dump, error) {
			dumps++
			d := simDump(100, 20*(dumps-1))
			d.Goroutines = append(d.Goroutines, own(dumps))
			return d, nil
		}))
	if len(res.reports) == 0 {
		t.Fatal("no report")
	}
	r := res.reports[0]
	if r.Ignored != 1 {
		t.Errorf("Ignored = %d, want 1 (the watchdog's goroutine)", r.Ignored)
	}
	for _, gc := range r.Grew {
		if gc.Group.CreatedBy != nil && strings.Contains(gc.Group.CreatedBy.Func, "Watchdog") {
			t.Errorf("report lists the watchdog's own goroutine as growth:\n%s", r)
		}
	}
	if len(r.Grew) == 0 || !strings.Contains(r.String(), "leakyHandler") {
		t.Errorf("report lacks the leak:\n%s", r)
	}
}
