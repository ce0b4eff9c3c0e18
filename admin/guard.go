package admin

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// guard lets one expensive request of a kind run at a time, and with a gap
// starts them at least gap apart; the others get 429 Too Many Requests with
// a Retry-After estimate. A guard with an outer guard also needs the outer
// one free: the server's kinds share one outer guard, so at most one
// expensive request of any kind runs at once.
type guard struct {
	name string
	// outer, when set, must be free too; it is taken after this guard
	// and released after it.
	outer *guard
	mu    sync.Mutex // held while a request runs
	// gap is the shortest time between two admissions (0: none); lastStart
	// is the latest admission (UnixNano).
	gap       time.Duration
	lastStart atomic.Int64
	// until is the estimated end of the running request, or with a gap the
	// earliest next admission if that is later (UnixNano).
	until atomic.Int64
	// active and peak count running requests; peak is read by tests to
	// prove that at most one ever ran.
	active, peak atomic.Int32
	refused      atomic.Int64
}

// try admits the request if none of its kind (and, with an outer guard,
// none of any kind) runs, expecting it to take about d. It returns nil when
// admitted, and the caller must then call release; otherwise it returns the
// guard that refused, whose busy method writes the answer.
func (g *guard) try(d time.Duration) *guard {
	if !g.mu.TryLock() {
		g.refused.Add(1)
		return g
	}
	now := time.Now()
	if g.gap > 0 && now.Before(time.Unix(0, g.lastStart.Load()).Add(g.gap)) {
		g.mu.Unlock()
		g.refused.Add(1)
		return g
	}
	if g.outer != nil {
		if by := g.outer.try(d); by != nil {
			g.mu.Unlock()
			g.refused.Add(1)
			return by
		}
	}
	g.lastStart.Store(now.UnixNano())
	g.until.Store(now.Add(max(d, g.gap)).UnixNano())
	n := g.active.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

func (g *guard) release() {
	g.active.Add(-1)
	g.mu.Unlock()
	if g.outer != nil {
		g.outer.release()
	}
}

// retryAfter is the whole seconds until the running request should end, at
// least 1.
func (g *guard) retryAfter() int {
	d := time.Until(time.Unix(0, g.until.Load()))
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// busy writes the 429 answer.
func (g *guard) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(g.retryAfter()))
	httpError(w, http.StatusTooManyRequests, "admin: another "+g.name+" request is running; retry later")
}
