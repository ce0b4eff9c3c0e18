package doctor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

const token = "s3cret-token"

// serveFixture serves the fixture at /debug/vitals behind a bearer token,
// like a vitals admin server (401 without it).
func serveFixture(t *testing.T, file string, auth bool) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "vitals", file))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/vitals", func(w http.ResponseWriter, r *http.Request) {
		if auth && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	// A real client_golang metrics page behind the same credentials.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	metricsPage := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if auth && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		metricsPage.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func statuses(rs []checklist.Result) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[r.ID] = r.Status.String()
	}
	return m
}

func evidence(rs []checklist.Result, id string) string {
	for _, r := range rs {
		if r.ID == id {
			return r.Evidence
		}
	}
	return ""
}

func TestVitalsFixtures(t *testing.T) {
	tests := []struct {
		file   string
		auth   bool
		status checklist.Status
		want   map[string]string
		// evidence substrings per rule
		ev map[string]string
	}{
		{
			file: "pass.json", auth: true, status: checklist.Pass,
			want: map[string]string{
				"gomaxprocs": "pass", "gomemlimit": "pass", "gotraceback": "pass", "pprof": "pass", "metrics": "pass",
				"trace": "pass", "finalizers": "pass", "throttling": "skip", "heap": "pass", "goroutines": "pass",
				"incidents": "pass",
			},
			ev: map[string]string{"pprof": "with auth", "goroutines": "34 goroutines, steady state 31", "metrics": "metric families scraped",
				"incidents": "no incident in the last hour (0 since the start)"},
		},
		{
			file: "warn.json", auth: true, status: checklist.Warn,
			want: map[string]string{
				"gomaxprocs": "warn", "gomemlimit": "pass", "gotraceback": "warn", "pprof": "pass", "metrics": "pass",
				"trace": "pass", "finalizers": "warn", "throttling": "warn", "heap": "pass", "goroutines": "pass",
				"incidents": "warn",
			},
			ev: map[string]string{
				// The goroutines incident at 01:10 is more than an hour
				// before the state's time (02:40): not cited.
				"incidents": "2 incidents in the last hour: manual at 02:31:40 UTC (operator asked); " +
					"memory at 02:03:07 UTC (Go memory 188.2 MiB is 82% of the effective limit 230.4 MiB)",
				"gomaxprocs": "GOMAXPROCS=3 (env), CPU limit 1.5 cores", "finalizers": "12 finalizers ran",
				"throttling": "150 of 1000 CFS periods throttled (15.0%)", "gotraceback": "GOTRACEBACK=single",
			},
		},
		{
			// An older server without "facts": derived from report and state.
			file: "fail.json", auth: true, status: checklist.Fail,
			want: map[string]string{
				"gomaxprocs": "fail", "gomemlimit": "fail", "gotraceback": "pass", "pprof": "pass", "metrics": "warn",
				"trace": "skip", "finalizers": "skip", "throttling": "skip", "heap": "skip", "goroutines": "fail",
				"incidents": "skip",
			},
			ev: map[string]string{
				"gomaxprocs": "GOMAXPROCS=16 (env), CPU limit 1 cores (/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us)",
				"gomemlimit": "GOMEMLIMIT=off, container memory 512MiB", "goroutines": "900 goroutines, steady state 31",
				"pprof": "with auth",
			},
		},
		{
			// The same service with no auth on its admin server: the doctor
			// sees it answer without credentials.
			file: "pass.json", auth: false, status: checklist.Pass,
			want: map[string]string{"pprof": "pass"},
			ev:   map[string]string{"pprof": "admin server on 127.0.0.1:40315 without auth"},
		},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/auth=%v", tt.file, tt.auth), func(t *testing.T) {
			srv := serveFixture(t, tt.file, tt.auth)
			a := doctor.Vitals(context.Background(), srv.URL, doctor.WithToken(token))
			if a.Error != "" {
				t.Fatalf("error %s", a.Error)
			}
			if a.Status != tt.status {
				t.Errorf("status %v, want %v", a.Status, tt.status)
			}
			got := statuses(a.Results)
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("%s: %s (%s), want %s", id, got[id], evidence(a.Results, id), want)
				}
			}
			for id, want := range tt.ev {
				if ev := evidence(a.Results, id); !strings.Contains(ev, want) {
					t.Errorf("%s evidence %q lacks %q", id, ev, want)
				}
			}
			if a.Report == nil || a.Report.Schema != 1 {
				t.Errorf("report not read: %+v", a.Report)
			}
		})
	}
}

