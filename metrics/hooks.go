package metrics

// Settings are the runtime settings vitals applied at start-up and where each
// value came from, as reported by a [WithSettings] hook.
type Settings struct {
	// GOMAXPROCS is the value vitals set (or found).
	GOMAXPROCS int
	// GOMAXPROCSSource says where it came from, for example "cgroup v2",
	// "env" or "runtime default" (the root package's Decision.Source). Exported as the source label of
	// vitals_gomaxprocs.
	GOMAXPROCSSource string
	// GOMEMLIMIT is the soft memory limit in bytes vitals set (or found);
	// math.MaxInt64 means no limit.
	GOMEMLIMIT int64
	// GOMEMLIMITSource says where it came from, for example "cgroup",
	// "env" or "unset". Exported as the source label of vitals_gomemlimit_bytes.
	GOMEMLIMITSource string
}

// Check is one item of the start-up checklist, as reported by a [WithChecks]
// hook. Exported as vitals_checklist_ok{item=Name}: 1 when OK, 0 when not.
type Check struct {
	// Name is a short stable identifier (the checklist's rule IDs:
	// "gomaxprocs", "gomemlimit", "gotraceback", ...). It becomes a label
	// value: keep it low-cardinality.
	Name string
	// OK reports whether the setting is in line with the checklist.
	OK bool
	// Detail explains the verdict for humans. Exporters do not publish it as
	// a label (it is free text); it is kept for logs and reports.
	Detail string
}

// WatchdogState is the goroutine leak watchdog's state, as reported by a
// [WithWatchdog] hook.
type WatchdogState struct {
	// Baseline is the goroutine count the watchdog considers steady state.
	Baseline int
	// Goroutines is the count at the watchdog's last look.
	Goroutines int
	// Suspected reports whether the watchdog currently suspects a leak.
	Suspected bool
	// Reports counts the leak reports the watchdog has made since start.
	Reports uint64
}
