package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/tracecap"
)

// parked starts n goroutines blocked on a channel until the test ends.
func parked(t *testing.T, n int) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go func() {
			defer wg.Done()
			<-stop
		}()
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// TestLoadExpensiveOneAtATime sends 64 concurrent expensive requests, spread
// over every expensive endpoint, to a process with 10,000 extra goroutines.
// At most one expensive request of any kind ever runs (the shared slot's
// peak counter, and every kind's); besides the one admitted at once, at most
// the queue (4) wait their turn, requests for a goroutine dump being written
// share its answer, and the others get 429 with Retry-After.
func TestLoadExpensiveOneAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("10k goroutines and 64 requests")
	}
	parked(t, 10_000)
	rec := recorder(t, tracecap.WithMinInterval(0))
	s := started(t, WithFlightRecorder(rec))
	endpoints := []struct {
		path  string
		guard string
	}{
		{"/debug/pprof/profile?seconds=2", guardProfile},
		{"/debug/pprof/trace?seconds=2", guardTrace},
		{"/debug/vitals/trace?seconds=2", guardTrace},
		{"/debug/pprof/goroutine?debug=2&force=1", guardGoroutines},
		{"/debug/vitals/goroutines?force=1", guardGoroutines},
		{"/debug/pprof/heap?gc=1", guardHeapGC},
		{"/debug/vitals/flight", guardFlight},
		{"/debug/vitals/flight?reason=again", guardFlight},
	}
	if pprof.Lookup("goroutineleak") != nil {
		endpoints = append(endpoints, struct{ path, guard string }{"/debug/pprof/goroutineleak", guardLeak})
	}
	const total = 64
	type result struct {
		ep         int
		code       int
		retryAfter string
		shared     bool // the answer of another request's write (Age)
		err        error
	}
	results := make(chan result, total)
	begin := make(chan struct{})
	client := &http.Client{Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	for i := range total {
		ep := i % len(endpoints)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			resp, err := client.Get("http://" + s.Addr() + endpoints[ep].path)
			if err != nil {
				results <- result{ep: ep, err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results <- result{ep, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Age") != "", nil}
		}()
	}
	start := time.Now()
	close(begin)
	wg.Wait()
	close(results)
	elapsed := time.Since(start)

	okByGuard := map[string]int{}
	refused, shared := 0, 0
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", endpoints[r.ep].path, r.err)
			continue
		}
		switch {
		case r.code == http.StatusOK && r.shared:
			// Requests for the same dump share one write: they cost
			// nothing and are not refused.
			shared++
			if endpoints[r.ep].guard != guardGoroutines {
				t.Errorf("%s: a shared answer; only goroutine dumps are shared", endpoints[r.ep].path)
			}
		case r.code == http.StatusOK:
			okByGuard[endpoints[r.ep].guard]++
		case r.code == http.StatusTooManyRequests:
			refused++
			if n, err := strconv.Atoi(r.retryAfter); err != nil || n < 1 {
				t.Errorf("%s: 429 with Retry-After %q", endpoints[r.ep].path, r.retryAfter)
			}
		default:
			t.Errorf("%s: status %d, want 200 or 429", endpoints[r.ep].path, r.code)
		}
	}
	for name, g := range s.guards {
		if p := g.peak.Load(); p > 1 {
			t.Errorf("guard %q: %d requests ran at once", name, p)
		}
	}
	if p := s.guards[guardProfile].slot.peak.Load(); p != 1 {
		t.Errorf("expensive requests of all kinds: peak %d running at once, want 1", p)
	}
	admitted := 0
	for _, n := range okByGuard {
		admitted += n
	}
	if admitted < 1 {
		t.Error("no expensive request admitted")
	}
	if admitted > 1+4 {
		t.Errorf("%d admitted, want at most 1 + a queue of 4", admitted)
	}
	if admitted+refused+shared != total {
		t.Errorf("admitted %d + refused %d + shared %d != %d requests", admitted, refused, shared, total)
	}
	t.Logf("%d requests in %v: admitted %v, %d shared a dump, %d refused with 429", total, elapsed, okByGuard, shared, refused)
	if refused < total-1-4-shared {
		t.Errorf("only %d of %d refused", refused, total)
	}
}

