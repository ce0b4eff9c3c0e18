package incident

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	rtm "runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/tracecap"
)

// BundleSuffix is the file-name suffix of every bundle: bundles are zip files.
const BundleSuffix = ".zip"

// ErrBusy is returned by [Monitor.Capture] while another capture runs: there
// is never more than one at a time.
var ErrBusy = errors.New("incident: a capture is already running")

// ErrRateLimited is returned by [Monitor.Capture] within [ManualInterval] of
// the previous manual capture.
var ErrRateLimited = errors.New("incident: manual capture rate limited")

// ErrClosed is returned by [Monitor.Capture] after [Monitor.Close].
var ErrClosed = errors.New("incident: monitor closed")

// Incident describes one capture: what fired, and the bundle written.
type Incident struct {
	Trigger Trigger   `json:"trigger"`
	Reason  string    `json:"reason"`
	Time    time.Time `json:"time"`
	// Values are the readings that fired (empty for manual captures).
	Values []Value `json:"values,omitempty"`
	// Path is the bundle's file; empty when it could not be written.
	Path  string `json:"path,omitempty"`
	Bytes int64  `json:"bytes"`
	// Took is from the trigger to the bundle closed on disk.
	Took time.Duration `json:"took_ns"`
	// Err says why the bundle is missing or incomplete ("" when complete).
	Err string `json:"error,omitempty"`
}

// Metric names read by the checks. Unsupported ones read as zero.
const (
	mTotal      = "/memory/classes/total:bytes"
	mReleased   = "/memory/classes/heap/released:bytes"
	mGoroutines = "/sched/goroutines:goroutines"
	mMemLimit   = "/gc/gomemlimit:bytes"
	mGCCPU      = "/cpu/classes/gc/total:cpu-seconds"
	mTotalCPU   = "/cpu/classes/total:cpu-seconds"
	mIdleCPU    = "/cpu/classes/idle:cpu-seconds"
	mCycles     = "/gc/cycles/total:gc-cycles"
	mHeapLive   = "/gc/heap/live:bytes"
	mHeapGoal   = "/gc/heap/goal:bytes"
	mLatencies  = "/sched/latencies:seconds"
)

const ringLen = 64 // one point a second: the window (<= 60 s) plus slack

// point is one second of history.
type point struct {
	wall                int64 // unix nanoseconds
	gcCPU, total, idle  float64
	cycles              uint64
	heapLive, heapGoal  uint64
	used                uint64
	gMin, gMax          uint64
	periods, throttled  uint64
	procCPU             int64 // ns of user+system time
	cgUsage             uint64
	haveCPUStat, filled bool
}

// Monitor watches the process for trouble and writes a bundle when it finds
// some. Create one with [New], arm it with [Monitor.Start]. It is safe for
// concurrent use.
type Monitor struct {
	cfg    config
	dir    *tracecap.Dir
	rec    snapshotter
	own    *tracecap.Recorder
	stat   *cgroup.StatReader
	recErr string

	mu       sync.Mutex // the check state below
	fast     []rtm.Sample
	slow     []rtm.Sample
	cg       cgroup.Stats
	limits   cgroup.Limits
	haveLim  bool
	limAt    time.Time
	cgMem    uint64 // lowest of memory.max and memory.high, 0 = none
	quota    float64
	memLimit uint64 // GOMEMLIMIT, 0 = none
	ring     [ringLen]point
	lat      [ringLen][]uint64
	latB     []float64
	head     int // index of the newest point
	filled   int
	slowAt   time.Time
	gMin     uint64
	gMax     uint64
	ru       syscall.Rusage
	last     [numTriggers]time.Time
	tokens   float64
	tokenAt  time.Time
	manualAt time.Time

	busy    atomic.Bool
	counts  [numTriggers]atomic.Uint64
	fails   atomic.Uint64
	checks  atomic.Uint64
	recentM sync.Mutex
	recent  []Incident

	lifeMu  sync.Mutex
	running bool
	closed  bool
	stop    chan struct{}
	sig     chan os.Signal
	wg      sync.WaitGroup
}

