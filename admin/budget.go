package admin

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// budget meters one class of cheap-but-not-free work (writing a profile,
// symbolizing, gathering metrics) as a whole, whatever route asks for it:
// one write runs at a time, and the writes together may take at most
// perSecond of every second on average, with a burst of up to burst. A
// write runs when the balance is not negative; its CPU time is then
// charged, so the next one waits until the balance has been paid back. Requests inside the class
// (waiting, writing or sending their buffered answer) are capped at
// maxInflight; past that, or when the wait would pass maxWait, a request
// gets 429 with Retry-After. Waiting stops when the request ends.
//
// The cost charged is the CPU time of the writing thread (on Linux; the
// wall time elsewhere), so a loaded machine, where a write waits for a core,
// does not make the budget stricter than it says; but at least a tenth of
// perSecond (10 ms at the default), because a write's buffers cost the
// process garbage collection later, on other threads, which the thread's
// clock does not see. A flood of tiny writes is so held to ten a second.
type budget struct {
	name        string
	perSecond   time.Duration
	burst       time.Duration
	maxWait     time.Duration
	maxInflight int32

	inflight atomic.Int32

	mu      sync.Mutex
	busy    bool
	waiting int           // requests waiting for the writer
	balance time.Duration // at time at
	at      time.Time
	wake    chan struct{}

	// Counters, read by tests and /debug/vitals.
	writing, peak atomic.Int32
	refused       atomic.Int64
	spent         atomic.Int64 // nanoseconds charged in total
	maxCost       atomic.Int64 // the largest single charge, in nanoseconds
	writes        atomic.Int64
}

func newBudget(name string, perSecond time.Duration, maxInflight int) *budget {
	return &budget{
		name:        name,
		perSecond:   perSecond,
		burst:       2 * perSecond,
		maxWait:     10 * time.Second,
		maxInflight: int32(maxInflight),
		balance:     2 * perSecond,
		at:          time.Now(),
		wake:        make(chan struct{}),
	}
}

// refill brings the balance up to now. b.mu is held.
func (b *budget) refill(now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.balance = min(b.burst, b.balance+time.Duration(float64(el)*float64(b.perSecond)/float64(time.Second)))
	}
	b.at = now
}

// ticket is one admitted request of the class: run does the metered work
// once, done leaves the class (after the answer is sent).
type ticket struct {
	b   *budget
	ran bool
}

// admit enters the class and waits for the writer. On refusal the caller
// answers 429 with the refusal.
func (b *budget) admit(ctx context.Context) (*ticket, *refusal) {
	if b.inflight.Add(1) > b.maxInflight {
		b.inflight.Add(-1)
		b.refused.Add(1)
		return nil, &refusal{retryAfter: time.Second, msg: "admin: too many " + b.name + " requests at once; retry later"}
	}
	deadline := time.Now().Add(b.maxWait)
	queued := false
	b.mu.Lock()
	for {
		now := time.Now()
		b.refill(now)
		// A newcomer does not overtake requests already waiting.
		if !b.busy && b.balance >= 0 && (queued || b.waiting == 0) {
			b.busy = true
			if queued {
				b.waiting--
			}
			b.mu.Unlock()
			bumpPeak(&b.writing, &b.peak)
			return &ticket{b: b}, nil
		}
		// Paying back the debt takes -balance/rate; a running write is
		// expected to end within the burst.
		wait := time.Duration(float64(-b.balance) * float64(time.Second) / float64(b.perSecond))
		if b.busy {
			wait = max(wait, 0) + b.burst
		}
		if now.Add(wait).After(deadline) || ctx.Err() != nil {
			if queued {
				b.waiting--
				b.broadcast() // those behind may go now
			}
			b.mu.Unlock()
			b.inflight.Add(-1)
			b.refused.Add(1)
			return nil, &refusal{retryAfter: wait, msg: "admin: the " + b.name + " budget is spent for now; retry later"}
		}
		if !queued {
			queued = true
			b.waiting++
		}
		sleep := deadline.Sub(now)
		if !b.busy && wait > 0 {
			sleep = min(sleep, wait)
		}
		wake := b.wake
		b.mu.Unlock()
		t := time.NewTimer(max(sleep, time.Millisecond))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		b.mu.Lock()
	}
}

// run does the metered work and charges its CPU time to the class.
func (t *ticket) run(f func()) {
	if t.ran {
		f()
		return
	}
	t.ran = true
	cost := t.b.perSecond / 10 // charged even if f panics
	defer func() { t.b.release(cost) }()
	cost = max(measure(f), cost)
}

// done leaves the class. Safe to defer right after admit.
func (t *ticket) done() {
	if !t.ran {
		t.ran = true
		t.b.release(0)
	}
	t.b.inflight.Add(-1)
}

func (b *budget) release(cost time.Duration) {
	b.writing.Add(-1)
	b.spent.Add(int64(cost))
	b.writes.Add(1)
	for m := b.maxCost.Load(); int64(cost) > m && !b.maxCost.CompareAndSwap(m, int64(cost)); m = b.maxCost.Load() {
	}
	b.mu.Lock()
	b.refill(time.Now())
	b.balance -= cost
	b.busy = false
	b.broadcast()
	b.mu.Unlock()
}

// broadcast wakes every waiting request to look again. b.mu is held.
func (b *budget) broadcast() {
	close(b.wake)
	b.wake = make(chan struct{})
}
