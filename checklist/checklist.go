// Package checklist evaluates a Go service against the production checklist
// of the runtime guide vitals is built from: GOMAXPROCS fitted to the CPU
// quota, GOMEMLIMIT at about 90% of the container's memory, GOTRACEBACK=all,
// pprof kept off public ports, runtime figures scraped as metrics, traces
// bounded, and explicit Close rather than finalizers, plus the live symptoms
// those settings are about (CPU throttling, a heap pressed against its limit,
// a climbing goroutine count).
//
// The rules are pure functions of [Facts]: they read nothing themselves. The
// same rules serve `vitals doctor` (which gathers facts from this machine, a
// service's admin endpoint, or a probe of its public port) and the checklist
// gauges of the metrics package (which gather them in-process), so a fleet is
// audited the same way whether it is polled or alerted on.
//
// Evaluating the rules costs a few microseconds and allocates only the
// results.
package checklist

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Status is the verdict of one rule.
type Status int

const (
	// Skip: the facts the rule needs are unknown; Evidence says which.
	Skip Status = iota
	// Pass: in line with the checklist.
	Pass
	// Warn: works, but not as the checklist recommends.
	Warn
	// Fail: against the checklist in a way that costs in production.
	Fail
)

// String returns "skip", "pass", "warn" or "fail".
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "skip"
}

// MarshalText encodes the status as its [Status.String] form.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes the [Status.String] form.
func (s *Status) UnmarshalText(b []byte) error {
	switch string(b) {
	case "skip":
		*s = Skip
	case "pass":
		*s = Pass
	case "warn":
		*s = Warn
	case "fail":
		*s = Fail
	default:
		return fmt.Errorf("checklist: unknown status %q", b)
	}
	return nil
}

// Result is one rule's verdict with the values it read and the fix.
type Result struct {
	// ID is stable and short ("gomaxprocs"); metrics label their gauges with it.
	ID string `json:"id"`
	// Title is the checklist row the rule stands for.
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
	// Fix is one sentence; empty on Pass and Skip.
	Fix string `json:"fix,omitempty"`
}

// OK reports whether the result is in line with the checklist (Pass or Skip).
func (r Result) OK() bool { return r.Status == Pass || r.Status == Skip }

