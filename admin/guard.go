package admin

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// guard lets one expensive request of a kind run at a time; the others get
// 429 Too Many Requests with a Retry-After estimate.
type guard struct {
	name string
	mu   sync.Mutex // held while a request runs
	// until is the estimated end of the running request (UnixNano).
	until atomic.Int64
	// active and peak count running requests; peak is read by tests to
	// prove that at most one ever ran.
	active, peak atomic.Int32
	refused      atomic.Int64
}

// try admits the request if none of its kind runs, expecting it to take
// about d. The caller must call release after a true result.
func (g *guard) try(d time.Duration) bool {
	if !g.mu.TryLock() {
		g.refused.Add(1)
		return false
	}
	g.until.Store(time.Now().Add(d).UnixNano())
	n := g.active.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return true
}

func (g *guard) release() {
	g.active.Add(-1)
	g.mu.Unlock()
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
