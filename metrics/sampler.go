package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	rtm "runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/govitals/vitals/cgroup"
)

// DefaultMinInterval is the minimum time between two reads when
// [WithMinInterval] is not given.
const DefaultMinInterval = time.Second

// limitsInterval is how often the cgroup limits are re-read.
const limitsInterval = 30 * time.Second

// Snapshot is one read of the runtime and the cgroup. A Snapshot handed to a
// [Sampler.View] callback is shared by every concurrent scraper: read it,
// never modify or retain it.
type Snapshot struct {
	// Generation increases by one with every read; exporters use it to
	// cache what they derive from a snapshot.
	Generation uint64
	// Time is when the read happened.
	Time time.Time
	// Runtime holds one sample per entry of [Sampler.Descriptions], in the
	// same order.
	Runtime []rtm.Sample
	// Goroutines is [runtime.NumGoroutine] right after the runtime read:
	// the program's goroutines, without the runtime's own system
	// goroutines (GC workers, the scavenger, ...), which
	// /sched/goroutines:goroutines in Runtime includes. It is the count
	// client_golang's go_goroutines and a goroutine dump (below
	// GOTRACEBACK=system) show.
	Goroutines int
	// Limits are the cgroup limits, re-read at most every 30 seconds.
	// HaveLimits is false when they could not be read at all.
	Limits     cgroup.Limits
	HaveLimits bool
	// Cgroup are the live cgroup counters; see its HaveCPU and HaveMemory.
	Cgroup cgroup.Stats
	// Settings are the live GOMAXPROCS and GOMEMLIMIT with their sources:
	// the values always come from the runtime; the sources come from the
	// [WithSettings] hook when its values still match, else they are
	// inferred ("env" when the environment variable set the value, "unset"
	// for a GOMEMLIMIT of math.MaxInt64, "runtime" otherwise).
	Settings Settings
	// Checks are the [WithChecks] hook's items; nil without the hook.
	Checks []Check
	// Watchdog is the [WithWatchdog] hook's state; HaveWatchdog is false
	// without the hook.
	Watchdog     WatchdogState
	HaveWatchdog bool
}

// Value returns sample i of [Snapshot.Runtime] as a float64: 0 for a
// histogram or a metric the running Go does not support.
func (s *Snapshot) Value(i int) float64 {
	if i < 0 || i >= len(s.Runtime) {
		return 0
	}
	v := s.Runtime[i].Value
	switch v.Kind() {
	case rtm.KindUint64:
		return float64(v.Uint64())
	case rtm.KindFloat64:
		return v.Float64()
	}
	return 0
}

// Histogram returns sample i of [Snapshot.Runtime] as a histogram, or nil
// when it is not one.
func (s *Snapshot) Histogram(i int) *rtm.Float64Histogram {
	if i < 0 || i >= len(s.Runtime) || s.Runtime[i].Value.Kind() != rtm.KindFloat64Histogram {
		return nil
	}
	return s.Runtime[i].Value.Float64Histogram()
}

// Sampler reads the runtime and the cgroup at most once per minimum
// interval and shares each read among concurrent scrapers. Create one with
// [New]; it is safe for concurrent use.
type Sampler struct {
	cfg   config
	descs []rtm.Description
	index map[string]int
	cg    cgroupSource

	iGOMAXPROCS, iGOMEMLIMIT int
	envProcs, envMemLimit    int64 // -1 when the environment did not set them

	mu         sync.RWMutex
	snap       Snapshot
	read       bool      // snap holds at least one read
	last       time.Time // monotonic time of the last read
	lastLimits time.Time
	checks     []Check // reused buffer behind snap.Checks
	cgErrOnce  bool
	closed     bool
}

// New returns a Sampler over every metric of [runtime/metrics.All] and the
// cgroup of the current process. It allocates the samples once (about 10 KiB
// with the histograms) and opens the cgroup counter files; it does not read
// anything until the first [Sampler.View] or [Sampler.Read]. The cgroup part
// never makes New fail: without a readable cgroup the cgroup fields of the
// snapshots are simply absent. Call [Sampler.Close] to close the files.
func New(opts ...Option) (*Sampler, error) {
	cfg := config{minInterval: DefaultMinInterval}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.minInterval < 0 {
		return nil, fmt.Errorf("metrics: negative minimum interval %v", cfg.minInterval)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Sampler{cfg: cfg, index: map[string]int{}}
	for _, d := range rtm.All() {
		switch d.Kind {
		case rtm.KindUint64, rtm.KindFloat64, rtm.KindFloat64Histogram:
		default:
			continue // a kind this Go version added and we do not know
		}
		s.index[d.Name] = len(s.descs)
		s.descs = append(s.descs, d)
	}
	s.snap.Runtime = make([]rtm.Sample, len(s.descs))
	for i, d := range s.descs {
		s.snap.Runtime[i].Name = d.Name
	}
	// Size the histogram buffers now so that later reads do not allocate.
	rtm.Read(s.snap.Runtime)
	s.iGOMAXPROCS = s.Index("/sched/gomaxprocs:threads")
	s.iGOMEMLIMIT = s.Index("/gc/gomemlimit:bytes")
	s.envProcs = envInt("GOMAXPROCS")
	s.envMemLimit = envMemLimit()
	if cfg.cgroup != nil {
		s.cg = cfg.cgroup
	} else {
		s.cg = newLiveCgroup()
	}
	return s, nil
}

// Descriptions returns the runtime metrics the sampler reads, in the order of
// [Snapshot.Runtime]. The slice is shared: do not modify it.
func (s *Sampler) Descriptions() []rtm.Description { return s.descs }

// Index returns the position of the runtime metric name in
// [Snapshot.Runtime], or -1 when the running Go does not support it.
func (s *Sampler) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// MinInterval returns the minimum time between two reads.
func (s *Sampler) MinInterval() time.Duration { return s.cfg.minInterval }

// View calls fn with a snapshot no older than the minimum interval, reading
// first when the last read is older. Concurrent callers inside the interval
// share one read; fn runs under a read lock, so it must be quick, must not
// call View again and must not keep the snapshot after it returns.
// Cost: nothing beyond fn when the last read is fresh, else one read (see
// the package documentation).
func (s *Sampler) View(fn func(*Snapshot)) {
	s.mu.RLock()
	if s.freshLocked() {
		defer s.mu.RUnlock()
		fn(&s.snap)
		return
	}
	s.mu.RUnlock()
	s.refresh()
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(&s.snap)
}

// Read reads the runtime and the cgroup now, whatever the minimum interval.
// It is the raw cost of a sample: 0 allocations, a few microseconds.
func (s *Sampler) Read() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readLocked()
}