// Facts is what the rules read. Every field has a "not known" value (zero,
// nil or empty, as documented) that makes the rules that need it Skip.
type Facts struct {
	// GOMAXPROCS is the current value; 0 = unknown.
	GOMAXPROCS int `json:"gomaxprocs,omitempty"`
	// GOMAXPROCSSource says who chose it ("env", "runtime", "vitals", ...).
	GOMAXPROCSSource string `json:"gomaxprocs_source,omitempty"`
	// CPULimit is the effective cgroup CPU limit in cores; 0 = none or unknown.
	CPULimit float64 `json:"cpu_limit,omitempty"`
	// CPULimitSource names where CPULimit was read (a cgroup file).
	CPULimitSource string `json:"cpu_limit_source,omitempty"`
	// CPULimitKnown is true when the cgroup was read, so CPULimit==0 means
	// "no limit" rather than "unknown".
	CPULimitKnown bool `json:"cpu_limit_known,omitempty"`
	// Affinity is the number of CPUs the process may run on; 0 = unknown.
	Affinity int `json:"affinity,omitempty"`

	// GOMEMLIMIT is the current soft memory limit in bytes; 0 = unknown,
	// math.MaxInt64 = off.
	GOMEMLIMIT int64 `json:"gomemlimit,omitempty"`
	// MemoryLimit is the effective container memory limit in bytes; 0 = none
	// or unknown (see MemoryLimitKnown).
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	// MemoryLimitSource names where MemoryLimit was read.
	MemoryLimitSource string `json:"memory_limit_source,omitempty"`
	// MemoryLimitKnown is true when the cgroup was read.
	MemoryLimitKnown bool `json:"memory_limit_known,omitempty"`

	// GOTRACEBACK is the effective traceback level ("single", "all",
	// "system", "crash", "none"); empty = unknown.
	GOTRACEBACK string `json:"gotraceback,omitempty"`

	// DebugOnPublic is the list of debug paths that answered on the
	// service's public port; nil = not probed, empty = probed and clean.
	DebugOnPublic []string `json:"debug_on_public,omitempty"`
	// PublicProbed is true when the public port was probed.
	PublicProbed bool `json:"public_probed,omitempty"`
	// AdminAddr is the admin server's listen address; empty = none known.
	AdminAddr string `json:"admin_addr,omitempty"`
	// AdminAuth is true when the admin server requires credentials.
	AdminAuth bool `json:"admin_auth,omitempty"`

	// MetricsKnown is true when it is known whether metrics are exported.
	MetricsKnown bool `json:"metrics_known,omitempty"`
	// MetricsExported is true when runtime metrics are exposed for scraping.
	MetricsExported bool `json:"metrics_exported,omitempty"`
	// MetricsScraped is true when the metrics page was fetched and parsed,
	// and MetricsFamilies is how many metric families it served.
	MetricsScraped  bool `json:"metrics_scraped,omitempty"`
	MetricsFamilies int  `json:"metrics_families,omitempty"`
	// MetricsError says why a scrape of the metrics page failed (a status
	// other than 200, an exposition that does not parse); the rule fails
	// on it, since a scraper gets nothing.
	MetricsError string `json:"metrics_error,omitempty"`

	// TraceKnown is true when the tracing state is known.
	TraceKnown bool `json:"trace_known,omitempty"`
	// TraceRunning is true when the execution tracer is on outside a bounded
	// capture or the flight recorder.
	TraceRunning bool `json:"trace_running,omitempty"`

	// FinalizersKnown is true when the finalizer counts were read.
	FinalizersKnown bool `json:"finalizers_known,omitempty"`
	// FinalizersExecuted is /gc/finalizers/executed:finalizers: objects that
	// reached the garbage collector with a finalizer still set, typically
	// files and connections that were never closed.
	FinalizersExecuted uint64 `json:"finalizers_executed,omitempty"`

	// ThrottleKnown is true when the CFS counters were read.
	ThrottleKnown bool `json:"throttle_known,omitempty"`
	// Periods and ThrottledPeriods are CFS enforcement periods over the
	// window being judged (a delta, or totals since the cgroup began).
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttled_periods,omitempty"`

	// HeapLive is /gc/heap/live:bytes; 0 = unknown.
	HeapLive uint64 `json:"heap_live,omitempty"`

	// GoroutinesKnown is true when a leak watchdog's verdict is available.
	GoroutinesKnown bool `json:"goroutines_known,omitempty"`
	// Goroutines is the current count and GoroutineBaseline the steady state
	// the watchdog learnt (0 = not learnt yet).
	Goroutines        int `json:"goroutines,omitempty"`
	GoroutineBaseline int `json:"goroutine_baseline,omitempty"`
	// LeakSuspected is the watchdog's verdict.
	LeakSuspected bool `json:"leak_suspected,omitempty"`
	// WatchdogWarmingUp is true when a leak watchdog runs but has no
	// verdict yet (warm-up and first window), and WatchdogVerdictIn is how
	// long until it can give one (0 = unknown or due now).
	WatchdogWarmingUp bool          `json:"watchdog_warming_up,omitempty"`
	WatchdogVerdictIn time.Duration `json:"watchdog_verdict_in_ns,omitempty"`

	// IncidentsKnown is true when an incident monitor's state was read
	// (vitals.Incidents, VITALS_INCIDENT_DIR).
	IncidentsKnown bool `json:"incidents_known,omitempty"`
	// IncidentsTotal is how many incidents the monitor captured since the
	// process started.
	IncidentsTotal uint64 `json:"incidents_total,omitempty"`
	// RecentIncidents are the incidents within [IncidentWindow] of the
	// state's time, oldest first.
	RecentIncidents []IncidentFact `json:"recent_incidents,omitempty"`
}

