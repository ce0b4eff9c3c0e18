package admin

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProfileReuse (issue 17 points 4 and 5): requests for the same
// profile while it is written, or soon after, share one write and say how
// old the answer is; another profile or debug level is another write; with
// reuse off every request writes.
func TestProfileReuse(t *testing.T) {
	parked(t, 5000) // a goroutine profile that takes a few ms to write
	s := started(t)
	const clients = 8
	first := sameAnswers(t, s, "/debug/pprof/goroutine?debug=1", clients, "text/plain")
	if w := s.writes.writes.Load(); w != 1 {
		t.Errorf("%d concurrent requests for one profile made %d writes, want 1", clients, w)
	}

	// Right after: the same answer, with its age.
	resp, body := get(t, s, "GET", "/debug/pprof/goroutine?debug=1", noCred)
	if string(body) != first {
		t.Error("a request right after got a new answer")
	}
	if resp.Header.Get("Age") == "" || resp.Header.Get("X-Vitals-Written") == "" {
		t.Errorf("reused answer without Age/X-Vitals-Written: %v", resp.Header)
	}
	if _, err := time.Parse(time.RFC3339Nano, resp.Header.Get("X-Vitals-Written")); err != nil {
		t.Errorf("X-Vitals-Written: %v", err)
	}
	// debug=2 on a heap profile is the same answer as debug=1; debug=0 is
	// another, and so is another profile.
	get(t, s, "GET", "/debug/pprof/heap?debug=1", noCred)
	get(t, s, "GET", "/debug/pprof/heap?debug=2", noCred)
	get(t, s, "GET", "/debug/pprof/heap", noCred)
	if w := s.writes.writes.Load(); w != 3 {
		t.Errorf("after heap debug=1, 2 and 0: %d writes, want 3", w)
	}
	if h := s.reuse.hits.Load(); h != clients-1+1+1 {
		t.Errorf("%d reused answers, want %d", h, clients+1)
	}

	// Reuse off: every request writes.
	off := started(t, WithProfileReuse(0))
	for range 3 {
		resp, _ := get(t, off, "GET", "/debug/pprof/heap?debug=1", noCred)
		if resp.Header.Get("Age") != "" {
			t.Error("Age with reuse off")
		}
	}
	if w := off.writes.writes.Load(); w != 3 {
		t.Errorf("reuse off: 3 requests made %d writes", w)
	}
}

// TestProfileReuseExpires: an answer is reused no longer than the budget
// takes to earn it back, and never longer than WithProfileReuse allows.
func TestProfileReuseExpires(t *testing.T) {
	const reuse = 50 * time.Millisecond
	var s *Server
	// Two requests back to back share one write, unless the second could
	// not be sent within the reuse time (a loaded machine under -race):
	// then the run says nothing, and another is tried.
	for attempt := 1; ; attempt++ {
		s = started(t, WithProfileReuse(reuse))
		t0 := time.Now()
		get(t, s, "GET", "/debug/pprof/heap?debug=1", noCred)
		get(t, s, "GET", "/debug/pprof/heap?debug=1", noCred)
		took := time.Since(t0)
		w := s.writes.writes.Load()
		if w == 1 {
			break
		}
		if took < reuse || attempt == 5 {
			t.Fatalf("two requests %v apart (attempt %d): %d writes, want 1", took, attempt, w)
		}
	}
	time.Sleep(200 * time.Millisecond)
	resp, _ := get(t, s, "GET", "/debug/pprof/heap?debug=1", noCred)
	if w := s.writes.writes.Load(); w != 2 || resp.Header.Get("Age") != "" {
		t.Errorf("after the reuse time: %d writes (want 2), Age %q", w, resp.Header.Get("Age"))
	}
	s.reuse.mu.Lock()
	n := len(s.reuse.entries)
	s.reuse.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	s.reuse.mu.Lock()
	m := len(s.reuse.entries)
	s.reuse.mu.Unlock()
	if n != 1 || m != 0 {
		t.Errorf("entries held: %d fresh, %d after expiry; want 1, 0 (expired answers are let go)", n, m)
	}
}

// TestReuseWaiterLeaves: a request waiting for another's write stops
// waiting when it ends; the write goes on for those who stay.
func TestReuseWaiterLeaves(t *testing.T) {
	c := newReuse(time.Minute)
	release := make(chan struct{})
	started := make(chan struct{})
	go c.do(context.Background(), "k", func() ([]byte, time.Duration, *refusal, error) {
		close(started)
		<-release
		return []byte("answer"), time.Minute, nil, nil
	})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if got := c.do(ctx, "k", nil); got.err == nil {
		t.Error("a waiter whose request ended got no error")
	}
	close(release)
	got := c.do(context.Background(), "k", nil)
	if string(got.body) != "answer" || got.leader {
		t.Errorf("after the write: %q leader=%v", got.body, got.leader)
	}
}