// TestClientGoneStopsWork cancels a 30 s CPU profile request after 100 ms and
// expects the guard to be free again long before 30 s.
func TestClientGoneStopsWork(t *testing.T) {
	s := started(t, WithExpensiveInterval(0))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addr()+"/debug/pprof/profile?seconds=30", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return s.guards[guardProfile].active.Load() == 1 })
	cancel()
	<-done
	waitFor(t, func() bool { return s.guards[guardProfile].active.Load() == 0 })
	if resp, _ := get(t, s, "GET", "/debug/pprof/profile?seconds=0.1", noCred); resp.StatusCode != 200 {
		t.Errorf("after the client left: %d, want 200", resp.StatusCode)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestShutdownEndsRunningProfile(t *testing.T) {
	s, err := New(WithAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/debug/pprof/profile?seconds=30")
		if err != nil {
			got <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	waitFor(t, func() bool { return s.guards[guardProfile].active.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 9*time.Second {
		t.Errorf("shutdown waited %v for a 30 s profile", d)
	}
	if code := <-got; code != 200 {
		t.Errorf("profile cut short by shutdown: status %d, want 200 with what was sampled", code)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Shutdown succeeded")
	}
}

func TestBindErrorReported(t *testing.T) {
	a := started(t)
	b, err := New(WithAddr(a.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start()
	if err == nil {
		b.Close()
		t.Fatal("second server on the same port started")
	}
	if !contains([]byte(err.Error()), a.Addr()) {
		t.Errorf("error %q does not name the address", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close of a server that never started: %v", err)
	}
	if resp, _ := get(t, a, "GET", "/healthz", noCred); resp.StatusCode != 200 {
		t.Errorf("first server hurt: %d", resp.StatusCode)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := started(t)
	for i := range 3 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := http.Get(fmt.Sprintf("http://%s/healthz", s.Addr())); err == nil {
		t.Error("server still answers after Close")
	}
}

// TestExpensiveKindsExcludeEachOther holds a CPU profile open and expects
// every other expensive kind to get 429 naming the shared limit, and a cheap
// route to answer meanwhile.
func TestExpensiveKindsExcludeEachOther(t *testing.T) {
	parked(t, 2*cheapDump) // so that full dumps are expensive
	s := started(t, WithGoroutineBudget(1_000_000), WithExpensiveInterval(0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addr()+"/debug/pprof/profile?seconds=20", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitFor(t, func() bool { return s.guards[guardProfile].active.Load() == 1 })
	for _, path := range []string{
		"/debug/pprof/trace?seconds=1",
		"/debug/pprof/heap?gc=1",
		"/debug/pprof/goroutine?debug=2",
		"/debug/vitals/goroutines",
		"/debug/pprof/allocs?seconds=1",
	} {
		resp, body := get(t, s, "GET", path, noCred)
		if resp.StatusCode != http.StatusTooManyRequests || !contains(body, "another expensive request") {
			t.Errorf("%s during a CPU profile: %d %q, want 429 naming the shared limit", path, resp.StatusCode, body)
		}
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 10 {
			t.Errorf("%s: Retry-After %q, want the profile's remaining ~20 s", path, resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := get(t, s, "GET", "/healthz", noCred); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz during a CPU profile: %d", resp.StatusCode)
	}
	if n := s.guards[guardProfile].refused.Load(); n != 0 {
		t.Errorf("profile guard counted %d refusals of other kinds", n)
	}
	cancel()
	<-done
	waitFor(t, func() bool { return s.guards[guardProfile].slot.active.Load() == 0 })
	if resp, _ := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred); resp.StatusCode != http.StatusOK {
		t.Errorf("heap?gc=1 after the profile ended: %d, want 200", resp.StatusCode)
	}
}

// TestExpensiveInterval: by default a second expensive request right after a
// short one (a heap profile after a fresh GC cycle) waits until the interval
// (2 s) has passed since the first ended, then runs (issue 17: back-to-back requests
// are never refused); with no wait allowed it gets 429 as before;
// WithExpensiveInterval(0) admits it at once.
func TestExpensiveInterval(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		want     int
		minDelay time.Duration
	}{
		{"default waits", nil, http.StatusOK, DefaultExpensiveInterval * 3 / 4},
		{"no wait", []Option{WithExpensiveWait(0, 0)}, http.StatusTooManyRequests, 0},
		{"zero interval", []Option{WithExpensiveInterval(0)}, http.StatusOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := started(t, append(tt.opts, withGCFresh(time.Hour))...) // no forced GC: both requests are short
			if resp, _ := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred); resp.StatusCode != http.StatusOK {
				t.Fatalf("first: %d", resp.StatusCode)
			}
			start := time.Now()
			resp, body := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred)
			if resp.StatusCode != tt.want {
				t.Errorf("second: %d %q, want %d", resp.StatusCode, body, tt.want)
			}
			if d := time.Since(start); d < tt.minDelay {
				t.Errorf("second answered after %v, want the rest of the interval (>= %v)", d, tt.minDelay)
			}
			if want := strconv.Itoa(wholeSeconds(DefaultExpensiveInterval)); tt.want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != want {
				t.Errorf("second: Retry-After %q, want %s", resp.Header.Get("Retry-After"), want)
			}
		})
	}
	if _, err := New(WithExpensiveInterval(-time.Second)); err == nil {
		t.Error("negative expensive interval accepted")
	}
}
