package incident

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/govitals/vitals/tracecap"
)

// Defaults. Each is explained on the option that changes it.
const (
	DefaultMaxFiles        = 20
	DefaultMaxBytes        = 256 << 20
	DefaultInterval        = 100 * time.Millisecond
	DefaultIdleInterval    = time.Second
	DefaultMemoryThreshold = 0.80
	DefaultCgroupThreshold = 0.95
	DefaultGCThreshold     = 0.40
	DefaultWindow          = 10 * time.Second
	DefaultSpikeFactor     = 4
	DefaultSpikeWithin     = 10 * time.Second
	DefaultSpikeMin        = 10000
	DefaultThrottle        = 0.50
	DefaultSaturation      = 0.95
	DefaultLatency         = 50 * time.Millisecond
	DefaultCooldown        = 10 * time.Minute
	DefaultBurst           = 3
	DefaultRefill          = 10 * time.Minute
	DefaultBudget          = 1000
	DefaultCPUProfile      = 10 * time.Second
	DefaultManualInterval  = 10 * time.Second
)

type config struct {
	maxFiles    int
	maxBytes    int64
	interval    time.Duration
	idle        time.Duration
	memFrac     float64
	cgFrac      float64
	gcShare     float64
	window      time.Duration
	spikeFactor float64
	spikeWithin time.Duration
	spikeMin    int
	throttle    float64
	saturation  float64
	latency     time.Duration
	cooldown    time.Duration
	burst       int
	refill      time.Duration
	budget      int
	cpuProfile  time.Duration
	manualEvery time.Duration
	disabled    [numTriggers]bool
	recorder    snapshotter
	noFlight    bool
	flightOpts  []tracecap.Option
	report      func() any
	onIncident  func(Incident)
	logger      *slog.Logger
	signals     []os.Signal
	err         error
}

// snapshotter is what a bundle needs of a flight recorder.
type snapshotter interface {
	SnapshotTo(w io.Writer, reason string) (int64, error)
}

func defaults() config {
	return config{
		maxFiles: DefaultMaxFiles, maxBytes: DefaultMaxBytes, interval: DefaultInterval,
		idle:    DefaultIdleInterval,
		memFrac: DefaultMemoryThreshold, cgFrac: DefaultCgroupThreshold, gcShare: DefaultGCThreshold,
		window: DefaultWindow, spikeFactor: DefaultSpikeFactor, spikeWithin: DefaultSpikeWithin,
		spikeMin: DefaultSpikeMin, throttle: DefaultThrottle, saturation: DefaultSaturation,
		latency: DefaultLatency, cooldown: DefaultCooldown, burst: DefaultBurst, refill: DefaultRefill,
		budget: DefaultBudget, cpuProfile: DefaultCPUProfile, manualEvery: DefaultManualInterval,
		logger: slog.New(slog.DiscardHandler),
	}
}

// Option configures [New].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ErrOption is matched (errors.Is) by [New]'s error for an invalid option.
var ErrOption = errors.New("incident: invalid option")

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrOption}, args...)...)
	}
}

func fraction(c *config, name string, v float64, dst *float64) {
	if !(v > 0 && v <= 1) {
		c.fail("%s(%v): need a fraction in (0, 1]", name, v)
		return
	}
	*dst = v
}

func positive(c *config, name string, d time.Duration, dst *time.Duration) {
	if d <= 0 {
		c.fail("%s(%v): need a positive duration", name, d)
		return
	}
	*dst = d
}

// Caps bounds the bundle directory to files bundles and bytes in total
// (default 20 and 256 MiB): the oldest bundle is removed first, and a bundle
// that alone would exceed bytes is abandoned, so the caps hold at every moment.
func Caps(files int, bytes int64) Option {
	return optionFunc(func(c *config) {
		if files < 1 || bytes < 1 {
			c.fail("Caps(%d, %d): need positive caps", files, bytes)
			return
		}
		c.maxFiles, c.maxBytes = files, bytes
	})
}

// CheckEvery sets how often the memory and goroutine triggers are checked
// while memory is near a threshold (default 100 ms: at 40 MiB/s of growth
// that is 4 MiB between checks, well inside the headroom [MemoryThreshold]
// leaves under a 256 MiB limit). "Near" means at 70% of the effective
// limit or more, or on course to reach the threshold within 3 seconds at
// the growth of the last second; otherwise checks run every
// [IdleCheckEvery]. Each check is one runtime/metrics read of 4 values and
// one pread of the cgroup's memory usage: a few microseconds of work, no
// allocation, plus the goroutine wake-up. The GC, CPU and latency triggers
// are evaluated once a second whatever this is.
func CheckEvery(d time.Duration) Option {
	return optionFunc(func(c *config) { positive(c, "CheckEvery", d, &c.interval) })
}