// refresh reads unless another caller did while this one waited for the
// lock: that is how concurrent scrapes share one read.
func (s *Sampler) refresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.freshLocked() {
		s.readLocked()
	}
}

// Close closes the cgroup counter files. Idempotent; a closed Sampler keeps
// reading the runtime but no longer the cgroup.
func (s *Sampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.cg.Close()
}

func (s *Sampler) freshLocked() bool {
	return s.read && s.cfg.minInterval > 0 && time.Since(s.last) < s.cfg.minInterval
}

func (s *Sampler) readLocked() {
	now := time.Now()
	rtm.Read(s.snap.Runtime)
	sn := &s.snap
	sn.Goroutines = runtime.NumGoroutine()
	sn.Generation++
	sn.Time = now
	s.last = now
	s.read = true

	if !s.closed {
		if s.lastLimits.IsZero() || now.Sub(s.lastLimits) >= limitsInterval {
			s.lastLimits = now
			l, err := s.cg.Limits()
			sn.Limits, sn.HaveLimits = l, err == nil
			s.logCgroupErr(err)
		}
		if err := s.cg.ReadStats(&sn.Cgroup); err != nil {
			sn.Cgroup = cgroup.Stats{}
			s.logCgroupErr(err)
		}
	} else {
		sn.Cgroup = cgroup.Stats{}
	}

	s.settingsLocked()

	sn.Checks = nil
	if s.cfg.checks != nil {
		if cs, ok := callHook(s.cfg.checks); ok {
			s.checks = append(s.checks[:0], cs...)
			sn.Checks = s.checks
		}
	}
	sn.HaveWatchdog = false
	if s.cfg.watchdog != nil {
		sn.Watchdog, sn.HaveWatchdog = callHook(s.cfg.watchdog)
	}
}

func (s *Sampler) settingsLocked() {
	sn := &s.snap
	procs := int64(sn.Value(s.iGOMAXPROCS))
	memlimit := int64(math.MaxInt64)
	if s.iGOMEMLIMIT >= 0 {
		memlimit = int64(sn.Runtime[s.iGOMEMLIMIT].Value.Uint64())
	}
	var hook Settings
	haveHook := false
	if s.cfg.settings != nil {
		hook, haveHook = callHook(s.cfg.settings)
	}
	st := Settings{GOMAXPROCS: int(procs), GOMEMLIMIT: memlimit}
	switch {
	case haveHook && int64(hook.GOMAXPROCS) == procs && hook.GOMAXPROCSSource != "":
		st.GOMAXPROCSSource = hook.GOMAXPROCSSource
	case s.envProcs == procs:
		st.GOMAXPROCSSource = "env"
	default:
		st.GOMAXPROCSSource = "runtime"
	}
	switch {
	case haveHook && hook.GOMEMLIMIT == memlimit && hook.GOMEMLIMITSource != "":
		st.GOMEMLIMITSource = hook.GOMEMLIMITSource
	case s.envMemLimit == memlimit:
		st.GOMEMLIMITSource = "env"
	case memlimit == math.MaxInt64:
		st.GOMEMLIMITSource = "unset"
	default:
		st.GOMEMLIMITSource = "runtime"
	}
	sn.Settings = st
}

func (s *Sampler) logCgroupErr(err error) {
	if err == nil || s.cgErrOnce {
		return
	}
	s.cgErrOnce = true
	s.cfg.logger.Debug("metrics: cgroup figures unavailable", "err", err)
}

// callHook calls a user hook, recovering a panic: a failing hook must not
// take the scrape, let alone the service, down.
func callHook[T any](f func() T) (v T, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f(), true
}

func envInt(name string) int64 {
	v, ok := os.LookupEnv(name)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

// envMemLimit parses GOMEMLIMIT the way the runtime does (a number with an
// optional B, KiB, MiB, GiB or TiB suffix, or "off").
func envMemLimit() int64 {
	v, ok := os.LookupEnv("GOMEMLIMIT")
	if !ok {
		return -1
	}
	return parseMemLimit(v)
}

// parseMemLimit parses a GOMEMLIMIT value; -1 when it is not one.
func parseMemLimit(v string) int64 {
	if v == "" {
		return -1
	}
	if v == "off" {
		return math.MaxInt64
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if len(v) > len(u.suffix) && v[len(v)-len(u.suffix):] == u.suffix {
			v, mult = v[:len(v)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return -1
	}
	return n * mult
}

// errNoCgroup is returned by sources that have nothing to read.
var errNoCgroup = errors.New("metrics: no cgroup counters")
