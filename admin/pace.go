package admin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pacer spaces the answers of the profile class, shared ones included: at
// most rate a second on average and burst at once. A shared answer costs no
// write, but a flood of them is not free: at 8 clients asking back to back,
// the admin server sent about 375 heap profiles a second, each a request to
// parse, an answer to copy and a few KB of garbage in the application's
// heap. A request past the rate waits its turn (a reservation, in order,
// bounded by maxWait and its context); when maxWaiting already wait, or the
// turn is too far, it gets 429 with Retry-After. An operator's requests, one
// after another, never wait at the default.
type pacer struct {
	rate       float64 // answers a second
	burst      float64
	maxWait    time.Duration
	maxWaiting int

	mu      sync.Mutex
	tokens  float64 // at time at; negative when turns are reserved ahead
	at      time.Time
	waiting int

	paced, refused atomic.Int64 // read by tests and /debug/vitals
}

func newPacer(rate int, maxWaiting int) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{rate: float64(rate), burst: float64(rate), maxWait: 10 * time.Second, maxWaiting: maxWaiting,
		tokens: float64(rate), at: time.Now()}
}

// take waits for the request's turn. A nil pacer never waits.
func (p *pacer) take(ctx context.Context) *refusal {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	p.tokens = min(p.burst, p.tokens+now.Sub(p.at).Seconds()*p.rate)
	p.at = now
	if p.tokens >= 1 {
		p.tokens--
		p.mu.Unlock()
		return nil
	}
	wait := time.Duration((1 - p.tokens) / p.rate * float64(time.Second))
	if wait > p.maxWait || p.waiting >= p.maxWaiting {
		p.mu.Unlock()
		p.refused.Add(1)
		return &refusal{retryAfter: wait, msg: fmt.Sprintf("admin: more than %g profile answers a second; retry later", p.rate)}
	}
	p.tokens-- // reserve the turn
	p.waiting++
	p.mu.Unlock()
	p.paced.Add(1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		p.waiting--
		p.tokens++ // give the turn back
		p.mu.Unlock()
		return &refusal{retryAfter: wait, msg: "admin: request ended while waiting its turn"}
	}
}