func TestVitalsErrors(t *testing.T) {
	pass := serveFixture(t, "pass.json", true)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	defer html.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	tests := []struct {
		name, url string
		opts      []doctor.Option
		want      string
	}{
		{"no credentials", pass.URL, nil, "needs credentials"},
		{"wrong token", pass.URL, []doctor.Option{doctor.WithToken("nope")}, "credentials were refused"},
		{"wrong basic", pass.URL, []doctor.Option{doctor.WithBasicAuth("u", "p")}, "credentials were refused"},
		{"not vitals", html.URL, nil, "not a /debug/vitals answer"},
		{"404", pass.URL + "/elsewhere", []doctor.Option{doctor.WithToken(token)}, "status 404"},
		{"timeout", slow.URL, []doctor.Option{doctor.WithTimeout(100 * time.Millisecond)}, "no answer within the timeout"},
		{"bad scheme", "ftp://127.0.0.1/", nil, "scheme must be http or https"},
		{"no host", "http:///x", nil, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := doctor.Vitals(context.Background(), tt.url, tt.opts...)
			if a.Status != checklist.Fail || !strings.Contains(a.Error, tt.want) {
				t.Errorf("status %v, error %q; want fail with %q", a.Status, a.Error, tt.want)
			}
			if a.Results != nil {
				t.Errorf("results on error: %v", a.Results)
			}
		})
	}
	if code := doctor.ExitCode([]doctor.Audit{doctor.Vitals(context.Background(), html.URL)}); code != 2 {
		t.Errorf("exit code %d for an unreachable target, want 2", code)
	}
}

// TestRunConcurrent holds every request until all targets are in flight at
// once: a Run that audited one target at a time would never get there and
// every audit would time out.
func TestRunConcurrent(t *testing.T) {
	const n = 6
	body, err := os.ReadFile("testdata/vitals/pass.json")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	inFlight := 0
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		if inFlight == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			_, _ = w.Write(body)
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	var targets []doctor.Target
	for i := range n {
		targets = append(targets, doctor.Target{URL: fmt.Sprintf("%s/svc%d", srv.URL, i), Kind: doctor.KindVitals})
	}
	audits := doctor.Run(context.Background(), targets, doctor.WithTimeout(20*time.Second), doctor.WithConcurrency(n))
	for i, a := range audits {
		if a.Error != "" {
			t.Errorf("target %d: %s", i, a.Error)
		}
		if a.Target != targets[i] {
			t.Errorf("audit %d is for %v, want %v (order kept)", i, a.Target, targets[i])
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	audits := doctor.Run(ctx, []doctor.Target{{URL: "http://127.0.0.1:1", Kind: doctor.KindVitals}}, doctor.WithConcurrency(1))
	if len(audits) != 1 || audits[0].Status != checklist.Fail {
		t.Fatalf("audits %+v, want one failed", audits)
	}
}

func TestExitCode(t *testing.T) {
	a := func(s checklist.Status) doctor.Audit { return doctor.Audit{Status: s} }
	tests := []struct {
		audits []doctor.Audit
		want   int
	}{
		{nil, 2},
		{[]doctor.Audit{a(checklist.Pass), a(checklist.Skip)}, 0},
		{[]doctor.Audit{a(checklist.Pass), a(checklist.Warn)}, 1},
		{[]doctor.Audit{a(checklist.Fail), a(checklist.Warn)}, 2},
	}
	for _, tt := range tests {
		if got := doctor.ExitCode(tt.audits); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.audits, got, tt.want)
		}
	}
}

// TestWriteTextGolden renders the three fixtures (parsed, not fetched, so
// no port appears) as `vitals doctor` prints them.
func TestWriteTextGolden(t *testing.T) {
	var audits []doctor.Audit
	for _, f := range []string{"pass.json", "warn.json", "fail.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "vitals", f))
		if err != nil {
			t.Fatal(err)
		}
		a, err := doctor.ParseVitals(body)
		if err != nil {
			t.Fatal(err)
		}
		a.Target = doctor.Target{URL: "http://" + strings.TrimSuffix(f, ".json") + ".example:6060", Kind: doctor.KindVitals}
		a.Results = checklist.Evaluate(a.Facts)
		a.Status = checklist.Worst(a.Results)
		audits = append(audits, a)
	}
	audits = append(audits, doctor.Audit{Target: doctor.Target{URL: "http://down.example:6060", Kind: doctor.KindVitals},
		Status: checklist.Fail, Error: "doctor: dial tcp: connection refused"})
	for _, color := range []bool{false, true} {
		var b strings.Builder
		if err := doctor.WriteText(&b, audits, color); err != nil {
			t.Fatal(err)
		}
		goldenfile.Check(t, filepath.Join("testdata", fmt.Sprintf("report-color=%v.golden", color)), []byte(b.String()))
	}
}

