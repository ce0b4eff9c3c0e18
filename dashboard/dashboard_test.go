package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/admin"
)

// stream is one page's event stream, read by a test.
type stream struct {
	cancel context.CancelFunc
	resp   *http.Response
	r      *bufio.Reader
}

// openStream connects to url (the "events" route) with the given header.
func openStream(t *testing.T, url string, hdr http.Header) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	s := &stream{cancel: cancel, resp: resp, r: bufio.NewReader(resp.Body)}
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next event's name ("message" when unnamed) and data.
func (s *stream) next() (event, data string, err error) {
	event = "message"
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if data != "" {
				return event, data, nil
			}
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (s *stream) hello(t *testing.T) hello {
	t.Helper()
	ev, data, err := s.next()
	if err != nil || ev != "hello" {
		t.Fatalf("first event = %q, %v; want hello", ev, err)
	}
	var h hello
	if err := json.Unmarshal([]byte(data), &h); err != nil {
		t.Fatalf("hello: %v: %s", err, data)
	}
	return h
}

// sample reads the next sample row.
func (s *stream) sample(t *testing.T) []*float64 {
	t.Helper()
	ev, data, err := s.next()
	if err != nil {
		t.Fatalf("reading a sample: %v", err)
	}
	if ev != "message" {
		t.Fatalf("event %q, want a sample", ev)
	}
	var row []*float64
	if err := json.Unmarshal([]byte(data), &row); err != nil {
		t.Fatalf("sample: %v: %s", err, data)
	}
	if len(row) != len(fields) {
		t.Fatalf("sample has %d values, want %d", len(row), len(fields))
	}
	return row
}

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runGoroutines counts goroutines running the sampling loop.
func runGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "dashboard.(*Dashboard).run(")
}

