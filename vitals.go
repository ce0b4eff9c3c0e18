// Package vitals gives a Go service sane runtime behaviour in one line, and
// the tools to see inside it when it misbehaves.
//
// Two entry points, by how much a service wants:
//
//   - [Setup] applies the production start-up checklist (GOMAXPROCS fitted to
//     the CPU limit the process really has, GOMEMLIMIT at 90% of the
//     container's memory, GOTRACEBACK=all, an optional crash file) and
//     reports every decision with its reason. It is the [startup] package
//     under its product name; the blank import
//     `import _ "github.com/govitals/vitals/auto"` does the same with
//     defaults and links only that lean package.
//   - [Start] is the service template: Setup, plus an authenticated admin
//     server on its own port (pprof, metrics, grouped goroutines, bounded
//     traces, the flight recorder, a live dashboard), runtime and cgroup
//     metrics for Prometheus, and the goroutine-leak watchdog, with one
//     Close.
//
// # One name for one thing
//
// Setup, Plan, Option, Report, Decision, the Setting and Source constants and
// the option constructors are the [startup] package's under the product
// name, so that a service needs one import and reads one name in the docs,
// the README and `vitals doctor`. They are type aliases and one-line
// wrappers: values mix freely (a startup.Option works with vitals.Setup, a
// *vitals.Report is a *startup.Report), and there is one implementation,
// documented in startup. The startup package stays for services that want
// the checklist without the rest: it links neither the admin server nor
// client_golang (and so no expvar), and vitals/auto uses it. Every startup
// option has its wrapper here (a test holds the two lists equal), and each
// wrapper is a [SetupOption], which [Start] accepts as well: one
// [WithLogger] for Setup and Start.
//
// # What linking this package costs
//
// Because of Start, this package links the admin server and
// github.com/prometheus/client_golang. client_golang imports expvar, whose
// init registers /debug/vars on [net/http.DefaultServeMux] (true of every
// program that uses client_golang). vitals never serves DefaultServeMux, but
// a service that serves it on a public port would expose that page: serve
// your own ServeMux, or check with `vitals doctor --public`. Services that
// want only the start-up checklist import [startup] or vitals/auto, which
// link neither.
package vitals

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/govitals/vitals/startup"
)

// Option configures [Setup] and [Plan]; see the constructors below and
// [startup.Option].
type Option = startup.Option

// Report is what [Setup] did or [Plan] would do; see [startup.Report].
type Report = startup.Report

// Decision is one setting's outcome in a [Report]; see [startup.Decision].
type Decision = startup.Decision

// ReportSchema is the version of the report's JSON layout.
const ReportSchema = startup.ReportSchema

// Setting names used in [Decision].Setting.
const (
	SettingGOMAXPROCS  = startup.SettingGOMAXPROCS
	SettingGOMEMLIMIT  = startup.SettingGOMEMLIMIT
	SettingGOTRACEBACK = startup.SettingGOTRACEBACK
	SettingCrashOutput = startup.SettingCrashOutput
)

// Sources used in [Decision].Source; see the startup package for each.
const (
	SourceEnv      = startup.SourceEnv
	SourceCgroupV1 = startup.SourceCgroupV1
	SourceCgroupV2 = startup.SourceCgroupV2
	SourceCgroup   = startup.SourceCgroup
	SourceRuntime  = startup.SourceRuntime
	SourcePolicy   = startup.SourcePolicy
	SourceSystem   = startup.SourceSystem
	SourceOption   = startup.SourceOption
	SourceNone     = startup.SourceNone
)

// Setup applies the start-up checklist to this process and returns what it
// did; the error is non-nil only for invalid options. It is
// [startup.Setup]: one cgroup read (~150 µs), no goroutine unless
// GOMAXPROCS must be kept current.
func Setup(opts ...Option) (*Report, error) { return startup.Setup(opts...) }

// Plan computes the report Setup would produce without changing anything;
// see [startup.Plan].
func Plan(opts ...Option) (*Report, error) { return startup.Plan(opts...) }

// SetupOption is an [Option] of [Setup] and [Plan] that [Start] accepts as
// well, so that Start(ctx, vitals.ProcsCeil()) means what it says. Every
// option constructor below returns one; each is the startup package's
// constructor of the same name, see there for the details. Passed to Start,
// an option is handed to Start's Setup, except [WithLogger], which becomes
// the logger of everything Start starts. The zero SetupOption is invalid.
type SetupOption struct {
	option
	logger    *slog.Logger
	setLogger bool
}

// option keeps the embedded startup.Option out of SetupOption's exported
// fields.
type option = startup.Option

