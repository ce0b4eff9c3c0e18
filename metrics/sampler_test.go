package metrics

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	rtm "runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/cgroup"
)

// fakeCgroup is an in-memory cgroup whose counters advance on every read.
type fakeCgroup struct {
	mu         sync.Mutex
	limits     cgroup.Limits
	limitsErr  error
	reads      int
	limitReads int
	closed     int
}

func (f *fakeCgroup) Limits() (cgroup.Limits, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limitReads++
	return f.limits, f.limitsErr
}

func (f *fakeCgroup) ReadStats(s *cgroup.Stats) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	*s = cgroup.Stats{
		Periods: uint64(10 * f.reads), ThrottledPeriods: uint64(f.reads),
		ThrottledTime: time.Duration(f.reads) * time.Millisecond,
		MemoryUsage:   64 << 20, HaveCPU: true, HaveMemory: true,
	}
	return nil
}

func (f *fakeCgroup) Close() error { f.closed++; return nil }

func newFake() *fakeCgroup {
	return &fakeCgroup{limits: cgroup.Limits{
		Version: cgroup.V2,
		CPU:     cgroup.CPU{Limited: true, Quota: 1.5},
		Memory:  cgroup.Memory{Limited: true, Max: 512 << 20, High: 400 << 20},
	}}
}

func TestViewSharesReadsWithinInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		views    int
		wantGen  uint64
	}{
		{"default interval shares", time.Hour, 5, 1},
		{"zero interval reads every time", 0, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := newFake()
			s, err := New(WithMinInterval(tt.interval), withCgroup(fc))
			if err != nil {
				t.Fatal(err)
			}
			var gen uint64
			for range tt.views {
				s.View(func(sn *Snapshot) { gen = sn.Generation })
			}
			if gen != tt.wantGen {
				t.Errorf("generation after %d views = %d, want %d", tt.views, gen, tt.wantGen)
			}
			if fc.reads != int(tt.wantGen) {
				t.Errorf("cgroup reads = %d, want %d", fc.reads, tt.wantGen)
			}
		})
	}
}

func TestConcurrentViewsShareOneRead(t *testing.T) {
	fc := newFake()
	s, err := New(WithMinInterval(time.Hour), withCgroup(fc))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	gens := make([]uint64, 32)
	for i := range gens {
		wg.Go(func() { s.View(func(sn *Snapshot) { gens[i] = sn.Generation }) })
	}
	wg.Wait()
	for i, g := range gens {
		if g != 1 {
			t.Errorf("view %d saw generation %d, want 1 (one shared read)", i, g)
		}
	}
	if fc.reads != 1 {
		t.Errorf("cgroup reads = %d, want 1", fc.reads)
	}
}

func TestViewRefreshesAfterInterval(t *testing.T) {
	s, err := New(WithMinInterval(20*time.Millisecond), withCgroup(newFake()))
	if err != nil {
		t.Fatal(err)
	}
	var g1, g2 uint64
	s.View(func(sn *Snapshot) { g1 = sn.Generation })
	time.Sleep(30 * time.Millisecond)
	s.View(func(sn *Snapshot) { g2 = sn.Generation })
	if g2 != g1+1 {
		t.Errorf("generation after the interval = %d, want %d", g2, g1+1)
	}
}

