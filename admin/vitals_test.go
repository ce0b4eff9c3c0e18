package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/tracecheck"
	"github.com/govitals/vitals/tracecap"
)

// TestTraceFilesReadable writes a trace to the response and to the trace
// directory, and a flight snapshot, and reads every one back with the
// x/exp/trace parser.
func TestTraceFilesReadable(t *testing.T) {
	rec := recorder(t, tracecap.WithMinInterval(0))
	s := started(t, WithFlightRecorder(rec), WithTraceDir(rec.Dir()), WithExpensiveInterval(0))

	for _, p := range []string{"/debug/pprof/trace?seconds=0.2", "/debug/vitals/trace?seconds=0.2", "/debug/vitals/flight?reason=slow+checkout"} {
		resp, body := get(t, s, "GET", p, noCred)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %.200q", p, resp.StatusCode, body)
		}
		res, err := tracecheck.Read(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if strings.Contains(p, "flight") {
			if got := res.Logs["vitals.snapshot"]; len(got) == 0 || got[len(got)-1] != "slow checkout" {
				t.Errorf("flight snapshot reason logs = %q", got)
			}
			if resp.Header.Get("X-Vitals-Snapshot") == "" {
				t.Error("no X-Vitals-Snapshot header")
			}
		}
	}
	resp, body := get(t, s, "GET", "/debug/vitals/trace?seconds=0.2&save=1", noCred)
	if resp.StatusCode != 200 {
		t.Fatalf("save=1: %d %.200q", resp.StatusCode, body)
	}
	var saved struct {
		File  string `json:"file"`
		Bytes int64  `json:"bytes"`
	}
	if err := json.Unmarshal(body, &saved); err != nil || saved.File == "" || saved.Bytes == 0 {
		t.Fatalf("save=1 answer %q: %v", body, err)
	}
	files := rec.Dir().Files()
	if len(files) != 2 {
		t.Fatalf("trace dir holds %v, want the flight snapshot and the saved trace", files)
	}
	for _, f := range files {
		if _, err := tracecheck.ReadFile(f); err != nil {
			t.Error(err)
		}
	}
}

func TestFlightRateLimitedOverHTTP(t *testing.T) {
	rec := recorder(t) // default: one a minute
	s := started(t, WithFlightRecorder(rec))
	if resp, _ := get(t, s, "POST", "/debug/vitals/flight", noCred); resp.StatusCode != 200 {
		t.Fatalf("first snapshot: %d", resp.StatusCode)
	}
	resp, _ := get(t, s, "POST", "/debug/vitals/flight", noCred)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second snapshot: %d, want 429", resp.StatusCode)
	}
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Errorf("Retry-After %q, want 1..60", resp.Header.Get("Retry-After"))
	}
}

func TestFlightWithoutRecorder(t *testing.T) {
	s := started(t)
	if resp, _ := get(t, s, "GET", "/debug/vitals/flight", noCred); resp.StatusCode != 404 {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, s, "GET", "/debug/vitals/trace?save=1", noCred); resp.StatusCode != 404 {
		t.Errorf("save without dir: %d, want 404", resp.StatusCode)
	}
}

// TestFlightPausedOverHTTP: above its goroutine ceiling the recorder pauses;
// the flight route then serves the trace held from the pause, marked with
// X-Vitals-Flight-Paused, and /debug/vitals says why it is paused.
func TestFlightPausedOverHTTP(t *testing.T) {
	rec := recorder(t, tracecap.WithMinInterval(0), tracecap.WithMaxBytes(1<<20),
		tracecap.WithGoroutineCeiling(runtime.NumGoroutine()+300))
	s := started(t, WithFlightRecorder(rec))
	ch := make(chan struct{})
	defer close(ch)
	for range 600 {
		go groupedMarker(ch)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rec.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("not paused: %+v", rec.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, body := get(t, s, "GET", "/debug/vitals/flight", noCred)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("X-Vitals-Flight-Paused"), "over the ceiling") {
		t.Fatalf("flight while paused: %d %q %.200q", resp.StatusCode, resp.Header.Get("X-Vitals-Flight-Paused"), body)
	}
	if _, err := tracecheck.Read(bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, s, "GET", "/debug/vitals", noCred)
	var st struct {
		State struct {
			Flight struct {
				Running bool   `json:"running"`
				Paused  string `json:"paused"`
				Held    int    `json:"held_bytes"`
			} `json:"flight_recorder"`
		} `json:"state"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if st := st.State; st.Flight.Running || !strings.Contains(st.Flight.Paused, "goroutines, over the ceiling") || st.Flight.Held == 0 {
		t.Errorf("/debug/vitals flight_recorder = %+v", st.Flight)
	}
}

func groupedMarker(ch chan struct{}) { <-ch }

func TestGoroutinesFormats(t *testing.T) {
	ch := make(chan struct{})
	defer close(ch)
	for range 37 {
		go groupedMarker(ch)
	}
	s := started(t, WithExpensiveInterval(0))
	const fn = "github.com/govitals/vitals/admin.groupedMarker"
	tests := []struct {
		name    string
		path    string
		accept  string
		ctype   string
		checkFn func(t *testing.T, body []byte)
	}{
		{"default text", "/debug/vitals/goroutines", "", "text/plain", func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte("\n37 chan receive")) || !bytes.Contains(b, []byte("    "+fn+"(")) {
				t.Errorf("no group of 37 for %s:\n%.2000s", fn, b)
			}
		}},
		{"json by query", "/debug/vitals/goroutines?format=json", "", "application/json", func(t *testing.T, b []byte) {
			var page struct {
				Total  int `json:"goroutines"`
				Groups []struct {
					Count  int `json:"count"`
					Frames []struct {
						Func string `json:"func"`
					} `json:"frames"`
				} `json:"groups"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, g := range page.Groups {
				found = found || (g.Count == 37 && len(g.Frames) > 0 && g.Frames[0].Func == fn)
			}
			if !found || page.Total < 37 {
				t.Errorf("json lacks the group of 37 (total %d)", page.Total)
			}
		}},
		{"json by accept", "/debug/vitals/goroutines", "application/json", "application/json", nil},
		{"html by accept", "/debug/vitals/goroutines", "text/html,application/xhtml+xml", "text/html", func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte(`<span class="n">37</span>`)) || !bytes.Contains(b, []byte(fn)) {
				t.Errorf("html lacks the group of 37:\n%.2000s", b)
			}
		}},
		{"html by query", "/debug/vitals/goroutines?format=html", "application/json", "text/html", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.accept != "" {
				hdr = []string{"Accept", tt.accept}
			}
			resp, body := get(t, s, "GET", tt.path, noCred, hdr...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %.200q", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tt.ctype)
			}
			if tt.checkFn != nil {
				tt.checkFn(t, body)
			}
		})
	}
}

