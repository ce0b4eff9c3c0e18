package checklist

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		facts Facts
		id    string
		want  Status
		// evidence must contain every one of these
		evidence []string
	}{
		{"gomaxprocs unknown", Facts{}, "gomaxprocs", Skip, []string{"unknown"}},
		{"gomaxprocs no quota", Facts{GOMAXPROCS: 8, CPULimitKnown: true, Affinity: 8}, "gomaxprocs", Pass, []string{"no CPU quota"}},
		{"gomaxprocs over affinity", Facts{GOMAXPROCS: 16, CPULimitKnown: true, Affinity: 8}, "gomaxprocs", Warn, []string{"16", "8 CPUs"}},
		{"gomaxprocs fits quota", Facts{GOMAXPROCS: 2, CPULimit: 1.5, CPULimitKnown: true, CPULimitSource: "/sys/fs/cgroup/cpu/x/cpu.cfs_quota_us"}, "gomaxprocs", Pass, []string{"GOMAXPROCS=2", "1.5 cores", "cpu.cfs_quota_us"}},
		{"gomaxprocs runtime minimum 2 on a 0.5 quota", Facts{GOMAXPROCS: 2, CPULimit: 0.5, CPULimitKnown: true}, "gomaxprocs", Pass, []string{"0.5 cores"}},
		{"gomaxprocs slightly over", Facts{GOMAXPROCS: 3, CPULimit: 1.5, CPULimitKnown: true}, "gomaxprocs", Warn, []string{"at most 2 fit"}},
		{"gomaxprocs oversubscribed", Facts{GOMAXPROCS: 64, GOMAXPROCSSource: "env", CPULimit: 2, CPULimitKnown: true}, "gomaxprocs", Fail, []string{"GOMAXPROCS=64 (env)", "throttles"}},
		{"gomaxprocs affinity below quota", Facts{GOMAXPROCS: 4, CPULimit: 4, CPULimitKnown: true, Affinity: 2}, "gomaxprocs", Warn, []string{"at most 2 fit"}},

		{"gomemlimit unknown", Facts{}, "gomemlimit", Skip, nil},
		{"gomemlimit no container limit", Facts{GOMEMLIMIT: math.MaxInt64, MemoryLimitKnown: true}, "gomemlimit", Pass, []string{"off", "no container memory limit"}},
		{"gomemlimit off in container", Facts{GOMEMLIMIT: math.MaxInt64, MemoryLimit: 300 * mib, MemoryLimitKnown: true}, "gomemlimit", Fail, []string{"off", "300MiB", "OOM"}},
		{"gomemlimit at 90%", Facts{GOMEMLIMIT: 270 * mib, MemoryLimit: 300 * mib, MemoryLimitKnown: true}, "gomemlimit", Pass, []string{"270MiB", "90%"}},
		{"gomemlimit too low", Facts{GOMEMLIMIT: 100 * mib, MemoryLimit: 300 * mib, MemoryLimitKnown: true}, "gomemlimit", Warn, []string{"33%"}},
		{"gomemlimit no headroom", Facts{GOMEMLIMIT: 297 * mib, MemoryLimit: 300 * mib, MemoryLimitKnown: true}, "gomemlimit", Warn, []string{"99%"}},
		{"gomemlimit above container", Facts{GOMEMLIMIT: 400 * mib, MemoryLimit: 300 * mib, MemoryLimitKnown: true}, "gomemlimit", Fail, []string{"never takes effect"}},

		{"traceback unknown", Facts{}, "gotraceback", Skip, nil},
		{"traceback all", Facts{GOTRACEBACK: "all"}, "gotraceback", Pass, []string{"all"}},
		{"traceback system", Facts{GOTRACEBACK: "system"}, "gotraceback", Pass, nil},
		{"traceback default", Facts{GOTRACEBACK: "single"}, "gotraceback", Warn, []string{"only the failing goroutine"}},
		{"traceback none", Facts{GOTRACEBACK: "none"}, "gotraceback", Fail, nil},

		{"pprof nothing known", Facts{}, "pprof", Skip, nil},
		{"pprof public", Facts{PublicProbed: true, DebugOnPublic: []string{"/debug/pprof/", "/debug/vars"}}, "pprof", Fail, []string{"/debug/pprof/", "/debug/vars"}},
		{"pprof public clean", Facts{PublicProbed: true}, "pprof", Pass, []string{"no debug endpoint"}},
		{"pprof admin with auth", Facts{AdminAddr: "0.0.0.0:6060", AdminAuth: true}, "pprof", Pass, []string{"with auth"}},
		{"pprof admin loopback no auth", Facts{AdminAddr: "127.0.0.1:6060"}, "pprof", Pass, []string{"without auth"}},
		{"pprof admin open", Facts{AdminAddr: "0.0.0.0:6060"}, "pprof", Fail, []string{"without auth"}},

		{"metrics unknown", Facts{}, "metrics", Skip, nil},
		{"metrics on", Facts{MetricsKnown: true, MetricsExported: true}, "metrics", Pass, nil},
		{"metrics off", Facts{MetricsKnown: true}, "metrics", Warn, nil},

		{"trace unknown", Facts{}, "trace", Skip, nil},
		{"trace off", Facts{TraceKnown: true}, "trace", Pass, nil},
		{"trace running", Facts{TraceKnown: true, TraceRunning: true}, "trace", Warn, nil},

		{"finalizers unknown", Facts{}, "finalizers", Skip, nil},
		{"finalizers none", Facts{FinalizersKnown: true}, "finalizers", Pass, nil},
		{"finalizers ran", Facts{FinalizersKnown: true, FinalizersExecuted: 12}, "finalizers", Warn, []string{"12 finalizers"}},

		{"throttling unknown", Facts{}, "throttling", Skip, nil},
		{"throttling too few periods", Facts{ThrottleKnown: true, Periods: 10, ThrottledPeriods: 10}, "throttling", Pass, []string{"too few"}},
		{"throttling low", Facts{ThrottleKnown: true, Periods: 1000, ThrottledPeriods: 50}, "throttling", Pass, []string{"5.0%"}},
		{"throttling warn", Facts{ThrottleKnown: true, Periods: 1000, ThrottledPeriods: 150}, "throttling", Warn, []string{"15.0%"}},
		{"throttling fail", Facts{ThrottleKnown: true, Periods: 1000, ThrottledPeriods: 600}, "throttling", Fail, []string{"600 of 1000"}},

		{"heap unknown", Facts{}, "heap", Skip, nil},
		{"heap no limit", Facts{HeapLive: 10 * mib, GOMEMLIMIT: math.MaxInt64}, "heap", Pass, nil},
		{"heap fine", Facts{HeapLive: 10 * mib, GOMEMLIMIT: 100 * mib}, "heap", Pass, []string{"10%"}},
		{"heap near limit", Facts{HeapLive: 98 * mib, GOMEMLIMIT: 100 * mib}, "heap", Warn, []string{"98%"}},

		{"goroutines unknown", Facts{}, "goroutines", Skip, nil},
		{"goroutines steady", Facts{GoroutinesKnown: true, Goroutines: 40, GoroutineBaseline: 38}, "goroutines", Pass, []string{"40 goroutines", "steady state 38"}},
		{"goroutines leak", Facts{GoroutinesKnown: true, Goroutines: 4000, GoroutineBaseline: 38, LeakSuspected: true}, "goroutines", Fail, []string{"climbing"}},

		{"incidents unknown", Facts{}, "incidents", Skip, []string{"no incident monitor"}},
		{"incidents none recent", Facts{IncidentsKnown: true, IncidentsTotal: 4}, "incidents", Pass, []string{"no incident in the last hour", "4 since the start"}},
		{"incidents one", Facts{IncidentsKnown: true, IncidentsTotal: 1, RecentIncidents: []IncidentFact{
			{Time: time.Date(2026, 12, 1, 12, 3, 7, 0, time.UTC), Trigger: "memory", Reason: "Go memory 188.2 MiB is 82% of the effective limit 230.4 MiB"},
		}}, "incidents", Warn, []string{"1 incident in the last hour: memory at 12:03:07 UTC (Go memory 188.2 MiB is 82%"}},
		{"incidents many, newest first", Facts{IncidentsKnown: true, IncidentsTotal: 9, RecentIncidents: []IncidentFact{
			{Time: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Trigger: "gc"},
			{Time: time.Date(2026, 12, 1, 12, 1, 0, 0, time.UTC), Trigger: "cpu"},
			{Time: time.Date(2026, 12, 1, 12, 2, 0, 0, time.UTC), Trigger: "latency"},
			{Time: time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC), Trigger: "goroutines", Reason: "leak watchdog"},
			{Time: time.Date(2026, 12, 1, 12, 4, 0, 0, time.UTC), Trigger: "manual"},
		}}, "incidents", Warn, []string{"5 incidents in the last hour: manual at 12:04:00 UTC; goroutines at 12:03:00 UTC (leak watchdog); latency at 12:02:00 UTC; 2 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Result
			for _, r := range Evaluate(tt.facts) {
				if r.ID == tt.id {
					got = &r
					break
				}
			}
			if got == nil {
				t.Fatalf("no result with id %q", tt.id)
			}
			if got.Status != tt.want {
				t.Errorf("status = %v, want %v (evidence %q)", got.Status, tt.want, got.Evidence)
			}
			for _, s := range tt.evidence {
				if !strings.Contains(got.Evidence, s) {
					t.Errorf("evidence %q does not contain %q", got.Evidence, s)
				}
			}
			if (got.Fix != "") != (got.Status == Warn || got.Status == Fail) {
				t.Errorf("fix %q for status %v: want a fix exactly on warn and fail", got.Fix, got.Status)
			}
		})
	}
}

