package admin

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestPacerTurns(t *testing.T) {
	p := newPacer(50, 2)
	for i := range 50 {
		if ref := p.take(context.Background()); ref != nil {
			t.Fatalf("take %d within the burst refused: %s", i, ref.msg)
		}
	}
	// The next two wait their turns (20 ms, 40 ms); a third finds two
	// waiting and is refused.
	var wg sync.WaitGroup
	waited := make([]time.Duration, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if ref := p.take(context.Background()); ref != nil {
				t.Errorf("waiting take refused: %s", ref.msg)
			}
			waited[i] = time.Since(t0)
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		n := p.waiting
		p.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the two takes never waited together")
		}
		time.Sleep(time.Millisecond)
	}
	ref := p.take(context.Background())
	if ref == nil || ref.retryAfter <= 0 {
		t.Errorf("a third take with two waiting: %+v, want refused with Retry-After", ref)
	}
	wg.Wait()
	for i, w := range waited {
		if w < 10*time.Millisecond {
			t.Errorf("take %d waited %v, want its turn (>= 10 ms)", i, w)
		}
	}
	if p.paced.Load() != 2 || p.refused.Load() != 1 {
		t.Errorf("paced %d refused %d, want 2 and 1", p.paced.Load(), p.refused.Load())
	}
}

// TestPacerCancelGivesTurnBack: a request that leaves while waiting frees
// its turn for the next.
func TestPacerCancelGivesTurnBack(t *testing.T) {
	p := newPacer(1, 4) // one token, then a turn a second
	if p.take(context.Background()) != nil {
		t.Fatal("first take refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *refusal)
	go func() { done <- p.take(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if ref := <-done; ref == nil {
		t.Fatal("a cancelled take succeeded")
	}
	p.mu.Lock()
	tokens, waiting := p.tokens, p.waiting
	p.mu.Unlock()
	if waiting != 0 || tokens < -0.1 {
		t.Errorf("after cancel: %d waiting, %.2f tokens; the turn was not given back", waiting, tokens)
	}
	if newPacer(0, 4) != nil || (*pacer)(nil).take(context.Background()) != nil {
		t.Error("a zero rate does not pace")
	}
}

// TestProfileAnswersPaced: a flood of one shared profile is paced (some
// wait, the overflow gets 429), while an operator's requests one after
// another at the default pace never wait or fail.
func TestProfileAnswersPaced(t *testing.T) {
	s := started(t, WithProfileAnswers(5))
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := get(t, s, "GET", "/debug/pprof/heap", noCred)
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}()
	}
	wg.Wait()
	if codes[200]+codes[429] != 20 || codes[429] == 0 || codes[200] < 5 || s.answers.paced.Load() == 0 {
		t.Errorf("codes %v, paced %d: want 200s, some paced, the overflow refused", codes, s.answers.paced.Load())
	}

	op := started(t)
	t0 := time.Now()
	for i, p := range []string{"/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/goroutine?debug=1", "/debug/pprof/block",
		"/debug/pprof/mutex", "/debug/pprof/heap", "/debug/pprof/threadcreate", "/debug/vitals/goroutines"} {
		if resp, body := get(t, op, "GET", p, noCred); resp.StatusCode != 200 {
			t.Fatalf("operator request %d %s: %d %.200q", i, p, resp.StatusCode, body)
		}
	}
	t.Logf("operator round: %v", time.Since(t0))
	if op.answers.paced.Load() != 0 {
		t.Errorf("an operator's 8 requests in %v were paced", time.Since(t0))
	}
}

// TestSlotRestsAfterEnd: the expensive slot rests for its gap after a
// request ends, so back-to-back one-second profiles keep the process
// profiled at most half the time; a waiting request is admitted after the
// rest, not refused.
func TestSlotRestsAfterEnd(t *testing.T) {
	const gap = 150 * time.Millisecond
	g := &guard{name: "test", slot: newSlot(gap, 5*time.Second, 4)}
	release, ref := g.acquire(context.Background(), 300*time.Millisecond)
	if ref != nil {
		t.Fatal(ref.msg)
	}
	time.Sleep(300 * time.Millisecond) // longer than the gap
	release()
	ended := time.Now()
	release, ref = g.acquire(context.Background(), time.Millisecond)
	if ref != nil {
		t.Fatalf("second request refused: %s", ref.msg)
	}
	release()
	if rest := time.Since(ended); rest < gap-10*time.Millisecond {
		t.Errorf("second request started %v after the first ended, want >= the gap %v", rest, gap)
	}
}