func newTestDashboard(t *testing.T, opts ...Option) (*Dashboard, *httptest.Server) {
	t.Helper()
	d, err := New(append([]Option{WithInterval(20 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(func() {
		_ = d.Close()
		srv.Close()
	})
	return d, srv
}

func TestSamplingOnlyWhileWatched(t *testing.T) {
	d, srv := newTestDashboard(t)
	if d.Sampling() || d.Samples() != 0 || runGoroutines() != 0 {
		t.Fatalf("New sampled before any page connected: sampling=%v samples=%d", d.Sampling(), d.Samples())
	}
	// Loading the page and its assets is not watching.
	for _, p := range []string{"/", "/app.js", "/uPlot.iife.min.js"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d.Sampling() {
		t.Fatal("loading the page (not its stream) started sampling")
	}

	a := openStream(t, srv.URL+"/events", nil)
	a.hello(t)
	a.sample(t)
	b := openStream(t, srv.URL+"/events", nil)
	b.hello(t)
	b.sample(t)
	if !d.Sampling() || d.Clients() != 2 {
		t.Fatalf("with two pages: sampling=%v clients=%d", d.Sampling(), d.Clients())
	}

	a.close()
	waitFor(t, "one client", func() bool { return d.Clients() == 1 })
	n := d.Samples()
	b.sample(t)
	b.sample(t)
	if !d.Sampling() || d.Samples() <= n {
		t.Fatalf("with one page left: sampling=%v, samples %d -> %d", d.Sampling(), n, d.Samples())
	}

	b.close()
	waitFor(t, "sampling to stop", func() bool { return !d.Sampling() && d.Clients() == 0 })
	if g := runGoroutines(); g != 0 {
		t.Fatalf("%d sampling goroutines left after the last page left", g)
	}
	stopped := d.Samples()
	time.Sleep(10 * d.cfg.interval)
	if got := d.Samples(); got != stopped {
		t.Fatalf("samples went on after the last page left: %d -> %d", stopped, got)
	}

	// A page that comes back starts sampling again, with a fresh history.
	c := openStream(t, srv.URL+"/events", nil)
	h := c.hello(t)
	var hist [][]*float64
	if err := json.Unmarshal(h.History, &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) > 2 {
		t.Errorf("history after a restart has %d samples; the old run's should be gone", len(hist))
	}
	c.sample(t)
	if !d.Sampling() || d.Samples() <= stopped {
		t.Fatalf("a new page did not restart sampling: sampling=%v samples=%d", d.Sampling(), d.Samples())
	}
	c.close()
	waitFor(t, "sampling to stop again", func() bool { return !d.Sampling() })
}

func TestEventContent(t *testing.T) {
	rep := Report{GoVersion: runtime.Version(), GOMAXPROCS: "2", GOMAXPROCSWhy: "cgroup v2: quota 2"}
	wd := Watchdog{Baseline: 7, Threshold: 12, Suspected: true}
	_, srv := newTestDashboard(t, WithReport(func() Report { return rep }), WithWatchdog(func() Watchdog { return wd }))

	s := openStream(t, srv.URL+"/debug/vitals/events", nil)
	h := s.hello(t)
	if h.Report == nil || h.Report.GoVersion != rep.GoVersion || h.Report.GOMAXPROCSWhy != rep.GOMAXPROCSWhy {
		t.Errorf("hello report = %+v, want %+v", h.Report, rep)
	}
	if strings.Join(h.Fields, ",") != strings.Join(fields, ",") || !h.Watchdog || h.IntervalMS != 20 {
		t.Errorf("hello = fields %v watchdog %v interval %d", h.Fields, h.Watchdog, h.IntervalMS)
	}
	var first []*float64
	// The first sample of a run has no rates; the next ones do.
	var row []*float64
	for i := 0; i < 3; i++ {
		row = s.sample(t)
		if first == nil {
			first = row
		}
	}
	get := func(r []*float64, f int) float64 {
		if r[f] == nil {
			return math.NaN()
		}
		return *r[f]
	}
	now := float64(time.Now().UnixMilli()) / 1000
	if ts := get(row, fT); math.Abs(ts-now) > 60 {
		t.Errorf("t = %v, want about %v", ts, now)
	}
	for _, f := range []int{fHeapLive, fHeapGoal, fGoroutines, fGOMAXPROCS, fCPUUsed, fGCCPU, fAllocBPS} {
		if v := get(row, f); !(v >= 0) {
			t.Errorf("%s = %v, want a number", fields[f], v)
		}
	}
	if get(row, fHeapLive) <= 0 || get(row, fGoroutines) < 1 || get(row, fGOMAXPROCS) != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("heap_live=%v goroutines=%v gomaxprocs=%v", get(row, fHeapLive), get(row, fGoroutines), get(row, fGOMAXPROCS))
	}
	if first[fAllocBPS] != nil || first[fCPUUsed] != nil {
		t.Errorf("the first sample of a run has rates: alloc=%v cpu=%v", get(first, fAllocBPS), get(first, fCPUUsed))
	}
	if get(row, fWDBaseline) != 7 || get(row, fWDThreshold) != 12 || get(row, fWDSuspected) != get(row, fGoroutines) {
		t.Errorf("watchdog fields = %v %v %v", get(row, fWDBaseline), get(row, fWDThreshold), get(row, fWDSuspected))
	}
	if v := get(row, fGCCPU); v < 0 || v > 1 {
		t.Errorf("gc_cpu = %v, want a fraction", v)
	}
}

func TestProviderPanics(t *testing.T) {
	_, srv := newTestDashboard(t,
		WithReport(func() Report { panic("report broke") }),
		WithWatchdog(func() Watchdog { panic("watchdog broke") }))
	s := openStream(t, srv.URL+"/events", nil)
	h := s.hello(t)
	if h.Report != nil || !strings.Contains(h.ReportErr, "report broke") {
		t.Errorf("hello with a panicking report = %+v, %q", h.Report, h.ReportErr)
	}
	row := s.sample(t)
	if row[fGoroutines] == nil || row[fWDBaseline] != nil {
		t.Errorf("a panicking watchdog should leave only its own fields out: goroutines=%v baseline=%v", row[fGoroutines], row[fWDBaseline])
	}
}

// The admin server's read and write timeouts must not cut a stream short.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	d, err := New(WithInterval(25 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(d)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	defer d.Close()
	s := openStream(t, srv.URL+"/events", nil)
	s.hello(t)
	start := time.Now()
	n := 0
	for time.Since(start) < 800*time.Millisecond {
		s.sample(t)
		n++
	}
	if n < 5 {
		t.Errorf("%d samples in %v", n, time.Since(start))
	}
}

func TestClose(t *testing.T) {
	d, srv := newTestDashboard(t)
	s := openStream(t, srv.URL+"/events", nil)
	s.hello(t)
	s.sample(t)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d.Sampling() {
		t.Error("sampling after Close")
	}
	for {
		if _, _, err := s.next(); err != nil {
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "closed") {
				t.Logf("stream ended with %v", err)
			}
			break
		}
	}
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("events after Close: %d, want 503", resp.StatusCode)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		err  string
	}{
		{"defaults", nil, ""},
		{"short interval", []Option{WithInterval(time.Millisecond)}, "below 10ms"},
		{"negative history", []Option{WithHistory(-1)}, "negative"},
		{"nil report", []Option{WithReport(nil)}, "nil report"},
		{"nil watchdog", []Option{WithWatchdog(nil)}, "nil watchdog"},
		{"nil incidents", []Option{WithIncidents(nil)}, "nil incidents"},
		{"nil logger", []Option{WithLogger(nil)}, "nil logger"},
		{"nil option", []Option{nil}, "nil option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.opts...)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				_ = d.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("New error = %v, want %q", err, tt.err)
			}
			rec := httptest.NewRecorder()
			Handler(tt.opts...).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("Handler with a bad option answers %d", rec.Code)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/debug/vitals/", 200, "text/html; charset=utf-8", `src="uPlot.iife.min.js"`},
		{"GET", "/debug/vitals/app.js", 200, "text/javascript; charset=utf-8", "vitalsPoints"},
		{"GET", "/debug/vitals/style.css", 200, "text/css; charset=utf-8", "grid-template-columns"},
		{"GET", "/debug/vitals/uPlot.iife.min.js", 200, "text/javascript; charset=utf-8", "uPlot"},
		{"GET", "/debug/vitals/uPlot.min.css", 200, "text/css; charset=utf-8", ".uplot"},
		{"GET", "/debug/vitals/uPlot.LICENSE", 200, "text/plain; charset=utf-8", "Leon Sorokin"},
		{"GET", "/debug/vitals/nope.js", 404, "", ""},
		{"POST", "/debug/vitals/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			d.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d", rec.Code, tt.code)
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
		})
	}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vitals/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("page CSP = %q", csp)
	}
	if strings.Contains(rec.Body.String(), "http://") || strings.Contains(rec.Body.String(), "https://") {
		t.Error("the page refers to another origin; it must work air-gapped")
	}
}