func TestEvaluateCoversEveryRuleOnce(t *testing.T) {
	res := Evaluate(Facts{})
	ids := IDs()
	if len(res) != len(ids) {
		t.Fatalf("got %d results, want %d", len(res), len(ids))
	}
	seen := map[string]bool{}
	for i, r := range res {
		if r.ID != ids[i] || seen[r.ID] {
			t.Errorf("result %d: id %q (want %q, unique)", i, r.ID, ids[i])
		}
		seen[r.ID] = true
		if r.Status != Skip {
			t.Errorf("%s: status %v with no facts, want skip", r.ID, r.Status)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		statuses []Status
		want     int
	}{
		{nil, 0},
		{[]Status{Pass, Skip}, 0},
		{[]Status{Pass, Warn, Skip}, 1},
		{[]Status{Warn, Fail, Pass}, 2},
	}
	for _, tt := range tests {
		var rs []Result
		for _, s := range tt.statuses {
			rs = append(rs, Result{Status: s})
		}
		if got := ExitCode(rs); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.statuses, got, tt.want)
		}
	}
}

func TestStatusJSONRoundTrip(t *testing.T) {
	in := Result{ID: "x", Status: Warn, Evidence: "e", Fix: "f"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"status":"warn"`)) {
		t.Errorf("status not encoded as text: %s", b)
	}
	var out Result
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"status":"bogus"}`), &out); err == nil {
		t.Error("unknown status decoded without error")
	}
}

