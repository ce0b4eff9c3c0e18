package startup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/govitals/vitals/cgroup"
)

// Option configures [Setup] and [Plan]. Options are values made by the
// functions of this package; an invalid one makes Setup return an error
// before it changes anything.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// rounding says how a fractional CPU limit becomes a whole GOMAXPROCS.
type rounding int

const (
	roundRuntime rounding = iota // ceil, at least 2 (the Go runtime's rule)
	roundFloor                   // floor, at least 1 (automaxprocs' rule)
	roundCeil                    // ceil, at least 1
)

func (r rounding) String() string {
	switch r {
	case roundFloor:
		return "floor"
	case roundCeil:
		return "ceil"
	}
	return "runtime"
}

// procsPolicy is how GOMAXPROCS is derived from the effective CPU limit.
type procsPolicy struct {
	round    rounding
	reserve  float64 // CPUs kept for sidecars
	minimum  int     // lower bound after rounding; 0 = none
	explicit bool    // any procs option was given
}

// config is what the options build. The fields after the seams comment are
// replaced by tests only.
type config struct {
	ctx       context.Context
	logger    *slog.Logger
	root      string // cgroup root; "" = "/"
	procs     procsPolicy
	keepProcs bool

	memRatio     float64
	memHigh      bool
	memSystem    bool
	memRefresh   time.Duration
	keepMemLimit bool

	traceback string // "" = leave alone

	crashPath string
	crashMax  int64

	err error // first invalid option

	// seams (tests)
	rt        runtimeAPI
	affinity  int                             // >0 overrides the affinity count
	interval  time.Duration                   // GOMAXPROCS watch period
	buildInfo func() (*debug.BuildInfo, bool) // nil = this binary's, cached
	limits    func() cgroup.Limits            // replaces cgroup.Read
}

func (c *config) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// defaultRatio is the share of the memory limit given to GOMEMLIMIT.
const defaultRatio = 0.9

func newConfig(opts []Option) (*config, error) {
	c := &config{
		ctx:       context.Background(),
		memRatio:  defaultRatio,
		traceback: "all",
		rt:        realRuntime{},
		interval:  time.Second,
	}
	for _, o := range opts {
		if o == nil {
			c.fail(errors.New("vitals: nil Option"))
			continue
		}
		o.apply(c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if c.limits == nil {
		var copts []cgroup.Option
		if c.root != "" {
			copts = append(copts, cgroup.WithRoot(c.root))
		}
		c.limits = func() cgroup.Limits { return cgroup.Read(copts...) }
	}
	return c, nil
}

// WithContext bounds the background work Setup may start (keeping
// GOMAXPROCS current, refreshing GOMEMLIMIT): it stops when ctx is done, as
// it does on [Report.Undo]. Without it the work runs until Undo.
func WithContext(ctx context.Context) Option {
	return optionFunc(func(c *config) {
		if ctx == nil {
			c.fail(errors.New("vitals: WithContext: nil context"))
			return
		}
		c.ctx = ctx
	})
}

// WithLogger makes Setup log every change at Info and every warning at
// Warn through l. Without it Setup logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.fail(errors.New("vitals: WithLogger: nil logger"))
			return
		}
		c.logger = l
	})
}

// WithCgroupRoot reads /proc and /sys below dir instead of "/". It exists
// for tests and tools that inspect a captured tree (see cgroup.WithRoot);
// [MemoryFallbackSystem] then reads dir/proc/meminfo too.
func WithCgroupRoot(dir string) Option {
	return optionFunc(func(c *config) {
		if dir == "" {
			c.fail(errors.New("vitals: WithCgroupRoot: empty directory"))
			return
		}
		c.root = dir
	})
}

// ProcsFloor rounds a fractional CPU limit down, with a minimum of 1
// (automaxprocs' rule): 1.5 CPUs give GOMAXPROCS=1. It trades throughput
// for never exceeding the quota. Setup then sets GOMAXPROCS itself and keeps
// it current once a second, which stops the runtime's own updates.
func ProcsFloor() Option {
	return optionFunc(func(c *config) { c.procs.round = roundFloor; c.procs.explicit = true })
}

// ProcsCeil rounds a fractional CPU limit up, with a minimum of 1: 1.5 CPUs
// give 2 and 0.5 gives 1 (the runtime would use 2). Like [ProcsFloor],
// Setup then owns GOMAXPROCS.
func ProcsCeil() Option {
	return optionFunc(func(c *config) { c.procs.round = roundCeil; c.procs.explicit = true })
}

// ProcsReserve subtracts cpus from the effective limit before rounding, for
// sidecars that share the cgroup. cpus must be finite and not negative.
func ProcsReserve(cpus float64) Option {
	return optionFunc(func(c *config) {
		if math.IsNaN(cpus) || math.IsInf(cpus, 0) || cpus < 0 {
			c.fail(fmt.Errorf("vitals: ProcsReserve(%v): want a finite number of CPUs >= 0", cpus))
			return
		}
		c.procs.reserve = cpus
		c.procs.explicit = true
	})
}

