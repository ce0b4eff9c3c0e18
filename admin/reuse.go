package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// reuse shares the answers of profile writes. Requests for the same
// profile while it is being written wait for that write instead of queueing
// their own, and an answer is served again, with its age, for as long as
// the budget takes to earn its cost back (at most maxAge): a write that
// took 100 ms of CPU in a budget of 100 ms a second is fresh for a second,
// one that allocated 22 MB where the budget earns 4 MB a second for five
// and a half. An operator's back-to-back requests and a flood of identical
// ones are answered at once and cost one write; only requests that need new
// writes meet the budget.
type reuse struct {
	maxAge time.Duration

	mu      sync.Mutex
	entries map[string]*written

	hits, misses atomic.Int64 // read by tests and /debug/vitals
}

// written is one write's answer, shared by everyone who asked for it.
type written struct {
	ready  chan struct{} // closed when the fields below are set
	body   []byte
	ref    *refusal // the write was refused by the budget
	err    error
	at     time.Time // when the write ended
	leader bool      // read by the request that wrote it
}

// maxKept is the largest answer kept after its write: a bigger one (a
// forced full dump of many goroutines) goes to the requests that waited for
// it and is let go.
const maxKept = 8 << 20

// errWriteFailed is what waiters get when the write they waited for
// panicked.
var errWriteFailed = errors.New("admin: the shared profile write failed")

func newReuse(maxAge time.Duration) *reuse {
	return &reuse{maxAge: maxAge, entries: map[string]*written{}}
}

// do returns the answer for key: the one being written or still fresh, or
// a new one from write, which reports the bytes, how long they stay fresh,
// a refusal or an error. Only successful answers are kept. A request whose
// ctx ends while it waits for another's write gets ctx's error.
func (c *reuse) do(ctx context.Context, key string, write func() ([]byte, time.Duration, *refusal, error)) *written {
	if c == nil || c.maxAge <= 0 {
		body, _, ref, err := write()
		return &written{body: body, ref: ref, err: err, at: time.Now(), leader: true}
	}
	c.mu.Lock()
	if e := c.entries[key]; e != nil {
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return &written{err: ctx.Err()}
		}
		if e.ref == nil && e.err == nil {
			c.hits.Add(1)
			return e
		}
		// The shared write failed: say so, as it did to its leader.
		return &written{ref: e.ref, err: e.err}
	}
	e := &written{ready: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()
	c.misses.Add(1)

	forget := func() {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	var fresh time.Duration
	completed := false
	defer func() {
		// Runs even if write panics, so that no waiter hangs.
		if !completed {
			e.at, e.err = time.Now(), errWriteFailed
		}
		close(e.ready)
		if e.ref != nil || e.err != nil || fresh <= 0 || len(e.body) > maxKept {
			forget()
			return
		}
		time.AfterFunc(min(fresh, c.maxAge), forget)
	}()
	e.body, fresh, e.ref, e.err = write()
	e.at, completed = time.Now(), true
	return &written{body: e.body, at: e.at, leader: true, ref: e.ref, err: e.err}
}

// renew writes a new answer for key, whatever is fresh, and keeps it for
// later requests.
func (c *reuse) renew(ctx context.Context, key string, write func() ([]byte, time.Duration, *refusal, error)) *written {
	if c == nil || c.maxAge <= 0 {
		return c.do(ctx, key, write)
	}
	c.mu.Lock()
	if e := c.entries[key]; e != nil && e.done() {
		delete(c.entries, key) // an entry being written is joined instead
	}
	c.mu.Unlock()
	return c.do(ctx, key, write)
}

// done reports whether w's write has ended.
func (w *written) done() bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

// ageHeaders tells a client that w's answer was written earlier: Age in
// whole seconds (RFC 9111) and the exact time it was written.
func ageHeaders(h http.Header, w *written) {
	if w.leader {
		return
	}
	h.Set("Age", strconv.Itoa(int(time.Since(w.at)/time.Second)))
	h.Set("X-Vitals-Written", w.at.UTC().Format(time.RFC3339Nano))
}