func TestSnapshotContents(t *testing.T) {
	fc := newFake()
	s, err := New(withCgroup(fc))
	if err != nil {
		t.Fatal(err)
	}
	var sn Snapshot
	s.View(func(p *Snapshot) { sn = *p })
	if !sn.HaveLimits || sn.Limits.CPU.Quota != 1.5 || sn.Limits.Memory.High != 400<<20 {
		t.Errorf("limits = %+v (have %v), want the fake's", sn.Limits, sn.HaveLimits)
	}
	if !sn.Cgroup.HaveCPU || sn.Cgroup.Periods != 10 || sn.Cgroup.ThrottledPeriods != 1 {
		t.Errorf("stats = %+v, want the fake's first read", sn.Cgroup)
	}
	if got, want := sn.Settings.GOMAXPROCS, runtime.GOMAXPROCS(0); got != want {
		t.Errorf("GOMAXPROCS = %d, want %d", got, want)
	}
	if got, want := sn.Settings.GOMEMLIMIT, debug.SetMemoryLimit(-1); got != want {
		t.Errorf("GOMEMLIMIT = %d, want %d", got, want)
	}
	if i := s.Index("/sched/goroutines:goroutines"); sn.Value(i) < 1 {
		t.Errorf("goroutines = %v, want >= 1", sn.Value(i))
	}
	if s.Index("/no/such:metric") != -1 {
		t.Error("Index of an unknown metric is not -1")
	}
	h := sn.Histogram(s.Index("/sched/latencies:seconds"))
	if h == nil || len(h.Buckets) != len(h.Counts)+1 {
		t.Fatalf("sched latencies histogram = %v", h)
	}
	if sn.Histogram(s.Index("/sched/goroutines:goroutines")) != nil {
		t.Error("Histogram of a scalar is not nil")
	}
	if sn.Checks != nil || sn.HaveWatchdog {
		t.Error("hooks reported without hooks installed")
	}
	if err := s.Close(); err != nil || fc.closed != 1 {
		t.Errorf("Close = %v, closed %d times", err, fc.closed)
	}
	if err := s.Close(); err != nil || fc.closed != 1 {
		t.Errorf("second Close = %v, closed %d times, want idempotent", err, fc.closed)
	}
}

func TestLimitsReadRarely(t *testing.T) {
	fc := newFake()
	s, err := New(WithMinInterval(0), withCgroup(fc))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		s.Read()
	}
	if fc.limitReads != 1 || fc.reads != 10 {
		t.Errorf("limits read %d times and counters %d times over 10 reads, want 1 and 10", fc.limitReads, fc.reads)
	}
}

func TestCgroupErrorsAreAbsentFigures(t *testing.T) {
	fc := newFake()
	fc.limitsErr = errors.New("boom")
	s, err := New(withCgroup(errStats{fc}))
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(sn *Snapshot) {
		if sn.HaveLimits || sn.Cgroup.HaveCPU || sn.Cgroup.HaveMemory {
			t.Errorf("failing cgroup reported figures: %+v %+v", sn.Limits, sn.Cgroup)
		}
		if sn.Value(s.Index("/sched/goroutines:goroutines")) < 1 {
			t.Error("runtime figures missing when the cgroup fails")
		}
	})
}

type errStats struct{ *fakeCgroup }

func (errStats) ReadStats(*cgroup.Stats) error { return errors.New("no counters") }

func TestHooks(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	lim := debug.SetMemoryLimit(-1)
	tests := []struct {
		name         string
		opts         []Option
		wantProcsSrc string
		wantMemSrc   string
		wantChecks   int
		wantWatchdog bool
	}{
		{
			name:         "hook sources used when values match",
			opts:         []Option{WithSettings(func() Settings { return Settings{procs, "cgroup", lim, "cgroup"} })},
			wantProcsSrc: "cgroup", wantMemSrc: "cgroup",
		},
		{
			name:         "hook sources ignored when the value changed since",
			opts:         []Option{WithSettings(func() Settings { return Settings{procs + 1, "cgroup", lim - 1, "cgroup"} })},
			wantProcsSrc: inferredProcs(procs), wantMemSrc: inferredMem(lim),
		},
		{
			name:         "panicking hooks are left out",
			opts:         []Option{WithSettings(func() Settings { panic("x") }), WithChecks(func() []Check { panic("x") }), WithWatchdog(func() WatchdogState { panic("x") })},
			wantProcsSrc: inferredProcs(procs), wantMemSrc: inferredMem(lim),
		},
		{
			name: "checks and watchdog",
			opts: []Option{
				WithChecks(func() []Check { return []Check{{Name: "GOMAXPROCS", OK: true}, {Name: "GOTRACEBACK"}} }),
				WithWatchdog(func() WatchdogState { return WatchdogState{Baseline: 10, Goroutines: 50, Suspected: true, Reports: 2} }),
			},
			wantProcsSrc: inferredProcs(procs), wantMemSrc: inferredMem(lim), wantChecks: 2, wantWatchdog: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(append(tt.opts, withCgroup(newFake()))...)
			if err != nil {
				t.Fatal(err)
			}
			s.View(func(sn *Snapshot) {
				if sn.Settings.GOMAXPROCSSource != tt.wantProcsSrc || sn.Settings.GOMEMLIMITSource != tt.wantMemSrc {
					t.Errorf("sources = %q, %q; want %q, %q", sn.Settings.GOMAXPROCSSource, sn.Settings.GOMEMLIMITSource, tt.wantProcsSrc, tt.wantMemSrc)
				}
				if sn.Settings.GOMAXPROCS != procs || sn.Settings.GOMEMLIMIT != lim {
					t.Errorf("values = %d, %d; want the live %d, %d", sn.Settings.GOMAXPROCS, sn.Settings.GOMEMLIMIT, procs, lim)
				}
				if len(sn.Checks) != tt.wantChecks || sn.HaveWatchdog != tt.wantWatchdog {
					t.Errorf("checks = %v, watchdog = %v; want %d checks, watchdog %v", sn.Checks, sn.HaveWatchdog, tt.wantChecks, tt.wantWatchdog)
				}
				if tt.wantWatchdog && (sn.Watchdog.Goroutines != 50 || !sn.Watchdog.Suspected) {
					t.Errorf("watchdog = %+v", sn.Watchdog)
				}
			})
		})
	}
}