func TestWriteText(t *testing.T) {
	res := Evaluate(Facts{GOTRACEBACK: "single", GOMAXPROCS: 2, CPULimit: 2, CPULimitKnown: true})
	var plain, colored bytes.Buffer
	if err := WriteText(&plain, res, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&colored, res, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain output has ANSI escapes")
	}
	if !strings.Contains(colored.String(), ansiYellow+"WARN"+ansiReset) {
		t.Error("colored output lacks a yellow WARN")
	}
	if !strings.Contains(plain.String(), "fix: set GOTRACEBACK=all") {
		t.Errorf("plain output lacks the traceback fix:\n%s", plain.String())
	}
	if got := strings.Count(plain.String(), "\n"); got != len(res)+1 {
		t.Errorf("got %d lines, want one per rule plus one fix line", got)
	}
}

func TestMetricsScrapeAndWarmUp(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    Facts
		id   string
		st   Status
		ev   string
	}{
		{"scraped", Facts{MetricsKnown: true, MetricsExported: true, MetricsScraped: true, MetricsFamilies: 87}, "metrics", Pass, "87 metric families scraped"},
		{"500", Facts{MetricsKnown: true, MetricsExported: true, MetricsError: "GET /metrics: 500"}, "metrics", Fail, "scraping the metrics page failed: GET /metrics: 500"},
		{"warming", Facts{WatchdogWarmingUp: true, WatchdogVerdictIn: 400*time.Second + 300*time.Millisecond}, "goroutines", Skip, "warming up: verdict in 6m40s"},
		{"due", Facts{WatchdogWarmingUp: true}, "goroutines", Skip, "verdict due now"},
		{"no watchdog", Facts{}, "goroutines", Skip, "no leak watchdog verdict"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range Evaluate(tt.f) {
				if r.ID == tt.id && (r.Status != tt.st || !strings.Contains(r.Evidence, tt.ev)) {
					t.Errorf("%s: %v %q; want %v with %q", tt.id, r.Status, r.Evidence, tt.st, tt.ev)
				}
			}
		})
	}
}