// New validates the options, opens (creating it) the bundle directory dir,
// capped per [Caps], and returns a Monitor that is not armed yet. It costs a
// directory read and the check's buffers (a few KiB).
func New(dir string, opts ...Option) (*Monitor, error) {
	c := defaults()
	for _, o := range opts {
		if o == nil {
			c.err = errors.Join(c.err, errNilOption)
			continue
		}
		o.apply(&c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if dir == "" {
		return nil, errors.New("incident: New: empty directory")
	}
	d, err := tracecap.OpenDirSuffix(dir, BundleSuffix, c.maxFiles, c.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("incident: %w", err)
	}
	m := &Monitor{cfg: c, dir: d, rec: c.recorder}
	m.fast = samples(mTotal, mReleased, mGoroutines, mMemLimit)
	m.slow = samples(mGCCPU, mTotalCPU, mIdleCPU, mCycles, mHeapLive, mHeapGoal, mLatencies)
	// Size the latency rings once, from a first read.
	rtm.Read(m.slow)
	if m.slow[6].Value.Kind() == rtm.KindFloat64Histogram {
		h := m.slow[6].Value.Float64Histogram()
		m.latB = append([]float64(nil), h.Buckets...)
		for i := range m.lat {
			m.lat[i] = make([]uint64, len(h.Counts))
		}
	}
	m.tokens = float64(c.burst)
	return m, nil
}

func samples(names ...string) []rtm.Sample {
	s := make([]rtm.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	return s
}

func u64(s *rtm.Sample) uint64 {
	if s.Value.Kind() == rtm.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}

func f64(s *rtm.Sample) float64 {
	if s.Value.Kind() == rtm.KindFloat64 {
		return s.Value.Float64()
	}
	return 0
}

// Dir returns the capped bundle directory.
func (m *Monitor) Dir() *tracecap.Dir { return m.dir }

// Bundles returns the paths of the bundles on disk, oldest first.
func (m *Monitor) Bundles() []string { return m.dir.Files() }

// Start arms the monitor: a goroutine checks the triggers every
// [CheckEvery], and unless [NoFlightRecorder] or [WithRecorder], a flight
// recorder starts (a few percent of CPU; if another one already runs in the
// process, bundles go without a trace and the manifest says why). Start
// returns an error only when the monitor is closed. The checks stop when ctx
// is done (the flight recorder keeps running until [Monitor.Close], which
// stops everything). Starting a started monitor is a no-op.
func (m *Monitor) Start(ctx context.Context) error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.running {
		return nil
	}
	if m.rec == nil && !m.cfg.noFlight {
		opts := append([]tracecap.Option{tracecap.WithMinInterval(0), tracecap.WithLogger(m.cfg.logger)}, m.cfg.flightOpts...)
		r, err := tracecap.NewRecorder(opts...)
		if err == nil {
			err = r.Start()
		}
		if err != nil {
			m.recErr = err.Error()
			m.cfg.logger.Warn("incident: armed without a flight recorder", "err", err)
		} else {
			m.own, m.rec = r, r
		}
	}
	if m.stat == nil {
		if st, err := cgroup.NewStatReader(); err == nil {
			m.stat = st
		} else {
			m.cfg.logger.Debug("incident: no cgroup counters", "err", err)
		}
	}
	m.stop = make(chan struct{})
	if m.sig != nil { // armed before, disarmed by its context
		signal.Stop(m.sig)
	}
	if len(m.cfg.signals) > 0 {
		m.sig = make(chan os.Signal, 1)
		signal.Notify(m.sig, m.cfg.signals...)
	}
	m.running = true
	m.mu.Lock()
	m.checkLocked(time.Now()) // the first point and limits, never fires: no history yet
	m.mu.Unlock()
	m.wg.Add(1)
	go m.loop(ctx, m.stop, m.sig)
	return nil
}

func (m *Monitor) loop(ctx context.Context, stop chan struct{}, sig chan os.Signal) {
	defer m.wg.Done()
	t := time.NewTimer(m.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.lifeMu.Lock()
			if m.stop == stop {
				m.running = false // disarmed; Start may arm it again
			}
			m.lifeMu.Unlock()
			return
		case <-stop:
			return
		case <-sig:
			m.wg.Add(1) // Close waits for it
			go func() {
				defer m.wg.Done()
				if _, err := m.Capture(context.Background(), "signal"); err != nil {
					m.cfg.logger.Warn("incident: signal capture", "err", err)
				}
			}()
		case now := <-t.C:
			t.Reset(m.check(now))
		}
	}
}

// check runs the triggers once, launches a capture when one fires, and
// returns when to check next.
func (m *Monitor) check(now time.Time) time.Duration {
	m.mu.Lock()
	ev, ok := m.checkLocked(now)
	next := m.nextLocked()
	m.mu.Unlock()
	if ok {
		m.launch(ev)
	}
	return next
}

// nextLocked is the fast interval while memory is near a threshold, else
// the idle one. m.mu must be held.
func (m *Monitor) nextLocked() time.Duration {
	fast, idle := m.cfg.interval, max(m.cfg.idle, m.cfg.interval)
	if fast == idle || m.filled == 0 {
		return fast
	}
	// growth is bytes per second over the last second of history.
	growth := func(field func(*point) uint64) float64 {
		if m.filled < 2 {
			return 0
		}
		cur, prev := &m.ring[m.head], &m.ring[(m.head-1+ringLen)%ringLen]
		dt := float64(cur.wall-prev.wall) / 1e9
		if dt <= 0 || field(cur) <= field(prev) {
			return 0
		}
		return float64(field(cur)-field(prev)) / dt
	}
	// soon: on course to cross thr within 3 s at that growth.
	soon := func(v, thr uint64, g float64) bool { return v >= thr || (g > 0 && float64(thr-v) < 3*g) }
	used := sat(u64(&m.fast[0]), u64(&m.fast[1]))
	if v, thr, lim, ok := m.memoryReading(used); ok {
		if float64(v) >= float64(lim)*(m.cfg.memFrac-0.1) || soon(v, thr, growth(func(p *point) uint64 { return p.used })) {
			return fast
		}
	}
	if v, thr, _, ok := m.cgroupReading(); ok && soon(v, thr, growth(func(p *point) uint64 { return p.cgUsage })) {
		return fast
	}
	return idle
}

// event is a fired trigger on its way to a capture.
type event struct {
	trigger Trigger
	reason  string
	at      time.Time
	values  []Value
	light   bool
	cpu     bool
}

// checkLocked reads the runtime and the cgroup and evaluates the triggers.
// It does not allocate unless it fires (or re-reads the limits, once a
// minute). m.mu must be held.
func (m *Monitor) checkLocked(now time.Time) (event, bool) {
	m.checks.Add(1)
	rtm.Read(m.fast)
	used := sat(u64(&m.fast[0]), u64(&m.fast[1]))
	g := u64(&m.fast[2])
	m.memLimit = u64(&m.fast[3])
	if m.memLimit >= math.MaxInt64 {
		m.memLimit = 0
	}
	if m.stat != nil {
		_ = m.stat.Read(&m.cg)
	}
	if m.limAt.IsZero() || now.Sub(m.limAt) >= time.Minute {
		m.refreshLimits(now)
	}
	if m.gMin == 0 || g < m.gMin {
		m.gMin = g
	}
	if g > m.gMax {
		m.gMax = g
	}
	first := m.slowAt.IsZero()
	if first || now.Sub(m.slowAt) >= time.Second {
		m.pushPoint(now, used)
	}
	if first {
		return event{}, false
	}

	if v, thr, lim, ok := m.memoryReading(used); ok && v >= thr {
		if m.admit(Memory, now) {
			vals := []Value{{Name: "go_memory_bytes", Value: float64(v), Threshold: float64(thr), Limit: float64(lim), Unit: "bytes", Fired: true}}
			return m.event(Memory, now, fmt.Sprintf("Go memory %s is %.0f%% of the effective limit %s", mib(v), 100*float64(v)/float64(lim), mib(lim)), vals), true
		}
	}
	if v, thr, lim, ok := m.cgroupReading(); ok && v >= thr {
		if m.admit(Memory, now) {
			vals := []Value{{Name: "cgroup_memory_usage_bytes", Value: float64(v), Threshold: float64(thr), Limit: float64(lim), Unit: "bytes", Fired: true}}
			return m.event(Memory, now, fmt.Sprintf("cgroup memory usage %s is %.0f%% of its limit %s", mib(v), 100*float64(v)/float64(lim), mib(lim)), vals), true
		}
	}
	if base, ok := m.spikeBase(now); ok && g >= uint64(m.cfg.spikeMin) && float64(g) >= m.cfg.spikeFactor*float64(base) {
		if m.admit(Goroutines, now) {
			vals := []Value{{Name: "goroutines", Value: float64(g), Threshold: math.Max(float64(m.cfg.spikeMin), m.cfg.spikeFactor*float64(base)), Limit: float64(base), Unit: "goroutines", Fired: true}}
			return m.event(Goroutines, now, fmt.Sprintf("goroutines jumped from %d to %d within %v", base, g, m.cfg.spikeWithin), vals), true
		}
	}
	if share, ok := m.gcShare(); ok && share >= m.cfg.gcShare {
		if m.admit(GC, now) {
			vals := []Value{{Name: "gc_cpu_share", Value: share, Threshold: m.cfg.gcShare, Unit: "ratio", Fired: true}}
			return m.event(GC, now, fmt.Sprintf("GC used %.0f%% of all CPU over %v", 100*share, m.cfg.window), vals), true
		}
	}
	if r, ok := m.throttleRatio(); ok && r >= m.cfg.throttle {
		if m.admit(CPU, now) {
			vals := []Value{{Name: "cpu_throttled_periods_ratio", Value: r, Threshold: m.cfg.throttle, Unit: "ratio", Fired: true}}
			return m.event(CPU, now, fmt.Sprintf("cgroup throttled %.0f%% of CPU periods over %v", 100*r, m.cfg.window), vals), true
		}
	}
	if used, ok := m.quotaUse(); ok && used >= m.cfg.saturation*m.quota {
		if m.admit(CPU, now) {
			vals := []Value{{Name: "cpu_used_cpus", Value: used, Threshold: m.cfg.saturation * m.quota, Limit: m.quota, Unit: "cpus", Fired: true}}
			return m.event(CPU, now, fmt.Sprintf("process used %.2f of its %.2f CPU quota over %v", used, m.quota, m.cfg.window), vals), true
		}
	}
	if p99, ok := m.latencyP99(); ok && p99 >= m.cfg.latency.Seconds() {
		if m.admit(Latency, now) {
			vals := []Value{{Name: "sched_latency_p99_seconds", Value: p99, Threshold: m.cfg.latency.Seconds(), Unit: "seconds", Fired: true}}
			return m.event(Latency, now, fmt.Sprintf("scheduler latency p99 %v over %v", time.Duration(p99*1e9), m.cfg.window), vals), true
		}
	}
	return event{}, false
}

func (m *Monitor) event(t Trigger, now time.Time, reason string, vals []Value) event {
	ev := event{trigger: t, reason: reason, at: now, values: vals, cpu: t == CPU}
	ev.light = t == Memory || m.nearLimit()
	return ev
}

// nearLimit reports whether the process is within 10% of its effective
// memory limit: bundles are lighter then. m.mu must be held.
func (m *Monitor) nearLimit() bool {
	used := sat(u64(&m.fast[0]), u64(&m.fast[1]))
	lim := m.effective()
	return lim > 0 && float64(used) >= 0.9*float64(lim)
}

func sat(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (m *Monitor) refreshLimits(now time.Time) {
	m.limAt = now
	l := cgroup.Read()
	m.limits, m.haveLim = l, l.Version != cgroup.VersionUnknown
	m.cgMem = 0
	if l.Memory.Limited {
		m.cgMem = minNonZero(l.Memory.Max, l.Memory.High)
	}
	m.quota = 0
	if l.CPU.Limited && l.CPU.Quota > 0 {
		m.quota = l.CPU.Quota
	}
}

func minNonZero(vs ...uint64) uint64 {
	var out uint64
	for _, v := range vs {
		if v != 0 && (out == 0 || v < out) {
			out = v
		}
	}
	return out
}

// effective is the lowest of GOMEMLIMIT and the cgroup limits, 0 for none.
func (m *Monitor) effective() uint64 { return minNonZero(m.memLimit, m.cgMem) }

func (m *Monitor) memoryReading(used uint64) (v, thr, lim uint64, ok bool) {
	lim = m.effective()
	if lim == 0 || m.cfg.disabled[Memory] {
		return 0, 0, 0, false
	}
	return used, uint64(m.cfg.memFrac * float64(lim)), lim, true
}

func (m *Monitor) cgroupReading() (v, thr, lim uint64, ok bool) {
	if !m.cg.HaveMemory || m.cgMem == 0 || m.cfg.disabled[Memory] {
		return 0, 0, 0, false
	}
	return m.cg.MemoryUsage, uint64(m.cfg.cgFrac * float64(m.cgMem)), m.cgMem, true
}

// back returns the point about d before the newest one, if the history
// reaches that far.
func (m *Monitor) back(d time.Duration) (*point, bool) {
	k := int(d / time.Second)
	if k < 1 {
		k = 1
	}
	if k >= m.filled {
		return nil, false
	}
	return &m.ring[(m.head-k+ringLen)%ringLen], true
}

func (m *Monitor) spikeBase(now time.Time) (uint64, bool) {
	if m.cfg.disabled[Goroutines] || m.filled < 2 {
		return 0, false
	}
	var base uint64
	k := int(m.cfg.spikeWithin / time.Second)
	for i := 0; i < k && i < m.filled; i++ {
		p := &m.ring[(m.head-i+ringLen)%ringLen]
		if base == 0 || p.gMin < base {
			base = p.gMin
		}
	}
	return base, base > 0
}

func (m *Monitor) gcShare() (float64, bool) {
	if m.cfg.disabled[GC] {
		return 0, false
	}
	old, ok := m.back(m.cfg.window)
	if !ok {
		return 0, false
	}
	cur := &m.ring[m.head]
	dt := cur.total - old.total
	if dt <= 0 || cur.cycles == old.cycles {
		return 0, false
	}
	return (cur.gcCPU - old.gcCPU) / dt, true
}

func (m *Monitor) throttleRatio() (float64, bool) {
	if m.cfg.disabled[CPU] {
		return 0, false
	}
	old, ok := m.back(m.cfg.window)
	cur := &m.ring[m.head]
	if !ok || !cur.haveCPUStat || !old.haveCPUStat {
		return 0, false
	}
	dp := sat(cur.periods, old.periods)
	if dp < 10 {
		return 0, false
	}
	return float64(sat(cur.throttled, old.throttled)) / float64(dp), true
}

// quotaUse is the CPUs the process used over the window, when it has a quota.
func (m *Monitor) quotaUse() (float64, bool) {
	if m.cfg.disabled[CPU] || m.quota <= 0 {
		return 0, false
	}
	old, ok := m.back(m.cfg.window)
	if !ok {
		return 0, false
	}
	cur := &m.ring[m.head]
	wall := cur.wall - old.wall
	if wall <= 0 {
		return 0, false
	}
	return float64(cur.procCPU-old.procCPU) / float64(wall), true
}

func (m *Monitor) latencyP99() (float64, bool) {
	if m.cfg.disabled[Latency] || m.latB == nil {
		return 0, false
	}
	k := int(m.cfg.window / time.Second)
	if k >= m.filled {
		return 0, false
	}
	cur, old := m.lat[m.head], m.lat[(m.head-k+ringLen)%ringLen]
	var total uint64
	for i := range cur {
		total += sat(cur[i], old[i])
	}
	if total < 100 {
		return 0, false
	}
	want := uint64(math.Ceil(0.99 * float64(total)))
	var acc uint64
	for i := range cur {
		acc += sat(cur[i], old[i])
		if acc >= want {
			hi := m.latB[i+1]
			if math.IsInf(hi, 1) {
				hi = m.latB[i]
			}
			return hi, true
		}
	}
	return 0, false
}

// pushPoint records one second of history. m.mu must be held.
func (m *Monitor) pushPoint(now time.Time, used uint64) {
	m.slowAt = now
	rtm.Read(m.slow)
	if m.filled > 0 {
		m.head = (m.head + 1) % ringLen
	}
	if m.filled < ringLen {
		m.filled++
	}
	p := &m.ring[m.head]
	*p = point{
		wall: now.UnixNano(), gcCPU: f64(&m.slow[0]), total: f64(&m.slow[1]), idle: f64(&m.slow[2]),
		cycles: u64(&m.slow[3]), heapLive: u64(&m.slow[4]), heapGoal: u64(&m.slow[5]),
		used: used, gMin: m.gMin, gMax: m.gMax, filled: true,
	}
	m.gMin, m.gMax = 0, 0
	if m.cg.HaveMemory {
		p.cgUsage = m.cg.MemoryUsage
	}
	if m.cg.HaveCPU {
		p.periods, p.throttled, p.haveCPUStat = m.cg.Periods, m.cg.ThrottledPeriods, true
	}
	if syscall.Getrusage(syscall.RUSAGE_SELF, &m.ru) == nil {
		p.procCPU = m.ru.Utime.Nano() + m.ru.Stime.Nano()
	}
	if m.latB != nil && m.slow[6].Value.Kind() == rtm.KindFloat64Histogram {
		copy(m.lat[m.head], m.slow[6].Value.Float64Histogram().Counts)
	}
}

// admit applies the cooldown, the rate limit and one-capture-at-a-time to an
// automatic trigger, and takes the capture slot when it admits.
func (m *Monitor) admit(t Trigger, now time.Time) bool {
	if m.cfg.disabled[t] {
		return false
	}
	if !m.last[t].IsZero() && now.Sub(m.last[t]) < m.cfg.cooldown {
		return false
	}
	if !m.tokenAt.IsZero() {
		m.tokens = math.Min(float64(m.cfg.burst), m.tokens+float64(now.Sub(m.tokenAt))/float64(m.cfg.refill))
	}
	m.tokenAt = now
	if m.tokens < 1 {
		return false
	}
	if !m.busy.CompareAndSwap(false, true) {
		return false
	}
	m.tokens--
	m.last[t] = now
	return true
}

// Fire starts a capture for trigger t with reason, as if its check had
// fired, under the same cooldown, rate limit and one-at-a-time rule, and
// reports whether it was admitted. It returns at once; the bundle is written
// on a goroutine of its own. vitals.Start wires the leak watchdog's reports
// here as [Goroutines].
func (m *Monitor) Fire(t Trigger, reason string) bool {
	if t >= numTriggers || !m.armed() {
		return false
	}
	m.mu.Lock()
	now := time.Now()
	ok := m.admit(t, now)
	var ev event
	if ok {
		ev = m.event(t, now, reason, nil)
	}
	m.mu.Unlock()
	if ok {
		m.launch(ev)
	}
	return ok
}

func (m *Monitor) armed() bool {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	return m.running && !m.closed
}

// launch writes ev's bundle on a new goroutine; the capture slot is taken.
func (m *Monitor) launch(ev event) {
	m.lifeMu.Lock()
	if m.closed {
		m.lifeMu.Unlock()
		m.busy.Store(false)
		return
	}
	m.wg.Add(1)
	stop := m.stop
	m.lifeMu.Unlock()
	go func() {
		defer m.wg.Done()
		m.finish(m.capture(stop, ev))
	}()
}

// Capture writes a manual bundle now (without a CPU profile) and returns it.
// It fails with [ErrBusy] while another capture runs and [ErrRateLimited]
// within [ManualInterval] of the previous manual one. It runs on the
// caller's goroutine and takes about as long as writing the flight
// recorder's ring, a heap and goroutine profiles: tens of milliseconds to a
// second.
func (m *Monitor) Capture(ctx context.Context, reason string) (Incident, error) {
	m.lifeMu.Lock()
	if m.closed {
		m.lifeMu.Unlock()
		return Incident{}, ErrClosed
	}
	m.wg.Add(1)
	m.lifeMu.Unlock()
	defer m.wg.Done()

	now := time.Now()
	m.mu.Lock()
	if !m.manualAt.IsZero() && now.Sub(m.manualAt) < m.cfg.manualEvery {
		m.mu.Unlock()
		return Incident{}, ErrRateLimited
	}
	if !m.busy.CompareAndSwap(false, true) {
		m.mu.Unlock()
		return Incident{}, ErrBusy
	}
	m.manualAt = now
	if reason == "" {
		reason = "manual"
	}
	ev := m.event(Manual, now, reason, nil)
	m.mu.Unlock()
	inc := m.capture(ctx.Done(), ev)
	m.finish(inc)
	if inc.Path == "" {
		return inc, errors.New(inc.Err)
	}
	return inc, nil
}

// finish counts, remembers and reports a capture, and frees the slot.
func (m *Monitor) finish(inc Incident) {
	m.busy.Store(false)
	m.counts[inc.Trigger].Add(1)
	if inc.Path == "" {
		m.fails.Add(1)
	}
	m.recentM.Lock()
	m.recent = append(m.recent, inc)
	if len(m.recent) > 10 {
		m.recent = append(m.recent[:0:0], m.recent[len(m.recent)-10:]...)
	}
	m.recentM.Unlock()
	m.cfg.logger.Warn("incident: captured", "trigger", inc.Trigger.String(), "reason", inc.Reason,
		"bundle", inc.Path, "bytes", inc.Bytes, "took", inc.Took, "err", inc.Err)
	if f := m.cfg.onIncident; f != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					m.cfg.logger.Error("incident: OnIncident panicked", "panic", fmt.Sprint(r))
				}
			}()
			f(inc)
		}()
	}
}

