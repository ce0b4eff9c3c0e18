package vitals

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/internal/tracecheck"
	"github.com/govitals/vitals/leak"
	"github.com/govitals/vitals/tracecap"
)

// quiet keeps Start's Setup from changing this test process's settings
// beyond what a test restores.
func quiet() StartOption {
	return SetupOptions(KeepGOMAXPROCS(), KeepGOMEMLIMIT(), Traceback(""))
}

func fetch(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("ops", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestStartWiresEverything(t *testing.T) {
	dir := t.TempDir()
	svc, err := Start(context.Background(), quiet(),
		AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "pw")),
		FlightRecorder(tracecap.WithMinInterval(0)),
		TraceDir(dir, 5, 64<<20),
		WatchdogOptions(leak.SampleEvery(10*time.Millisecond), leak.WarmUp(0), leak.WindowSamples(2)),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Err(); err != nil {
		t.Fatalf("parts failed: %v", err)
	}
	app := prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_orders_total", Help: "Orders."})
	svc.Registry().MustRegister(app)
	app.Add(3)
	addr := svc.Admin().Addr()

	code, body := fetch(t, addr, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		"shop_orders_total 3",                       // the application's registry
		"go_goroutines ",                            // promexport's runtime metrics
		`vitals_checklist_ok{item="pprof"} 1`,       // checklist hook: admin on loopback with auth
		"vitals_goroutine_leak_baseline_goroutines", // watchdog hook
		"vitals_gomaxprocs{",                        // settings hook
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Wait for the watchdog to learn a baseline, then read it on /debug/vitals.
	deadline := time.Now().Add(10 * time.Second)
	for svc.Watchdog().State().Baseline == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	code, body = fetch(t, addr, "/debug/vitals")
	if code != 200 {
		t.Fatalf("/debug/vitals: %d", code)
	}
	var v struct {
		Report *Report `json:"report"`
		State  struct {
			Leak      leak.WatchdogState `json:"leak"`
			Checklist []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"checklist"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.Report == nil || v.Report.Schema != ReportSchema || len(v.Report.Decisions) == 0 {
		t.Errorf("report = %+v", v.Report)
	}
	if v.State.Leak.Baseline == 0 || v.State.Leak.Samples == 0 {
		t.Errorf("leak state = %+v", v.State.Leak)
	}
	if len(v.State.Checklist) == 0 {
		t.Error("no checklist in state")
	}

	snap, err := svc.Snapshot("slow checkout")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tracecheck.ReadFile(snap.Path); err != nil {
		t.Fatal(err)
	}
	if code, _ := fetch(t, addr, "/debug/vitals/flight"); code != 200 {
		t.Errorf("/debug/vitals/flight: %d", code)
	}

	if err := svc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("admin server still answers after Close")
	}
	if svc.Recorder().Running() {
		t.Error("flight recorder still running after Close")
	}
}

// TestStartAdminPortTaken: the admin server cannot bind, and the service
// still starts, with the failure reported.
func TestStartAdminPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	svc, err := Start(context.Background(), quiet(), AdminOptions(admin.WithAddr(ln.Addr().String())))
	if err != nil {
		t.Fatalf("Start failed because of the admin port: %v", err)
	}
	defer svc.Close()
	if err := svc.Err(); err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Err() = %v, want the bind failure", err)
	}
	if svc.Watchdog() == nil || svc.Report() == nil {
		t.Error("other parts missing")
	}
	if err := svc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestStartInvalidOptionsChangeNothing(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	mem := debug.SetMemoryLimit(-1)
	before := runtime.NumGoroutine()
	tests := []struct {
		name string
		opts []StartOption
	}{
		{"public admin without auth", []StartOption{AdminOptions(admin.WithAddr("0.0.0.0:0"))}},
		{"bad trace dir", []StartOption{TraceDir("", 1, 1)}},
		{"bad setup option", []StartOption{SetupOptions(MemoryLimitRatio(7))}},
		{"bad watchdog option", []StartOption{WatchdogOptions(leak.SampleEvery(-1))}},
		{"nil option", []StartOption{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := Start(context.Background(), tt.opts...)
			if err == nil {
				svc.Close()
				t.Fatal("Start accepted invalid options")
			}
			if runtime.GOMAXPROCS(0) != procs || debug.SetMemoryLimit(-1) != mem {
				t.Errorf("settings changed: GOMAXPROCS %d->%d, GOMEMLIMIT %d->%d", procs, runtime.GOMAXPROCS(0), mem, debug.SetMemoryLimit(-1))
			}
		})
	}
	// Whatever started was stopped: the goroutine count comes back.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before, %d after failed Starts", before, n)
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := Start(ctx, quiet(), AdminOptions(admin.WithAddr("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	addr := svc.Admin().Addr()
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("admin server still up 10 s after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

func TestStartNoAdmin(t *testing.T) {
	svc, err := Start(context.Background(), quiet(), NoAdmin(), NoWatchdog())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Admin() != nil || svc.Watchdog() != nil {
		t.Error("parts started although disabled")
	}
	if _, err := svc.Snapshot("x"); err == nil {
		t.Error("Snapshot without a recorder succeeded")
	}

}