// IdleCheckEvery sets how often the triggers are checked while memory is
// far from its thresholds (default 1 s). Each wake-up of the checking
// goroutine costs more than the check itself (measured about 0.3 ms of
// process CPU per wake-up on a loaded 2-core VM, BenchmarkArmed in
// bench/incident), which is why the idle interval is long. A value below
// [CheckEvery] is raised to it.
func IdleCheckEvery(d time.Duration) Option {
	return optionFunc(func(c *config) { positive(c, "IdleCheckEvery", d, &c.idle) })
}

// MemoryThreshold fires the memory trigger when the Go runtime's memory
// (/memory/classes/total:bytes minus heap released to the OS, the figure
// GOMEMLIMIT bounds) reaches frac of the effective limit, the lowest of
// GOMEMLIMIT, the cgroup's memory limit and memory.high. The default 0.80
// leaves 20% headroom: with vitals' GOMEMLIMIT at 90% of a 256 MiB container,
// 46 MiB, over a second of 40 MiB/s growth, for the capture to finish before
// the kernel's OOM killer.
func MemoryThreshold(frac float64) Option {
	return optionFunc(func(c *config) { fraction(c, "MemoryThreshold", frac, &c.memFrac) })
}

// CgroupMemoryThreshold fires the memory trigger when the cgroup's own usage
// (memory.current, memory.usage_in_bytes) reaches frac of the cgroup limit
// (memory.max or memory.high). The default is 0.95 because that usage counts
// page cache the kernel reclaims before it kills, so a lower threshold fires
// for services that merely read files.
func CgroupMemoryThreshold(frac float64) Option {
	return optionFunc(func(c *config) { fraction(c, "CgroupMemoryThreshold", frac, &c.cgFrac) })
}

// GCThreshold fires the GC trigger when the collector used at least share of
// all CPU capacity (GOMAXPROCS × wall time, /cpu/classes/gc/total) over the
// [Window]. The default 0.40: the GC's background workers take 25% while
// marking and the GC CPU limiter caps it at 50% under a memory limit, so 40%
// sustained for 10 s means the collector runs back to back — the death spiral.
func GCThreshold(share float64) Option {
	return optionFunc(func(c *config) { fraction(c, "GCThreshold", share, &c.gcShare) })
}

// Window is the span the GC, CPU and latency triggers average over (default
// 10 s: long enough that one slow GC or one burst does not fire, short enough
// to capture while it is still happening). At most 60 s.
func Window(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < time.Second || d > 60*time.Second {
			c.fail("Window(%v): need 1s to 60s", d)
			return
		}
		c.window = d
	})
}

// GoroutineSpike fires the goroutine trigger when the goroutine count is at
// least factor times its lowest value within the last within, and at least
// min. Defaults: ×4 within 10 s, at least 10000 — a fan-out that quadruples
// in seconds to five figures is a pile-up (blocked callers, a retry storm),
// while ordinary load changes grow more slowly or stay small. Slow leaks are
// the watchdog's to find (see [Monitor.Fire]).
func GoroutineSpike(factor float64, within time.Duration, min int) Option {
	return optionFunc(func(c *config) {
		if factor <= 1 || within < time.Second || within > 60*time.Second || min < 1 {
			c.fail("GoroutineSpike(%v, %v, %d): need factor > 1, 1s <= within <= 60s, min >= 1", factor, within, min)
			return
		}
		c.spikeFactor, c.spikeWithin, c.spikeMin = factor, within, min
	})
}

// CPUThrottle fires the CPU trigger when the cgroup throttled at least ratio
// of its CFS periods over the [Window] (default 0.5: throttled in every other
// period means requests stall for the rest of a period, 100 ms by default,
// again and again).
func CPUThrottle(ratio float64) Option {
	return optionFunc(func(c *config) { fraction(c, "CPUThrottle", ratio, &c.throttle) })
}

// CPUSaturation fires the CPU trigger when the process's CPU time (getrusage)
// reached frac of the CPU quota over the [Window] (default 0.95: the quota is
// used up, whatever the throttling counters say). Needs a CPU quota.
func CPUSaturation(frac float64) Option {
	return optionFunc(func(c *config) { fraction(c, "CPUSaturation", frac, &c.saturation) })
}