// IncidentFact is one incident as the "incidents" rule cites it.
type IncidentFact struct {
	Time    time.Time `json:"time"`
	Trigger string    `json:"trigger"` // "memory", "goroutines", …
	Reason  string    `json:"reason,omitempty"`
}

// Thresholds of the rules, exported so alerting rules and documentation can
// cite the same numbers.
const (
	// MemLimitLow and MemLimitHigh bound the GOMEMLIMIT/container ratio that
	// passes (the checklist says ~90%).
	MemLimitLow  = 0.80
	MemLimitHigh = 0.95
	// ThrottleWarn and ThrottleFail are shares of CFS periods throttled.
	ThrottleWarn = 0.10
	ThrottleFail = 0.25
	// MinPeriods is how many CFS periods must be seen before throttling is judged.
	MinPeriods = 100
	// HeapNearLimit is the share of GOMEMLIMIT at which the live heap warns.
	HeapNearLimit = 0.95
	// IncidentWindow is how recent an incident must be for the
	// "incidents" rule to warn.
	IncidentWindow = time.Hour
)

// rule is one checklist row.
type rule struct {
	id, title string
	eval      func(f *Facts) (Status, string, string) // status, evidence, fix
}

var rules = []rule{
	{"gomaxprocs", "GOMAXPROCS fits the CPU limit", ruleGOMAXPROCS},
	{"gomemlimit", "GOMEMLIMIT at ~90% of container memory", ruleGOMEMLIMIT},
	{"gotraceback", "GOTRACEBACK=all for crash diagnostics", ruleGOTRACEBACK},
	{"pprof", "pprof on an admin port or behind auth", rulePprof},
	{"metrics", "goroutines and memory scraped as metrics", ruleMetrics},
	{"trace", "tracing bounded, not left running", ruleTrace},
	{"finalizers", "explicit Close, finalizers as a last resort", ruleFinalizers},
	{"throttling", "CPU not throttled by the cgroup", ruleThrottling},
	{"heap", "live heap below GOMEMLIMIT", ruleHeap},
	{"goroutines", "goroutine count not climbing", ruleGoroutines},
	{"incidents", "no recent incidents", ruleIncidents},
}

// IDs returns the IDs of every rule in evaluation order.
func IDs() []string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.id
	}
	return ids
}

// Evaluate applies every rule to f, in a fixed order.
func Evaluate(f Facts) []Result {
	out := make([]Result, 0, len(rules))
	for _, r := range rules {
		st, ev, fix := r.eval(&f)
		if st == Pass || st == Skip {
			fix = ""
		}
		out = append(out, Result{ID: r.id, Title: r.title, Status: st, Evidence: ev, Fix: fix})
	}
	return out
}

// Worst returns the most severe status among results (Skip counts as Pass).
func Worst(results []Result) Status {
	worst := Pass
	for _, r := range results {
		if r.Status > worst {
			worst = r.Status
		}
	}
	return worst
}