// ProcsMinimum makes GOMAXPROCS at least n (n >= 1), whatever the limit.
func ProcsMinimum(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 {
			c.fail(fmt.Errorf("vitals: ProcsMinimum(%d): want n >= 1", n))
			return
		}
		c.procs.minimum = n
		c.procs.explicit = true
	})
}

// KeepGOMAXPROCS makes Setup report GOMAXPROCS without changing it.
func KeepGOMAXPROCS() Option {
	return optionFunc(func(c *config) { c.keepProcs = true })
}

// MemoryLimitRatio sets GOMEMLIMIT to ratio × the effective memory limit
// (default 0.9). ratio must be in (0, 1]. A valid VITALS_MEMLIMIT_RATIO
// environment value overrides it, so operators can tune a built binary.
func MemoryLimitRatio(ratio float64) Option {
	return optionFunc(func(c *config) {
		if !validRatio(ratio) {
			c.fail(fmt.Errorf("vitals: MemoryLimitRatio(%v): want a ratio in (0, 1]", ratio))
			return
		}
		c.memRatio = ratio
	})
}

func validRatio(r float64) bool { return r > 0 && r <= 1 } // false for NaN

// MemoryHigh bases GOMEMLIMIT on cgroup v2 memory.high when it is lower
// than memory.max: above memory.high the kernel throttles and reclaims, so
// a heap that stays below it avoids the stall.
func MemoryHigh() Option {
	return optionFunc(func(c *config) { c.memHigh = true })
}

// MemoryFallbackSystem bases GOMEMLIMIT on the machine's memory
// (/proc/meminfo MemTotal) when no cgroup sets a memory limit. Costs one
// more small file read.
func MemoryFallbackSystem() Option {
	return optionFunc(func(c *config) { c.memSystem = true })
}

// MemoryRefresh re-reads the memory limit every interval and moves
// GOMEMLIMIT when it changed (an in-place pod resize). The goroutine stops
// on [Report.Undo] or when the [WithContext] context is done. Each refresh
// costs one cgroup read (tens of microseconds).
func MemoryRefresh(interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if interval <= 0 {
			c.fail(fmt.Errorf("vitals: MemoryRefresh(%v): want a positive interval", interval))
			return
		}
		c.memRefresh = interval
	})
}

// KeepGOMEMLIMIT makes Setup report GOMEMLIMIT without changing it.
func KeepGOMEMLIMIT() Option {
	return optionFunc(func(c *config) { c.keepMemLimit = true })
}

// Traceback sets the traceback level applied when the GOTRACEBACK
// environment variable is unset: one of "none", "single", "all" (the
// default), "system", "crash" or "wer". "" leaves the level alone.
func Traceback(level string) Option {
	return optionFunc(func(c *config) {
		switch level {
		case "", "none", "single", "all", "system", "crash", "wer":
			c.traceback = level
		default:
			c.fail(fmt.Errorf("vitals: Traceback(%q): want none, single, all, system, crash or wer", level))
		}
	})
}

// CrashOutput makes the runtime also write fatal errors and unrecovered
// panics to the file at path (see [debug.SetCrashOutput]), appending. If
// the file is larger than maxBytes at start, it is first renamed to
// path+".1" (replacing an older one); maxBytes <= 0 means no cap. Costs an
// open and a stat at start; nothing afterwards.
func CrashOutput(path string, maxBytes int64) Option {
	return optionFunc(func(c *config) {
		if path == "" {
			c.fail(errors.New("vitals: CrashOutput: empty path"))
			return
		}
		c.crashPath = path
		c.crashMax = maxBytes
	})
}

// runtimeAPI is the process-global state Setup touches; tests replace it to
// record calls.
type runtimeAPI interface {
	GOMAXPROCS(n int) int
	SetDefaultGOMAXPROCS()
	SetMemoryLimit(n int64) int64
	SetTraceback(level string)
	SetCrashOutput(f *os.File, o debug.CrashOptions) error
	NumCPU() int
}

type realRuntime struct{}

//vitals:ignore maxprocs the seam Setup uses; it sets a value only when the runtime's own is wrong for the effective limit, and Undo restores the default
func (realRuntime) GOMAXPROCS(n int) int         { return runtime.GOMAXPROCS(n) }
func (realRuntime) SetDefaultGOMAXPROCS()        { runtime.SetDefaultGOMAXPROCS() }
func (realRuntime) SetMemoryLimit(n int64) int64 { return debug.SetMemoryLimit(n) }
func (realRuntime) SetTraceback(level string)    { debug.SetTraceback(level) }
func (realRuntime) NumCPU() int                  { return runtime.NumCPU() }
func (realRuntime) SetCrashOutput(f *os.File, o debug.CrashOptions) error {
	return debug.SetCrashOutput(f, o)
}
