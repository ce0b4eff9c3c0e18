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
// perSecond of CPU of every second on average, with a burst of up to burst,
// and allocate at most a hundredth of the heap goal per second (at least
// 256 KiB), saving up five seconds of that but at least 16 MiB. A write
// runs when neither balance is negative; its cost is then charged, so the
// next one waits until both are paid back. Requests inside the class (waiting, writing or
// sending their buffered answer) are capped at maxInflight; past that, or
// when the wait would pass maxWait, a request gets 429 with Retry-After.
// Waiting stops when the request ends.
//
// Two costs, because a write hurts the application two ways. Its CPU time
// is charged as the writing thread's clock reads it (on Linux; the wall time
// elsewhere), so a loaded machine, where a write waits for a core, does not
// make the budget stricter than it says; but at least a tenth of perSecond
// (10 ms at the default), so a flood of tiny writes is held to ten a
// second. Its allocations are charged as the process's allocation counter
// moved during the write: that garbage brings the next collection forward,
// and a collection is what costs the application its tail latency when
// there are many goroutines to scan (measured: one goroutine profile at
// 100,000 goroutines allocates 22 MB; with GC off, a flood of them leaves
// the application's p99 within 1.5x idle, with GC on a collection every
// other second takes it to 15-26x).
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
	balance time.Duration // CPU, at time at
	bytes   float64       // allocation, at time at
	at      time.Time
	wake    chan struct{}

	// Counters, read by tests and /debug/vitals.
	writing, peak atomic.Int32
	refused       atomic.Int64
	spent         atomic.Int64 // nanoseconds charged in total
	allocated     atomic.Int64 // bytes charged in total
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
		bytes:       allocSaved(allocRate()),
		at:          time.Now(),
		wake:        make(chan struct{}),
	}
}

// The allocation budget: writes may allocate, on average, a hundredth of
// the heap goal per second, at least minAllocRate, and save up allocBurst
// seconds of it but at least minAllocSaved: an operator's round of
// different profiles (each heap profile's gzip state alone is ~1 MB) fits
// in what is saved, while a sustained flood is held to the rate.
const (
	allocShare    = 100
	minAllocRate  = 256 << 10
	allocBurst    = 5
	minAllocSaved = 16 << 20
)

// allocSaved is the most allocation the budget saves up at rate.
func allocSaved(rate float64) float64 { return max(allocBurst*rate, minAllocSaved) }

// allocRate is the bytes per second writes may allocate now.
func allocRate() float64 {
	return max(float64(heapGoal())/allocShare, minAllocRate)
}

// refill brings the balances up to now. b.mu is held.
func (b *budget) refill(now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.balance = min(b.burst, b.balance+time.Duration(float64(el)*float64(b.perSecond)/float64(time.Second)))
		rate := allocRate()
		b.bytes = min(allocSaved(rate), b.bytes+el.Seconds()*rate)
	}
	b.at = now
}

// payback is how long the balances take to be non-negative again. b.mu is
// held.
func (b *budget) payback() time.Duration {
	wait := time.Duration(float64(-b.balance) * float64(time.Second) / float64(b.perSecond))
	if b.bytes < 0 {
		wait = max(wait, time.Duration(-b.bytes/allocRate()*float64(time.Second)))
	}
	return wait
}

// reuseFor is how long the budget takes to earn back a write of cost c:
// the time for which serving that write's answer again saves the most.
func (b *budget) reuseFor(c cost) time.Duration {
	cpu := time.Duration(float64(c.cpu) * float64(time.Second) / float64(b.perSecond))
	return max(cpu, time.Duration(float64(c.bytes)/allocRate()*float64(time.Second)))
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
		if !b.busy && b.balance >= 0 && b.bytes >= 0 && (queued || b.waiting == 0) {
			b.busy = true
			if queued {
				b.waiting--
			}
			b.mu.Unlock()
			bumpPeak(&b.writing, &b.peak)
			return &ticket{b: b}, nil
		}
		// Paying back the debt takes debt/rate; a running write is
		// expected to end within the burst.
		wait := b.payback()
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

// cost is what one write took: CPU time, and bytes allocated.
type cost struct {
	cpu   time.Duration
	bytes uint64
}

// run does the metered work, charges its cost to the class and returns it.
func (t *ticket) run(f func()) cost {
	if t.ran {
		f()
		return cost{}
	}
	t.ran = true
	c := cost{cpu: t.b.perSecond / 10} // charged even if f panics
	defer func() { t.b.release(c) }()
	m := measure(f)
	c = cost{cpu: max(m.cpu, c.cpu), bytes: m.bytes}
	return c
}

// done leaves the class. Safe to defer right after admit.
func (t *ticket) done() {
	if !t.ran {
		t.ran = true
		t.b.release(cost{})
	}
	t.b.inflight.Add(-1)
}

func (b *budget) release(c cost) {
	b.writing.Add(-1)
	b.spent.Add(int64(c.cpu))
	b.allocated.Add(int64(c.bytes))
	b.writes.Add(1)
	for m := b.maxCost.Load(); int64(c.cpu) > m && !b.maxCost.CompareAndSwap(m, int64(c.cpu)); m = b.maxCost.Load() {
	}
	b.mu.Lock()
	b.refill(time.Now())
	b.balance -= c.cpu
	b.bytes -= float64(c.bytes)
	b.busy = false
	b.broadcast()
	b.mu.Unlock()
}

// broadcast wakes every waiting request to look again. b.mu is held.
func (b *budget) broadcast() {
	close(b.wake)
	b.wake = make(chan struct{})
}