func TestVitalsJSON(t *testing.T) {
	s := started(t,
		WithReport(func() any { return map[string]any{"gomaxprocs": 2, "memory_limit": "900MiB"} }),
		WithState("leak", func() any { return map[string]int{"baseline": 12} }),
		WithState("broken", func() any { panic("provider bug") }),
	)
	resp, body := get(t, s, "GET", "/debug/vitals", noCred)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got struct {
		Report map[string]any `json:"report"`
		State  struct {
			Goroutines int               `json:"goroutines"`
			GOMAXPROCS int               `json:"gomaxprocs"`
			Uptime     float64           `json:"uptime_seconds"`
			Leak       map[string]int    `json:"leak"`
			Broken     map[string]string `json:"broken"`
		} `json:"state"`
		Routes []Route `json:"routes"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if got.Report["memory_limit"] != "900MiB" {
		t.Errorf("report = %v", got.Report)
	}
	if got.State.Goroutines < 1 || got.State.GOMAXPROCS < 1 || got.State.Uptime <= 0 {
		t.Errorf("live state = %+v", got.State)
	}
	if got.State.Leak["baseline"] != 12 {
		t.Errorf("leak state = %v", got.State.Leak)
	}
	if !strings.Contains(got.State.Broken["error"], "provider bug") {
		t.Errorf("panicking provider = %v", got.State.Broken)
	}
	if len(got.Routes) != len(s.Routes()) {
		t.Errorf("%d routes listed, server has %d", len(got.Routes), len(s.Routes()))
	}
}

func TestHandleMountsBehindAuth(t *testing.T) {
	s := started(t, WithBearerToken(testToken))
	if err := s.Handle("/debug/vitals/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("dash " + r.URL.Path))
	})); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("/debug/vitals/", http.NotFoundHandler()); err == nil {
		t.Error("duplicate pattern accepted")
	}
	if resp, _ := get(t, s, "GET", "/debug/vitals/", noCred); resp.StatusCode != 401 {
		t.Errorf("mounted handler without credentials: %d", resp.StatusCode)
	}
	if resp, body := get(t, s, "GET", "/debug/vitals/app.js", bearerCred); resp.StatusCode != 200 || string(body) != "dash /debug/vitals/app.js" {
		t.Errorf("mounted handler: %d %q", resp.StatusCode, body)
	}
	// Built-in routes keep precedence over the subtree.
	if resp, body := get(t, s, "GET", "/debug/vitals", bearerCred); resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("{")) {
		t.Errorf("/debug/vitals: %d %.50q", resp.StatusCode, body)
	}
	if resp, _ := get(t, s, "GET", "/debug/vitals/goroutines?format=json", bearerCred); resp.StatusCode != 200 {
		t.Errorf("/debug/vitals/goroutines: %d", resp.StatusCode)
	}
}

func TestHealthzCheap(t *testing.T) {
	s := started(t)
	resp, body := get(t, s, "GET", "/healthz", noCred)
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
}

// TestLimitsInVitals: /debug/vitals says how the admin server's own limits
// are doing, so an operator who got 429 can see why.
func TestLimitsInVitals(t *testing.T) {
	s := started(t)
	get(t, s, "GET", "/debug/pprof/heap", noCred)
	_, body := get(t, s, "GET", "/debug/vitals", noCred)
	var v struct {
		State struct {
			Limits struct {
				Expensive struct {
					Refused *int64 `json:"refused"`
				} `json:"expensive"`
				Profile struct {
					Writes int64 `json:"writes"`
				} `json:"profile_writes"`
			} `json:"admin_limits"`
		} `json:"state"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.State.Limits.Profile.Writes != 1 || v.State.Limits.Expensive.Refused == nil {
		t.Errorf("admin_limits: %+v in %s", v.State.Limits, body)
	}
}

// TestRouteSummaries (issue 17 point 9): every route in the table says what
// it serves and what it costs, not a placeholder.
func TestRouteSummaries(t *testing.T) {
	s := started(t, WithCmdline(), WithHandler("/debug/x/", http.NotFoundHandler()))
	for _, r := range s.Routes() {
		if len(r.Summary) < 30 || strings.Contains(r.Summary, "mounted handler") {
			t.Errorf("%s: summary %q", r.Pattern, r.Summary)
		}
	}
}