// ExitCode maps results to a process exit code: 0 when everything passes,
// 1 with warnings, 2 with failures.
func ExitCode(results []Result) int {
	switch Worst(results) {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

func ruleGOMAXPROCS(f *Facts) (Status, string, string) {
	if f.GOMAXPROCS <= 0 {
		return Skip, "GOMAXPROCS unknown", ""
	}
	src := ""
	if f.GOMAXPROCSSource != "" {
		src = " (" + f.GOMAXPROCSSource + ")"
	}
	fix := "let the runtime or vitals choose GOMAXPROCS from the cgroup: drop the GOMAXPROCS variable or runtime.GOMAXPROCS call, or import github.com/govitals/vitals/auto"
	if !f.CPULimitKnown {
		if f.Affinity > 0 && f.GOMAXPROCS > f.Affinity {
			return Warn, fmt.Sprintf("GOMAXPROCS=%d%s exceeds the %d CPUs the process may run on; CPU limit unknown", f.GOMAXPROCS, src, f.Affinity), fix
		}
		return Skip, fmt.Sprintf("GOMAXPROCS=%d%s; CPU limit unknown", f.GOMAXPROCS, src), ""
	}
	if f.CPULimit <= 0 {
		if f.Affinity > 0 && f.GOMAXPROCS > f.Affinity {
			return Warn, fmt.Sprintf("GOMAXPROCS=%d%s exceeds the %d CPUs the process may run on", f.GOMAXPROCS, src, f.Affinity), fix
		}
		return Pass, fmt.Sprintf("GOMAXPROCS=%d%s; no CPU quota", f.GOMAXPROCS, src), ""
	}
	// The runtime's own rule since Go 1.25: ceil(limit), at least 2 (or the
	// CPU count when lower). Anything up to that is in line.
	allowed := int(math.Ceil(f.CPULimit - 1e-9))
	if allowed < 2 {
		allowed = 2
	}
	if f.Affinity > 0 && f.Affinity < allowed {
		allowed = f.Affinity
	}
	ev := fmt.Sprintf("GOMAXPROCS=%d%s, CPU limit %s cores%s", f.GOMAXPROCS, src, trimFloat(f.CPULimit), sourceSuffix(f.CPULimitSource))
	switch {
	case f.GOMAXPROCS <= allowed:
		return Pass, ev, ""
	case f.GOMAXPROCS <= 2*allowed:
		return Warn, ev + fmt.Sprintf(": more Ps than the quota can run (at most %d fit)", allowed), fix
	default:
		return Fail, ev + fmt.Sprintf(": %d Ps oversubscribe a quota that fits %d, so the cgroup throttles the process", f.GOMAXPROCS, allowed), fix
	}
}

func ruleGOMEMLIMIT(f *Facts) (Status, string, string) {
	if f.GOMEMLIMIT == 0 {
		return Skip, "GOMEMLIMIT unknown", ""
	}
	if !f.MemoryLimitKnown {
		return Skip, "GOMEMLIMIT=" + limitString(f.GOMEMLIMIT) + "; container memory limit unknown", ""
	}
	if f.MemoryLimit == 0 {
		return Pass, "GOMEMLIMIT=" + limitString(f.GOMEMLIMIT) + "; no container memory limit", ""
	}
	fix := fmt.Sprintf("set GOMEMLIMIT to about 90%% of the container's memory (%s), or import github.com/govitals/vitals/auto", bytesString(uint64(0.9*float64(f.MemoryLimit))))
	ev := fmt.Sprintf("GOMEMLIMIT=%s, container memory %s%s", limitString(f.GOMEMLIMIT), bytesString(f.MemoryLimit), sourceSuffix(f.MemoryLimitSource))
	if f.GOMEMLIMIT == math.MaxInt64 {
		return Fail, ev + ": with no soft limit the heap can grow into the OOM killer", fix
	}
	ratio := float64(f.GOMEMLIMIT) / float64(f.MemoryLimit)
	ev += fmt.Sprintf(" (%.0f%%)", ratio*100)
	switch {
	case ratio > 1:
		return Fail, ev + ": above the container limit, so it never takes effect", fix
	case ratio > MemLimitHigh:
		return Warn, ev + ": too little headroom for non-heap memory", fix
	case ratio < MemLimitLow:
		return Warn, ev + ": the GC works harder than it needs to", fix
	}
	return Pass, ev, ""
}

func ruleGOTRACEBACK(f *Facts) (Status, string, string) {
	level := strings.ToLower(f.GOTRACEBACK)
	fix := "set GOTRACEBACK=all in the container's environment, or import github.com/govitals/vitals/auto"
	switch level {
	case "":
		return Skip, "GOTRACEBACK unknown", ""
	case "all", "system", "crash", "wer", "2":
		return Pass, "GOTRACEBACK=" + level, ""
	case "single", "1":
		return Warn, "GOTRACEBACK=" + level + ": a crash prints only the failing goroutine", fix
	}
	return Fail, "GOTRACEBACK=" + level + ": a crash prints no goroutine stacks", fix
}

func rulePprof(f *Facts) (Status, string, string) {
	if f.PublicProbed && len(f.DebugOnPublic) > 0 {
		return Fail, "answered on the public port: " + strings.Join(f.DebugOnPublic, ", "),
			"serve pprof only from an admin server on its own port with auth (vitals admin), never on http.DefaultServeMux"
	}
	var parts []string
	if f.PublicProbed {
		parts = append(parts, "no debug endpoint on the public port")
	}
	if f.AdminAddr != "" {
		a := "admin server on " + f.AdminAddr
		if f.AdminAuth {
			a += " with auth"
		} else {
			a += " without auth"
		}
		parts = append(parts, a)
	}
	if len(parts) == 0 {
		return Skip, "public port not probed and no admin server known", ""
	}
	if f.AdminAddr != "" && !f.AdminAuth && !isLoopbackAddr(f.AdminAddr) {
		return Fail, strings.Join(parts, "; "), "require a token or basic auth on an admin server that listens beyond loopback"
	}
	return Pass, strings.Join(parts, "; "), ""
}

func ruleMetrics(f *Facts) (Status, string, string) {
	if f.MetricsError != "" {
		return Fail, "scraping the metrics page failed: " + f.MetricsError,
			"make the metrics page answer 200 with a valid Prometheus exposition (promtool check metrics); a scraper now gets nothing"
	}
	if !f.MetricsKnown {
		return Skip, "unknown whether runtime metrics are exported", ""
	}
	if f.MetricsExported && f.MetricsScraped {
		return Pass, fmt.Sprintf("runtime metrics exposed for scraping: %d metric families scraped", f.MetricsFamilies), ""
	}
	if f.MetricsExported {
		return Pass, "runtime metrics exposed for scraping", ""
	}
	return Warn, "no runtime metrics exposed", "export runtime metrics (vitals metrics/promexport or otelexport) and scrape them every minute"
}

func ruleTrace(f *Facts) (Status, string, string) {
	if !f.TraceKnown {
		return Skip, "tracing state unknown", ""
	}
	if f.TraceRunning {
		return Warn, "the execution tracer is running outside a bounded capture",
			"stop the trace after a bounded time, or use the flight recorder for always-on tracing"
	}
	return Pass, "no unbounded trace running", ""
}

func ruleFinalizers(f *Facts) (Status, string, string) {
	if !f.FinalizersKnown {
		return Skip, "finalizer counts unknown", ""
	}
	if f.FinalizersExecuted == 0 {
		return Pass, "no finalizer has run", ""
	}
	return Warn, fmt.Sprintf("%d finalizers ran: objects reached the GC without Close", f.FinalizersExecuted),
		"close files and connections explicitly with defer; leak.TrackClose names the creator in tests"
}

func ruleThrottling(f *Facts) (Status, string, string) {
	if !f.ThrottleKnown {
		return Skip, "CFS counters unknown", ""
	}
	if f.Periods < MinPeriods {
		return Pass, fmt.Sprintf("%d CFS periods seen (too few to judge, or no quota)", f.Periods), ""
	}
	share := float64(f.ThrottledPeriods) / float64(f.Periods)
	ev := fmt.Sprintf("%d of %d CFS periods throttled (%.1f%%)", f.ThrottledPeriods, f.Periods, share*100)
	fix := "lower GOMAXPROCS to the quota (import github.com/govitals/vitals/auto) or raise the CPU limit"
	switch {
	case share >= ThrottleFail:
		return Fail, ev, fix
	case share >= ThrottleWarn:
		return Warn, ev, fix
	}
	return Pass, ev, ""
}

func ruleHeap(f *Facts) (Status, string, string) {
	if f.HeapLive == 0 || f.GOMEMLIMIT == 0 {
		return Skip, "live heap or GOMEMLIMIT unknown", ""
	}
	if f.GOMEMLIMIT == math.MaxInt64 {
		return Pass, "live heap " + bytesString(f.HeapLive) + "; no GOMEMLIMIT", ""
	}
	share := float64(f.HeapLive) / float64(f.GOMEMLIMIT)
	ev := fmt.Sprintf("live heap %s of GOMEMLIMIT %s (%.0f%%)", bytesString(f.HeapLive), limitString(f.GOMEMLIMIT), share*100)
	if share >= HeapNearLimit {
		return Warn, ev + ": the GC is running near continuously to stay under the limit",
			"find what holds the heap (heap profile) or give the container more memory"
	}
	return Pass, ev, ""
}

func ruleGoroutines(f *Facts) (Status, string, string) {
	if !f.GoroutinesKnown {
		if f.WatchdogWarmingUp {
			if f.WatchdogVerdictIn > 0 {
				return Skip, "no leak watchdog verdict yet: warming up: verdict in " + f.WatchdogVerdictIn.Round(time.Second).String(), ""
			}
			return Skip, "no leak watchdog verdict yet: warming up, verdict due now", ""
		}
		return Skip, "no leak watchdog verdict", ""
	}
	ev := fmt.Sprintf("%d goroutines", f.Goroutines)
	if f.GoroutineBaseline > 0 {
		ev += fmt.Sprintf(", steady state %d", f.GoroutineBaseline)
	}
	if f.LeakSuspected {
		return Fail, ev + ": climbing and not falling back",
			"look at the goroutine groups that grew (/debug/vitals/goroutines) and stop them"
	}
	return Pass, ev, ""
}

// maxIncidentsCited is how many recent incidents the evidence names.
const maxIncidentsCited = 3

func ruleIncidents(f *Facts) (Status, string, string) {
	if !f.IncidentsKnown {
		return Skip, "no incident monitor (vitals.Incidents or VITALS_INCIDENT_DIR)", ""
	}
	n := len(f.RecentIncidents)
	if n == 0 {
		return Pass, fmt.Sprintf("no incident in the last %s (%d since the start)", windowText(IncidentWindow), f.IncidentsTotal), ""
	}
	var b strings.Builder
	word := "incidents"
	if n == 1 {
		word = "incident"
	}
	fmt.Fprintf(&b, "%d %s in the last %s: ", n, word, windowText(IncidentWindow))
	// The newest first: they matter most.
	for i := range min(n, maxIncidentsCited) {
		inc := f.RecentIncidents[n-1-i]
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s at %s UTC", inc.Trigger, inc.Time.UTC().Format("15:04:05"))
		if inc.Reason != "" {
			fmt.Fprintf(&b, " (%s)", inc.Reason)
		}
	}
	if n > maxIncidentsCited {
		fmt.Fprintf(&b, "; %d more", n-maxIncidentsCited)
	}
	return Warn, b.String(),
		"read the bundles: vitals incident DIR (the monitor's directory), or list and fetch them from /debug/vitals/incidents/"
}

// windowText is "hour" for one hour, else the duration.
func windowText(d time.Duration) string {
	if d == time.Hour {
		return "hour"
	}
	return d.String()
}

func sourceSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func trimFloat(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

func limitString(v int64) string {
	if v == math.MaxInt64 {
		return "off"
	}
	if v < 0 {
		return fmt.Sprint(v)
	}
	return bytesString(uint64(v))
}

// bytesString formats n in the largest binary unit that keeps it ≥ 1.
func bytesString(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / unit
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	return trimFloat(v) + units[i]
}

func isLoopbackAddr(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}