func (o SetupOption) applyStart(c *startConfig) {
	switch {
	case o.setLogger && o.logger == nil:
		c.fail(errors.New("vitals: WithLogger: nil logger"))
	case o.setLogger:
		c.logger = o.logger
	case o.option == nil:
		c.fail(errors.New("vitals: zero SetupOption"))
	default:
		c.setup = append(c.setup, o.option)
	}
}

// WithContext bounds the background work Setup may start (keeping GOMAXPROCS current, refreshing GOMEMLIMIT): it stops when ctx is done, as it does on [Report.Undo]. See [startup.WithContext].
func WithContext(ctx context.Context) SetupOption {
	return SetupOption{option: startup.WithContext(ctx)}
}

// WithLogger logs through l. Given to [Setup] or [Plan], it logs every
// change at Info and every warning at Warn (see [startup.WithLogger]). Given
// to [Start], it is the logger of everything Start starts: Setup, the admin
// server, the metrics, the leak watchdog, the flight recorder. Without it
// Setup logs nothing, and Start logs only what it could not do, one line
// each through [slog.Default].
func WithLogger(l *slog.Logger) SetupOption {
	return SetupOption{option: startup.WithLogger(l), logger: l, setLogger: true}
}

// WithCgroupRoot reads /proc and /sys below dir instead of "/". See [startup.WithCgroupRoot].
func WithCgroupRoot(dir string) SetupOption { return SetupOption{option: startup.WithCgroupRoot(dir)} }

// ProcsFloor rounds a fractional CPU limit down, with a minimum of 1 (automaxprocs' rule): 1.5 CPUs give GOMAXPROCS=1. See [startup.ProcsFloor].
func ProcsFloor() SetupOption { return SetupOption{option: startup.ProcsFloor()} }

// ProcsCeil rounds a fractional CPU limit up, with a minimum of 1: 1.5 CPUs give 2 and 0.5 gives 1 (the runtime would use 2). See [startup.ProcsCeil].
func ProcsCeil() SetupOption { return SetupOption{option: startup.ProcsCeil()} }

// ProcsReserve subtracts cpus from the effective limit before rounding, for sidecars that share the cgroup. See [startup.ProcsReserve].
func ProcsReserve(cpus float64) SetupOption { return SetupOption{option: startup.ProcsReserve(cpus)} }

// ProcsMinimum makes GOMAXPROCS at least n (n >= 1), whatever the limit. See [startup.ProcsMinimum].
func ProcsMinimum(n int) SetupOption { return SetupOption{option: startup.ProcsMinimum(n)} }

// KeepGOMAXPROCS makes Setup report GOMAXPROCS without changing it. See [startup.KeepGOMAXPROCS].
func KeepGOMAXPROCS() SetupOption { return SetupOption{option: startup.KeepGOMAXPROCS()} }

// MemoryLimitRatio sets GOMEMLIMIT to ratio × the effective memory limit (default 0.9). See [startup.MemoryLimitRatio].
func MemoryLimitRatio(ratio float64) SetupOption {
	return SetupOption{option: startup.MemoryLimitRatio(ratio)}
}

// MemoryHigh bases GOMEMLIMIT on cgroup v2 memory.high when it is lower than memory.max: above memory.high the kernel throttles and reclaims, so a heap that stays below it avoids the stall. See [startup.MemoryHigh].
func MemoryHigh() SetupOption { return SetupOption{option: startup.MemoryHigh()} }

// MemoryFallbackSystem bases GOMEMLIMIT on the machine's memory (/proc/meminfo MemTotal) when no cgroup sets a memory limit. See [startup.MemoryFallbackSystem].
func MemoryFallbackSystem() SetupOption { return SetupOption{option: startup.MemoryFallbackSystem()} }

// MemoryRefresh re-reads the memory limit every interval and moves GOMEMLIMIT when it changed (an in-place pod resize). See [startup.MemoryRefresh].
func MemoryRefresh(interval time.Duration) SetupOption {
	return SetupOption{option: startup.MemoryRefresh(interval)}
}

// KeepGOMEMLIMIT makes Setup report GOMEMLIMIT without changing it. See [startup.KeepGOMEMLIMIT].
func KeepGOMEMLIMIT() SetupOption { return SetupOption{option: startup.KeepGOMEMLIMIT()} }

// Traceback sets the traceback level applied when the GOTRACEBACK environment variable is unset: one of "none", "single", "all" (the default), "system", "crash" or "wer". See [startup.Traceback].
func Traceback(level string) SetupOption { return SetupOption{option: startup.Traceback(level)} }

// CrashOutput makes the runtime also write fatal errors and unrecovered panics to the file at path (see [runtime/debug.SetCrashOutput]), appending. See [startup.CrashOutput].
func CrashOutput(path string, maxBytes int64) SetupOption {
	return SetupOption{option: startup.CrashOutput(path, maxBytes)}
}