func TestParseTargets(t *testing.T) {
	in := "# fleet\n\nhttp://10.0.0.7:6060\n  public https://shop.example/  \n127.0.0.1:6060\n"
	got, err := doctor.ParseTargets(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []doctor.Target{
		{URL: "http://10.0.0.7:6060", Kind: doctor.KindVitals},
		{URL: "https://shop.example/", Kind: doctor.KindPublic},
		{URL: "127.0.0.1:6060", Kind: doctor.KindVitals},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"a b c\n", "private http://x\n", "ftp://x\n", "http://\n"} {
		if _, err := doctor.ParseTargets(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseTargets(%q) error %v, want one naming line 1", bad, err)
		}
	}
}

// TestVitalsMetricsScrape: the metrics row scrapes /metrics with the
// credentials; a page that answers 500 or does not parse fails it.
func TestVitalsMetricsScrape(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "vitals", "pass.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		serve  func(w http.ResponseWriter)
		status string
		ev     string
	}{
		{"ok", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			io.WriteString(w, "# TYPE a counter\na 1\n# TYPE b gauge\nb 2\nc{x=\"y\"} 3\n")
		}, "pass", "3 metric families scraped"},
		{"500", func(w http.ResponseWriter) {
			http.Error(w, "promexport: metric family go_gc_duration_seconds served by two gatherers", 500)
		}, "fail", "status 500: promexport: metric family go_gc_duration_seconds"},
		{"garbage", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			io.WriteString(w, "a 1\nthis is { not an exposition\n")
		}, "fail", "does not parse"},
		{"html", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
		}, "fail", "not a Prometheus exposition"},
		{"empty", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		}, "fail", "no metric families"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var gotAuth string
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/vitals", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
			mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				tt.serve(w)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			a := doctor.Vitals(context.Background(), srv.URL, doctor.WithToken(token))
			if st := statuses(a.Results)["metrics"]; st != tt.status || !strings.Contains(evidence(a.Results, "metrics"), tt.ev) {
				t.Errorf("metrics: %s %q; want %s with %q", st, evidence(a.Results, "metrics"), tt.status, tt.ev)
			}
			if gotAuth != "Bearer "+token {
				t.Errorf("/metrics got Authorization %q, want the doctor's token", gotAuth)
			}
		})
	}
}

// TestVitalsWarmUp: with no verdict yet, the goroutines row says when one
// is due, from the watchdog's own verdict_in, its verdict_at, or the
// server's uptime and the default settings; an older state without any of
// them still parses.
func TestVitalsWarmUp(t *testing.T) {
	for _, tt := range []struct {
		name, state, want string
	}{
		{"verdict_in", `"leak":{"samples":3,"current":10,"baseline":0,"warming_up":true,"verdict_in":400000000000}`, "warming up: verdict in 6m40s"},
		{"verdict_at", `"time":"2026-12-01T10:00:00Z","leak":{"baseline":0,"warming_up":true,"verdict_at":"2026-12-01T10:01:30Z"}`, "warming up: verdict in 1m30s"},
		{"uptime only", `"uptime_seconds":20,"leak":{"samples":2,"current":10,"baseline":0}`, "warming up: verdict in 6m40s"},
		{"learnt", `"leak":{"samples":50,"current":10,"baseline":9}`, "10 goroutines, steady state 9"},
		{"no watchdog", `"gomaxprocs":2`, "no leak watchdog verdict"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := doctor.ParseVitals([]byte(`{"state":{` + tt.state + `},"routes":[]}`))
			if err != nil {
				t.Fatal(err)
			}
			rs := checklist.Evaluate(a.Facts)
			if ev := evidence(rs, "goroutines"); !strings.Contains(ev, tt.want) {
				t.Errorf("goroutines evidence %q lacks %q", ev, tt.want)
			}
		})
	}
}

// TestParseVitalsIncidents: state.incidents (incident.State) becomes the
// facts of the "incidents" rule, judged against the state's own clock (the
// doctor's when the server gives none); a part that does not decode is a
// note and the rule skips.
func TestParseVitalsIncidents(t *testing.T) {
	recent := time.Now().Add(-5 * time.Minute).UTC().Format(time.RFC3339Nano)
	tests := []struct {
		name, state string
		status      checklist.Status
		evidence    string
		note        string
	}{
		{"no monitor", `{"goroutines": 3}`, checklist.Skip, "no incident monitor", ""},
		{"quiet", `{"time": "2026-11-27T02:40:00Z", "incidents": {"counts": {"manual": 2}}}`, checklist.Pass, "no incident in the last hour (2 since the start)", ""},
		{"old only", `{"time": "2026-11-27T02:40:00Z", "incidents": {"counts": {"gc": 1}, "recent": [{"trigger": "gc", "reason": "GC 45% of CPU", "time": "2026-11-27T01:00:00Z"}]}}`,
			checklist.Pass, "no incident in the last hour (1 since the start)", ""},
		{"recent, no server clock", `{"incidents": {"counts": {"gc": 1}, "recent": [{"trigger": "gc", "reason": "GC 45% of CPU", "time": "` + recent + `"}]}}`,
			checklist.Warn, "1 incident in the last hour: gc at ", ""},
		{"not an object", `{"incidents": "broken"}`, checklist.Skip, "no incident monitor", "could not read the incident monitor's state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := doctor.ParseVitals([]byte(`{"state": ` + tt.state + `}`))
			if err != nil {
				t.Fatal(err)
			}
			rs := checklist.Evaluate(a.Facts)
			if got := statuses(rs)["incidents"]; got != tt.status.String() || !strings.Contains(evidence(rs, "incidents"), tt.evidence) {
				t.Errorf("incidents %s %q, want %s with %q", got, evidence(rs, "incidents"), tt.status, tt.evidence)
			}
			if notes := strings.Join(a.Notes, "\n"); !strings.Contains(notes, tt.note) || (tt.note == "" && notes != "") {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
}
