package admin

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// slot is the expensive slot: one expensive request of any kind runs at a
// time, two start at least gap apart, and the slot rests for gap after each
// one ends (so a flood of one-second profiles and traces keeps the process
// profiled or traced at most half the time, not all of it). A request that finds the slot
// taken waits its turn, at most maxWait and with at most maxQueue others,
// and stops waiting when its request ends; only past those bounds, or when
// the running request is expected to outlast maxWait, is it refused with
// 429 and Retry-After. An operator's back-to-back requests therefore wait a
// moment instead of failing, and a flood is still refused.
type slot struct {
	gap      time.Duration
	maxWait  time.Duration
	maxQueue int

	mu        sync.Mutex
	busy      bool
	lastStart time.Time
	lastEnd   time.Time
	until     time.Time     // expected end of the running request
	waiting   int           // requests waiting for the slot
	wake      chan struct{} // closed and replaced at every release

	active, peak atomic.Int32 // running requests; peak is read by tests
	refused      atomic.Int64
	waited       atomic.Int64 // admitted after waiting
}

// guard is one expensive kind: its own counters over the shared slot, so
// logs and tests can tell the kinds apart.
type guard struct {
	name         string
	slot         *slot
	active, peak atomic.Int32
	refused      atomic.Int64
}

// refusal is why a request was not admitted; busy writes it.
type refusal struct {
	retryAfter time.Duration
	msg        string
}

func newSlot(gap, maxWait time.Duration, maxQueue int) *slot {
	return &slot{gap: gap, maxWait: maxWait, maxQueue: maxQueue, wake: make(chan struct{})}
}

// acquire admits a request of kind g expected to run about d, waiting for
// the slot within the slot's bounds. It returns a release function, or a
// refusal (429) when the wait would be too long, too many wait already, or
// ctx ended first.
func (g *guard) acquire(ctx context.Context, d time.Duration) (release func(), ref *refusal) {
	s := g.slot
	deadline := time.Now().Add(s.maxWait)
	queued := false
	s.mu.Lock()
	for {
		now := time.Now()
		next := s.lastStart.Add(s.gap)
		if e := s.lastEnd.Add(s.gap); e.After(next) {
			next = e
		}
		// A newcomer does not overtake requests already waiting.
		if !s.busy && !now.Before(next) && (queued || s.waiting == 0) {
			s.busy = true
			s.lastStart = now
			s.until = now.Add(max(d, s.gap))
			if queued {
				s.waiting--
				s.waited.Add(1)
			}
			s.mu.Unlock()
			bumpPeak(&s.active, &s.peak)
			bumpPeak(&g.active, &g.peak)
			return func() { g.release() }, nil
		}
		// The expected wait: the running request's expected end and the
		// rest after it, or what is left of the gap, plus a gap for each
		// request ahead.
		wait := max(next.Sub(now), 0)
		if s.busy {
			wait = max(s.until.Sub(now), 0) + s.gap
		}
		ahead := s.waiting
		if queued {
			ahead--
		}
		wait += time.Duration(ahead) * max(s.gap, 10*time.Millisecond)
		full := !queued && s.waiting >= s.maxQueue
		if full || now.Add(wait).After(deadline) || ctx.Err() != nil {
			if queued {
				s.waiting--
				s.broadcast() // those behind may go now
			}
			s.mu.Unlock()
			s.refused.Add(1)
			g.refused.Add(1)
			return nil, &refusal{retryAfter: wait, msg: "admin: another expensive request is running; retry later"}
		}
		if !queued {
			queued = true
			s.waiting++
		}
		// Sleep until the slot is released, the gap has passed, the wait
		// bound is reached or the request ends; then look again.
		sleep := deadline.Sub(now)
		if !s.busy && now.Before(next) {
			sleep = min(next.Sub(now), sleep)
		}
		wake := s.wake
		s.mu.Unlock()
		t := time.NewTimer(max(sleep, time.Millisecond))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		s.mu.Lock()
	}
}

func (g *guard) release() {
	g.active.Add(-1)
	s := g.slot
	s.active.Add(-1)
	s.mu.Lock()
	s.busy = false
	s.lastEnd = time.Now()
	s.broadcast()
	s.mu.Unlock()
}

// broadcast wakes every waiting request to look again. s.mu is held.
func (s *slot) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func bumpPeak(active, peak *atomic.Int32) {
	n := active.Add(1)
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// wholeSeconds rounds d up to whole seconds, at least 1, for Retry-After.
func wholeSeconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// busy writes the 429 answer.
func (r *refusal) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(wholeSeconds(r.retryAfter)))
	httpError(w, http.StatusTooManyRequests, r.msg)
}