func inferredProcs(procs int) string {
	if envInt("GOMAXPROCS") == int64(procs) {
		return "env"
	}
	return "runtime"
}

func inferredMem(lim int64) string {
	switch {
	case envMemLimit() == lim:
		return "env"
	case lim == math.MaxInt64:
		return "unset"
	}
	return "runtime"
}

func TestEnvMemLimit(t *testing.T) {
	tests := []struct {
		env  string
		want int64
	}{
		{"", -1}, {"off", math.MaxInt64}, {"1024", 1024}, {"10KiB", 10 << 10}, {"3MiB", 3 << 20},
		{"2GiB", 2 << 30}, {"1TiB", 1 << 40}, {"7B", 7}, {"x", -1}, {"-5", -1}, {"99999999999TiB", -1},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tt.env)
			if got := envMemLimit(); got != tt.want {
				t.Errorf("envMemLimit(%q) = %d, want %d", tt.env, got, tt.want)
			}
		})
	}
}

func TestNegativeInterval(t *testing.T) {
	if _, err := New(WithMinInterval(-time.Second)); err == nil {
		t.Error("New accepted a negative interval")
	}
}

func TestReadDoesNotAllocate(t *testing.T) {
	s, err := New(WithMinInterval(0), withCgroup(newFake()))
	if err != nil {
		t.Fatal(err)
	}
	s.Read() // limits are read on the first read only
	if n := testing.AllocsPerRun(100, s.Read); n != 0 {
		t.Errorf("Read allocates %v times, want 0", n)
	}
}

func TestLiveCgroupNeverPanics(t *testing.T) {
	// Whatever state package cgroup is in on this machine, a sampler over
	// the real cgroup reads the runtime and does not panic.
	s, err := New(WithMinInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(sn *Snapshot) {
		if sn.Value(s.Index("/sched/goroutines:goroutines")) < 1 {
			t.Error("no goroutines read")
		}
		t.Logf("limits (have %v): %+v; stats %+v", sn.HaveLimits, sn.Limits, sn.Cgroup)
	})
}

func BenchmarkSamplerRead(b *testing.B) {
	s, err := New(WithMinInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Read()
	b.ReportAllocs()
	for b.Loop() {
		s.Read()
	}
}

func BenchmarkSamplerViewShared(b *testing.B) {
	s, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n uint64
	b.ReportAllocs()
	for b.Loop() {
		s.View(func(sn *Snapshot) { n += sn.Generation })
	}
}

// BenchmarkRuntimeRead is the runtime/metrics part of a read alone.
func BenchmarkRuntimeRead(b *testing.B) {
	s, err := New(WithMinInterval(0), withCgroup(newFake()))
	if err != nil {
		b.Fatal(err)
	}
	samples := s.snap.Runtime
	b.ReportAllocs()
	for b.Loop() {
		rtm.Read(samples)
	}
}

// BenchmarkCgroupRead is the cgroup counters part of a read alone.
func BenchmarkCgroupRead(b *testing.B) {
	r, err := cgroup.NewStatReader()
	if err != nil {
		b.Skip(err)
	}
	defer r.Close()
	var st cgroup.Stats
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Read(&st); err != nil {
			b.Fatal(err)
		}
	}
}