// LatencyThreshold fires the latency trigger when the p99 of the scheduler
// latency (/sched/latencies:seconds) over the [Window] reaches d (default 50
// ms; a healthy service waits well under a millisecond for a thread) and the
// window holds at least 100 observations.
func LatencyThreshold(d time.Duration) Option {
	return optionFunc(func(c *config) { positive(c, "LatencyThreshold", d, &c.latency) })
}

// Cooldown is the least time between two captures of the same trigger
// (default 10 minutes: the first bundle of an episode is the informative one).
func Cooldown(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail("Cooldown(%v): negative", d)
			return
		}
		c.cooldown = d
	})
}

// RateLimit bounds automatic captures over all triggers: at most burst in a
// row, then one per every (default 3, then one per 10 minutes), so a flapping
// service does not spend its life writing bundles.
func RateLimit(burst int, every time.Duration) Option {
	return optionFunc(func(c *config) {
		if burst < 1 || every <= 0 {
			c.fail("RateLimit(%d, %v): need burst >= 1 and a positive interval", burst, every)
			return
		}
		c.burst, c.refill = burst, every
	})
}

// ManualInterval is the least time between two manual captures (default 10 s).
func ManualInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail("ManualInterval(%v): negative", d)
			return
		}
		c.manualEvery = d
	})
}

// GoroutineBudget is the goroutine count up to which a bundle also holds the
// full goroutine dump (debug=2, with every goroutine's own stack and wait
// time). That dump stops the world for its whole duration (about 1.5 µs per
// goroutine), so above the budget (default 1000) only the concurrent profiles
// (debug=0 and 1, grouped, with labels) are written. 0 never writes it.
func GoroutineBudget(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.fail("GoroutineBudget(%d): negative", n)
			return
		}
		c.budget = n
	})
}

// CPUProfileFor sets how long the CPU profile of a CPU-triggered bundle runs
// (default 10 s). The bundle is finished after it.
func CPUProfileFor(d time.Duration) Option {
	return optionFunc(func(c *config) { positive(c, "CPUProfileFor", d, &c.cpuProfile) })
}

// Disable turns the given automatic triggers off. Manual captures cannot be
// disabled (do not mount the route or send the signal).
func Disable(ts ...Trigger) Option {
	return optionFunc(func(c *config) {
		for _, t := range ts {
			if t >= numTriggers {
				c.fail("Disable(%v): unknown trigger", t)
				return
			}
			c.disabled[t] = true
		}
	})
}

// WithRecorder takes the flight-recorder part of bundles from r (for example
// the one vitals.Start runs) instead of starting a recorder of its own. r's
// own rate limit applies: a bundle within it has no trace, and says why.
func WithRecorder(r *tracecap.Recorder) Option {
	return optionFunc(func(c *config) {
		if r == nil {
			c.fail("WithRecorder: nil recorder")
			return
		}
		c.recorder = r
	})
}

// FlightRecorderOptions configures the flight recorder [Monitor.Start] starts
// (by default tracecap's: the last 10 s or 10 MiB). It runs the execution
// tracer all the time, a few percent of CPU.
func FlightRecorderOptions(opts ...tracecap.Option) Option {
	return optionFunc(func(c *config) { c.flightOpts = append(c.flightOpts, opts...) })
}

// NoFlightRecorder starts no flight recorder: bundles have no trace, and
// being armed costs only the checks.
func NoFlightRecorder() Option {
	return optionFunc(func(c *config) { c.noFlight = true })
}

// WithReport puts f's result (vitals.Start passes its start-up Report) into
// every bundle's manifest. f must be quick and safe for concurrent use.
func WithReport(f func() any) Option {
	return optionFunc(func(c *config) { c.report = f })
}

// OnIncident calls f with every bundle written (or failed), on the capture's
// goroutine, after the file is closed: ship it to object storage, page
// someone. A slow f delays the next capture, never the service; a panic in f
// is recovered and logged.
func OnIncident(f func(Incident)) Option {
	return optionFunc(func(c *config) { c.onIncident = f })
}

// WithLogger logs every capture (Warn: an incident is worth a log line) and
// trouble. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.fail("WithLogger: nil logger")
			return
		}
		c.logger = l
	})
}

// OnSignal captures a manual bundle when the process receives one of sigs
// (for example syscall.SIGUSR2; opt-in because a signal the process does not
// expect would otherwise kill it).
func OnSignal(sigs ...os.Signal) Option {
	return optionFunc(func(c *config) {
		if len(sigs) == 0 {
			c.fail("OnSignal: no signals")
			return
		}
		c.signals = append(c.signals, sigs...)
	})
}

var errNilOption = fmt.Errorf("%w: nil Option", ErrOption)