// TestReuseWritePanics: waiters of a write that panics get an error, not a
// hang, and the next request writes anew.
func TestReuseWritePanics(t *testing.T) {
	c := newReuse(time.Minute)
	in := make(chan struct{})
	out := make(chan *written)
	go func() {
		defer func() { _ = recover() }()
		c.do(context.Background(), "k", func() ([]byte, time.Duration, *refusal, error) {
			close(in)
			go func() { out <- c.do(context.Background(), "k", nil) }()
			time.Sleep(20 * time.Millisecond) // let the waiter wait
			panic("boom")
		})
	}()
	<-in
	if w := <-out; w.err == nil {
		t.Error("the waiter of a panicking write got no error")
	}
	got := c.do(context.Background(), "k", func() ([]byte, time.Duration, *refusal, error) {
		return []byte("fresh"), time.Minute, nil, nil
	})
	if string(got.body) != "fresh" {
		t.Errorf("after a panicked write: %q, want a new write", got.body)
	}
}

// TestBudgetChargesAllocation: a write's allocations are charged, so after
// a write that allocated far more than the allocation budget saves up, the
// next one waits for it to be earned back, however little CPU it took.
func TestBudgetChargesAllocation(t *testing.T) {
	b := newBudget("test", time.Hour, 4) // CPU never binds
	tk, ref := b.admit(context.Background())
	if ref != nil {
		t.Fatal(ref.msg)
	}
	saved := int(allocSaved(allocRate()))
	big := saved * 2
	var keep []byte
	c := tk.run(func() { keep = make([]byte, big) })
	tk.done()
	runtime.KeepAlive(keep)
	if c.bytes < uint64(big) {
		t.Errorf("charged %d bytes for a %d-byte allocation", c.bytes, big)
	}
	b.mu.Lock()
	b.refill(time.Now())
	wait := b.payback()
	b.mu.Unlock()
	if want := time.Duration(float64(big-saved) / allocRate() * float64(time.Second)); wait < want/2 {
		t.Errorf("payback %v after overdrawing the allocation budget, want about %v", wait, want)
	}
	if got, want := b.reuseFor(c), time.Duration(float64(saved)/allocRate()*float64(time.Second)); got < want {
		t.Errorf("an answer that cost %d bytes is reused for %v, want at least %v", c.bytes, got, want)
	}
	// The next request is refused when the wait passes its bound.
	b.maxWait = time.Millisecond
	if _, ref := b.admit(context.Background()); ref == nil {
		t.Error("admitted while the allocation budget is overdrawn past maxWait")
	}
}

// TestReuseKeepsNoLargeAnswer: an answer over maxKept goes to those who
// waited for it and is not held after.
func TestReuseKeepsNoLargeAnswer(t *testing.T) {
	c := newReuse(time.Minute)
	writes := 0
	big := func() ([]byte, time.Duration, *refusal, error) {
		writes++
		return make([]byte, maxKept+1), time.Minute, nil, nil
	}
	c.do(context.Background(), "k", big)
	c.do(context.Background(), "k", big)
	if writes != 2 {
		t.Errorf("an answer over %d bytes was kept: %d writes for two requests", maxKept, writes)
	}
}

// The grouped page is shared whole: requests for the same format get the
// same grouped answer without grouping the dump again; another format is
// another answer.
func TestGroupedPageShared(t *testing.T) {
	parked(t, 5000) // a page that takes a few ms to write
	s := started(t)
	const clients = 4
	first := sameAnswers(t, s, "/debug/vitals/goroutines?format=json", clients, "application/json")
	if !strings.Contains(first, `"count"`) {
		t.Errorf("not a grouped page: %.300s", first)
	}
	if h := s.reuse.hits.Load(); h != clients-1 {
		t.Errorf("%d concurrent page requests: %d shared answers, want %d", clients, h, clients-1)
	}
	resp, body := get(t, s, "GET", "/debug/vitals/goroutines", noCred)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || strings.HasPrefix(string(body), "[") || string(body) == first {
		t.Errorf("text page after json: %s %.100s", resp.Header.Get("Content-Type"), body)
	}
	if h := s.reuse.hits.Load(); h != clients-1 {
		t.Errorf("the text page was shared with the json page (%d shared answers)", h)
	}
}

// sameAnswers sends n concurrent GETs of path, each expecting 200 and a
// Content-Type starting with wantType, and returns the answer; answers
// that differ fail t (they were not one shared write).
func sameAnswers(t *testing.T, s *Server, path string, n int, wantType string) string {
	t.Helper()
	var wg sync.WaitGroup
	bodies := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := get(t, s, "GET", path, noCred)
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, wantType) {
				t.Errorf("%s: status %d, %s: %.200s", path, resp.StatusCode, ct, body)
			}
			bodies <- string(body)
		}()
	}
	wg.Wait()
	close(bodies)
	first := ""
	for b := range bodies {
		if first == "" {
			first = b
		} else if b != first {
			t.Errorf("%d concurrent requests for %s got different answers: not one shared write", n, path)
		}
	}
	return first
}