// Mounted on the admin server, every dashboard route needs the admin
// server's credentials.
func TestMountedBehindAdminAuth(t *testing.T) {
	d, err := New(WithInterval(20 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv, err := admin.New(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "s3cret"),
		admin.WithHandler("/debug/vitals/", d))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, r := range srv.Routes() {
		if r.Pattern == "/debug/vitals/" && !strings.HasPrefix(r.Summary, "live dashboard:") {
			t.Errorf("route table summary of the dashboard: %q", r.Summary)
		}
	}
	base := "http://" + srv.Addr()
	for _, p := range []string{"/debug/vitals/", "/debug/vitals/app.js", "/debug/vitals/events"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", p, resp.StatusCode)
		}
	}
	if d.Sampling() {
		t.Error("an unauthenticated request started sampling")
	}
	req, _ := http.NewRequest("GET", base+"/debug/vitals/", nil)
	req.SetBasicAuth("ops", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "app.js") {
		t.Fatalf("page with credentials: %d", resp.StatusCode)
	}
	hdr := http.Header{}
	hdr.Set("Authorization", req.Header.Get("Authorization"))
	s := openStream(t, base+"/debug/vitals/events", hdr)
	s.hello(t)
	s.sample(t)
	// The admin server's own routes under /debug/vitals/ keep precedence.
	req, _ = http.NewRequest("GET", base+"/debug/vitals/goroutines?format=json", nil)
	req.SetBasicAuth("ops", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("goroutines route: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestStreamLimits (issue 14 point 12): streams past the cap get 429 with
// Retry-After, a closed stream frees its place, and a client that connects
// and never reads is dropped when its stream's lifetime ends. Before, 4,000
// streams stayed open and so did clients that stopped reading.
func TestStreamLimits(t *testing.T) {
	d, srv := newTestDashboard(t, WithStreamLimits(2, 400*time.Millisecond))
	a := openStream(t, srv.URL+"/events", nil)
	a.hello(t)
	b := openStream(t, srv.URL+"/events", nil)
	b.hello(t)
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third stream: %d %q (Retry-After %q), want 429 with Retry-After", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	// Lifetime: both streams end by themselves.
	for _, s := range []*stream{a, b} {
		for {
			if _, _, err := s.next(); err != nil {
				break
			}
		}
	}
	waitFor(t, "streams to end at their lifetime", func() bool { return d.Clients() == 0 })

	// A raw client that sends its request and never reads is dropped too.
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the silent client to connect", func() bool { return d.Clients() == 1 })
	waitFor(t, "the silent client to be dropped", func() bool { return d.Clients() == 0 })
	if _, err := New(WithStreamLimits(0, time.Second)); err == nil {
		t.Error("WithStreamLimits(0, ...) accepted")
	}
}

// TestIncidentMarks: the hello carries the provider's incidents (oldest
// first, at most MaxIncidentMarks), a change reaches an open page as one
// message between samples, and a panicking provider costs nothing else.
func TestIncidentMarks(t *testing.T) {
	base := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var (
		mu   sync.Mutex
		list []Incident
	)
	for i := range MaxIncidentMarks + 5 { // newest first, more than the page marks
		list = append(list, Incident{Time: base.Add(-time.Duration(i) * time.Minute), Trigger: "memory", Reason: fmt.Sprint("#", i)})
	}
	_, srv := newTestDashboard(t, WithIncidents(func() []Incident {
		mu.Lock()
		defer mu.Unlock()
		return list
	}))
	s := openStream(t, srv.URL+"/events", nil)
	defer s.close()
	h := s.hello(t)
	if len(h.Incidents) != MaxIncidentMarks {
		t.Fatalf("hello has %d incidents, want %d", len(h.Incidents), MaxIncidentMarks)
	}
	if first, last := h.Incidents[0], h.Incidents[len(h.Incidents)-1]; last.Reason != "#0" || first.Reason != fmt.Sprint("#", MaxIncidentMarks-1) ||
		last.T != float64(base.Unix()) || last.Trigger != "memory" {
		t.Errorf("hello incidents run from %+v to %+v, want the latest %d oldest first", first, last, MaxIncidentMarks)
	}
	mu.Lock()
	list = append(list, Incident{Time: base.Add(time.Minute), Trigger: "goroutines", Reason: "spike"})
	mu.Unlock()
	for range 200 {
		ev, data, err := s.next()
		if err != nil || ev != "message" {
			t.Fatalf("event %q, %v", ev, err)
		}
		if !strings.HasPrefix(data, "{") {
			continue // a sample
		}
		var m incidentsMsg
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatal(err)
		}
		if n := len(m.Incidents); n == MaxIncidentMarks && m.Incidents[n-1].Trigger == "goroutines" {
			return
		}
	}
	t.Fatal("the new incident never reached the page")
}

func TestIncidentProviderPanics(t *testing.T) {
	_, srv := newTestDashboard(t, WithIncidents(func() []Incident { panic("incidents broke") }))
	s := openStream(t, srv.URL+"/events", nil)
	defer s.close()
	if h := s.hello(t); len(h.Incidents) != 0 {
		t.Errorf("hello incidents %+v from a panicking provider", h.Incidents)
	}
	if row := s.sample(t); row[fGoroutines] == nil {
		t.Error("a panicking incidents provider broke the samples")
	}
}