// Count returns how many captures trigger t started since New (failed ones
// included): the value of vitals_incidents_total{trigger}.
func (m *Monitor) Count(t Trigger) uint64 {
	if t >= numTriggers {
		return 0
	}
	return m.counts[t].Load()
}

// Counts returns [Monitor.Count] for every trigger, by trigger name (every
// trigger present, zeros included); nil for a nil Monitor. It is what
// otelexport.WithIncidents observes. Cost: one small map.
func (m *Monitor) Counts() map[string]uint64 {
	if m == nil {
		return nil
	}
	out := make(map[string]uint64, numTriggers)
	for t := range numTriggers {
		out[t.String()] = m.counts[t].Load()
	}
	return out
}

// State is what the monitor reports to the admin server and doctor.
type State struct {
	Armed      bool              `json:"armed"`
	Dir        string            `json:"dir"`
	Files      int               `json:"files"`
	Bytes      int64             `json:"bytes"`
	Counts     map[string]uint64 `json:"counts"`
	Failed     uint64            `json:"failed"`
	Recent     []Incident        `json:"recent,omitempty"`
	FlightNote string            `json:"flight_recorder,omitempty"`
}

// State returns the monitor's current state. It allocates a small map.
func (m *Monitor) State() State {
	files, bytes := m.dir.Usage()
	s := State{Armed: m.armed(), Dir: m.dir.Path(), Files: files, Bytes: bytes, Counts: map[string]uint64{}, Failed: m.fails.Load()}
	for t := range numTriggers {
		s.Counts[t.String()] = m.counts[t].Load()
	}
	m.recentM.Lock()
	s.Recent = append([]Incident(nil), m.recent...)
	m.recentM.Unlock()
	m.lifeMu.Lock()
	switch {
	case m.own != nil:
		s.FlightNote = "own"
	case m.rec != nil:
		s.FlightNote = "shared"
	case m.recErr != "":
		s.FlightNote = "failed: " + m.recErr
	default:
		s.FlightNote = "off"
	}
	m.lifeMu.Unlock()
	return s
}

// Close disarms the monitor: it stops the checks, cuts a CPU profile in
// progress short (the bundle is still finished), waits for the capture in
// progress, and stops the flight recorder it started. Idempotent.
func (m *Monitor) Close() error {
	m.lifeMu.Lock()
	if m.closed {
		m.lifeMu.Unlock()
		return nil
	}
	m.closed = true
	if m.stop != nil {
		close(m.stop)
	}
	if m.sig != nil {
		signal.Stop(m.sig)
	}
	m.lifeMu.Unlock()
	m.wg.Wait()
	var errs []error
	if m.own != nil {
		errs = append(errs, m.own.Close())
	}
	if m.stat != nil {
		errs = append(errs, m.stat.Close())
	}
	return errors.Join(errs...)
}
