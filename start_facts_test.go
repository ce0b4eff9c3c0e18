package vitals

import (
	"context"
	"encoding/json"
	"io"
	"runtime/trace"
	"strings"
	"testing"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/incident"
)

// TestServiceFactsServed: /debug/vitals carries the checklist facts, and an
// execution trace left running shows in them and in the trace rule.
func TestServiceFactsServed(t *testing.T) {
	svc, err := Start(context.Background(), quiet(), NoWatchdog(),
		AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "pw")))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	addr := svc.Admin().Addr()
	read := func() checklist.Facts {
		t.Helper()
		code, body := fetch(t, addr, "/debug/vitals")
		if code != 200 {
			t.Fatalf("/debug/vitals: %d", code)
		}
		var v struct {
			State struct {
				Facts *checklist.Facts `json:"facts"`
			} `json:"state"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.State.Facts == nil {
			t.Fatalf("no facts in /debug/vitals (%v):\n%s", err, body)
		}
		return *v.State.Facts
	}
	f := read()
	if !f.TraceKnown || f.TraceRunning || !f.MetricsExported || !f.AdminAuth || f.AdminAddr != addr || !f.FinalizersKnown || f.GOMAXPROCS == 0 {
		t.Errorf("facts %+v", f)
	}
	if trace.IsEnabled() {
		t.Skip("another trace is running")
	}
	if err := trace.Start(io.Discard); err != nil {
		t.Fatal(err)
	}
	f = read()
	trace.Stop()
	if !f.TraceRunning {
		t.Error("a running trace is not in the facts")
	}
	for _, r := range checklist.Evaluate(f) {
		if r.ID == "trace" && r.Status != checklist.Warn {
			t.Errorf("trace rule %v with a trace running, want warn", r.Status)
		}
	}
}

// BenchmarkServiceFacts is what the checklist gauges and /debug/vitals pay
// per evaluation: the runtime reads, the watchdog state and, in a cgroup
// with a CPU quota, opening and reading cpu.stat.
func BenchmarkServiceFacts(b *testing.B) {
	svc, err := Start(context.Background(), quiet(), NoWatchdog(), NoAdmin())
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	b.ReportAllocs()
	for b.Loop() {
		_ = checklist.Evaluate(svc.facts())
	}
}

// TestServiceFactsIncidents: with incident capture on, the facts carry the
// monitor's recent incidents and the "incidents" rule warns about them.
func TestServiceFactsIncidents(t *testing.T) {
	ctx := context.Background()
	svc, err := Start(ctx, quiet(), NoWatchdog(), Incidents(t.TempDir(), incident.NoFlightRecorder()),
		AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "pw")))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	status := func() checklist.Result {
		t.Helper()
		code, body := fetch(t, svc.Admin().Addr(), "/debug/vitals")
		var v struct {
			State struct {
				Facts *checklist.Facts `json:"facts"`
			} `json:"state"`
		}
		if err := json.Unmarshal([]byte(body), &v); code != 200 || err != nil || v.State.Facts == nil {
			t.Fatalf("/debug/vitals: %d %v", code, err)
		}
		for _, r := range checklist.Evaluate(*v.State.Facts) {
			if r.ID == "incidents" {
				return r
			}
		}
		t.Fatal("no incidents rule")
		return checklist.Result{}
	}
	if r := status(); r.Status != checklist.Pass {
		t.Errorf("before any incident: %v %q, want pass", r.Status, r.Evidence)
	}
	if _, err := svc.Incidents().Capture(ctx, "facts test"); err != nil {
		t.Fatal(err)
	}
	if r := status(); r.Status != checklist.Warn || !strings.Contains(r.Evidence, "1 incident in the last hour: manual at ") ||
		!strings.Contains(r.Evidence, "(facts test)") {
		t.Errorf("after a capture: %v %q, want a warning naming it", r.Status, r.Evidence)
	}
}

// TestIncidentRecorderIsBounded: incident capture keeps a flight recorder
// on, which is bounded tracing; the trace rule must not warn about it.
func TestIncidentRecorderIsBounded(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("another trace is running")
	}
	svc, err := Start(context.Background(), quiet(), NoWatchdog(), NoAdmin(), Incidents(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Incidents() == nil || !running(svc.Incidents().Recorder()) {
		t.Skipf("incident capture has no flight recorder running: %v", svc.Err())
	}
	if !trace.IsEnabled() {
		t.Fatal("the flight recorder runs but the tracer is off")
	}
	var f checklist.Facts
	svc.liveFacts(&f)
	if !f.TraceKnown || f.TraceRunning {
		t.Errorf("facts with only the incident flight recorder: known %v, running %v; want known, not running", f.TraceKnown, f.TraceRunning)
	}
}
