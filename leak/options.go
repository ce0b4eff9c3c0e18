package leak

import (
	"context"
	"strings"
	"time"

	"github.com/govitals/vitals/stacks"
)

// Option configures [Find], [VerifyNone], [VerifyTestMain] and [Check].
// Options are built only by this package.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults. Timeout caps how long a check waits while goroutines are still
// exiting; Settle ends a failing check early once nothing has changed for
// that long. See the package documentation ("Timing") for why.
const (
	DefaultTimeout = 5 * time.Second
	DefaultSettle  = 150 * time.Millisecond

	firstBackoff = 10 * time.Microsecond
	maxBackoff   = 50 * time.Millisecond
)

type config struct {
	filters        []func(*stacks.Goroutine) bool
	ignoreIDs      map[uint64]bool
	timeout        time.Duration
	settle         time.Duration
	checkOnFailure bool
	noDefaults     bool
	useLeakProfile bool
	rerun          time.Duration // <0: default bound, 0: off
	ran            time.Duration // how long m.Run took (VerifyTestMain)
	// seams for tests
	exit  func(int)
	dump  func([]byte) []byte
	sleep func(time.Duration)
	now   func() time.Time
	names func(uint64) (string, bool)
	// rerunner reruns the tests to attribute e's unnamed groups.
	rerunner func(context.Context, *config, *Error, time.Duration) string
}

func (c *config) rerunOn() bool { return c.rerun != 0 && c.rerunner != nil }

func buildConfig(opts []Option) *config {
	c := &config{
		timeout:        DefaultTimeout,
		settle:         DefaultSettle,
		useLeakProfile: true,
		rerun:          -1,
		rerunner:       rerun,
		sleep:          time.Sleep,
		now:            time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.dump == nil {
		c.dump = dumpAll
	}
	if c.names == nil {
		c.names = observedName
	}
	return c
}

func (c *config) ignored(g *stacks.Goroutine) bool {
	if c.ignoreIDs[g.ID] {
		return true
	}
	if !c.noDefaults && isBuiltin(g) {
		return true
	}
	for _, f := range c.filters {
		if f(g) {
			return true
		}
	}
	return false
}

// IgnoreTopFunction ignores goroutines whose innermost frame is the function
// f, fully qualified as a stack trace prints it ("net/http.(*conn).serve",
// "example.com/pkg.worker.func1").
func IgnoreTopFunction(f string) Option {
	return optionFunc(func(c *config) {
		c.filters = append(c.filters, func(g *stacks.Goroutine) bool {
			return len(g.Frames) > 0 && g.Frames[0].Func == f
		})
	})
}

// IgnoreAnyFunction ignores goroutines that have the function f anywhere on
// their stack.
func IgnoreAnyFunction(f string) Option {
	return optionFunc(func(c *config) {
		c.filters = append(c.filters, func(g *stacks.Goroutine) bool {
			return hasFunc(g.Frames, f)
		})
	})
}

// IgnoreCreatedBy ignores goroutines started by the function f (the
// "created by f in goroutine N" line of a stack trace).
func IgnoreCreatedBy(f string) Option {
	return optionFunc(func(c *config) {
		c.filters = append(c.filters, func(g *stacks.Goroutine) bool {
			return g.CreatedBy != nil && g.CreatedBy.Func == f
		})
	})
}

// IgnoreCurrent ignores every goroutine that exists when IgnoreCurrent is
// called. It costs one goroutine dump (a stop-the-world proportional to the
// number of goroutines) at that moment; matching later costs a map lookup.
func IgnoreCurrent() Option {
	ids := map[uint64]bool{}
	buf := dumpAll(nil)
	for _, ch := range splitDump(buf) {
		ids[ch.id] = true
	}
	return optionFunc(func(c *config) {
		if c.ignoreIDs == nil {
			c.ignoreIDs = map[uint64]bool{}
		}
		for id := range ids {
			c.ignoreIDs[id] = true
		}
	})
}

// Timeout sets the longest a check waits for goroutines to exit while they
// are still changing (default [DefaultTimeout]). A clean check returns as soon
// as the goroutines are gone, whatever the timeout.
func Timeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// Settle sets how long the remaining goroutines must stay unchanged (same
// set, same states) before a failing check gives up early (default
// [DefaultSettle]). Settle(0) disables the early exit: a failing check then
// always waits the full [Timeout].
func Settle(d time.Duration) Option {
	return optionFunc(func(c *config) { c.settle = d })
}

// CheckOnFailure makes [VerifyTestMain] check for leaks even when tests
// failed (by default it skips the check then, to keep the output about the
// failure).
func CheckOnFailure() Option {
	return optionFunc(func(c *config) { c.checkOnFailure = true })
}

// Rerun bounds how long [VerifyTestMain]'s rerun of the tests with
// ancestor traces may take (by default twice the tests' own duration plus
// 10 s, at most 2 minutes); the rerun is stopped, and the report says so,
// when it takes longer. Rerun(0) turns the rerun off.
func Rerun(limit time.Duration) Option {
	return optionFunc(func(c *config) { c.rerun = max(limit, 0) })
}

// NoDefaultIgnores turns off the built-in list of runtime and testing
// goroutines that are never reported (see the package documentation).
func NoDefaultIgnores() Option {
	return optionFunc(func(c *config) { c.noDefaults = true })
}

// WithoutRuntimeDetector stops a failing check from consulting Go's own
// leak detector (the goroutineleak profile), which costs one extra garbage
// collection per failing check.
func WithoutRuntimeDetector() Option {
	return optionFunc(func(c *config) { c.useLeakProfile = false })
}

func hasFunc(fs []stacks.Frame, f string) bool {
	for i := range fs {
		if fs[i].Func == f {
			return true
		}
	}
	return false
}

// isBuiltin reports goroutines that belong to the runtime, the testing
// framework or the standard library's process-wide singletons: they outlive
// every test by design.
func isBuiltin(g *stacks.Goroutine) bool {
	if cb := g.CreatedBy; cb != nil {
		// Started by the runtime itself: finalizer and cleanup
		// goroutines running user code, ensureSigM, forcegc...
		if cb.Pkg == "runtime" || strings.HasPrefix(cb.Func, "runtime.") {
			return true
		}
		// Test goroutines, and goroutines testing starts for its own
		// bookkeeping (parallel barriers, fuzz workers, alarms).
		if cb.Pkg == "testing" || strings.HasPrefix(cb.Func, "testing.") {
			return true
		}
	}
	for i := range g.Frames {
		switch g.Frames[i].Func {
		case "testing.tRunner", "testing.fRunner", "testing.(*M).Run",
			"testing.runTests", "testing.RunTests", "testing.runFuzzing",
			"testing.runFuzzTests", "testing.(*T).Parallel",
			// os/signal's single delivery loop, started by the first
			// signal.Notify and never stopped.
			"os/signal.loop", "os/signal.signal_recv",
			// go test -trace / runtime/trace.Start's reader, and
			// -cpuprofile / pprof.StartCPUProfile's writer.
			"runtime.ReadTrace", "runtime/trace.Start.func1",
			"runtime/pprof.profileWriter":
			return true
		}
	}
	// A cgo callback thread parked in the runtime (golang/go#16714).
	if strings.HasPrefix(g.State, "syscall") && onlyRuntime(g.Frames) {
		return true
	}
	return false
}

func onlyRuntime(fs []stacks.Frame) bool {
	for i := range fs {
		if !strings.HasPrefix(fs[i].Func, "runtime.") {
			return false
		}
	}
	return true
}
