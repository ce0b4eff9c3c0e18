package incident

import (
	"github.com/govitals/vitals/cgroup"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

func armedForTest(t testing.TB) *Monitor {
	m, err := New(t.TempDir(), NoFlightRecorder())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := cgroup.NewStatReader(); err == nil {
		m.stat = st // as Start opens it
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// BenchmarkCheck is the cost of one armed check every CheckEvery: the fast
// path (memory, goroutines, cgroup memory usage). Thresholds are never
// reached here, so nothing fires.
func BenchmarkCheck(b *testing.B) {
	m := armedForTest(b)
	now := time.Now()
	m.check(now) // first point, limits
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Millisecond) // stays inside one second: fast path only
		if now.Sub(m.slowAt) >= time.Second {
			m.slowAt = now
		}
		m.check(now)
	}
}

// BenchmarkCheckSecond is the once-a-second check: the fast path plus the
// history point (seven runtime metrics with the latency histogram, cgroup
// CPU counters, getrusage) and the GC, CPU and latency triggers.
func BenchmarkCheckSecond(b *testing.B) {
	m := armedForTest(b)
	now := time.Now()
	m.check(now)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(time.Second)
		m.limAt = now // the once-a-minute limits re-read is measured apart
		m.check(now)
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	m := armedForTest(t)
	now := time.Now()
	for range 15 { // fill the window so every trigger is evaluated
		now = now.Add(time.Second)
		m.check(now)
	}
	m.limAt = now
	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(500 * time.Millisecond) // every other run adds a point
		m.limAt = now
		m.check(now)
	})
	if allocs != 0 {
		t.Errorf("check allocates %.1f times", allocs)
	}
	if m.busy.Load() {
		t.Error("a check fired in an idle test process")
	}
}

func TestRateLimitAndCooldown(t *testing.T) {
	m, err := New(t.TempDir(), NoFlightRecorder(), Cooldown(time.Minute), RateLimit(2, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	now := time.Now()
	try := func(tr Trigger, at time.Duration) bool {
		ok := m.admit(tr, now.Add(at))
		if ok {
			m.busy.Store(false) // as if the capture finished
		}
		return ok
	}
	steps := []struct {
		trigger Trigger
		at      time.Duration
		want    bool
	}{
		{Memory, 0, true},
		{Memory, time.Second, false},         // cooldown
		{GC, 2 * time.Second, true},          // second token
		{CPU, 3 * time.Second, false},        // no token left
		{Memory, 61 * time.Second, false},    // cooldown over, still no token
		{Memory, 61 * time.Minute, true},     // an hour: a token back
		{Latency, 61*time.Minute + 1, false}, // spent again
	}
	for i, s := range steps {
		if got := try(s.trigger, s.at); got != s.want {
			t.Errorf("step %d (%v at %v): admitted %v, want %v", i, s.trigger, s.at, got, s.want)
		}
	}
	// One at a time: a busy slot refuses everything.
	m.busy.Store(true)
	if m.admit(Goroutines, now.Add(2*time.Hour)) {
		t.Error("admitted while busy")
	}
}

func TestCheckIntervalAdapts(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	debug.SetMemoryLimit(math.MaxInt64)
	m := armedForTest(t)
	now := time.Now()
	m.check(now)
	now = now.Add(time.Second)
	if next := m.check(now); m.cgMem == 0 && next != DefaultIdleInterval {
		t.Errorf("far from any limit: next check in %v, want %v", next, DefaultIdleInterval)
	}
	// A GOMEMLIMIT just above what the runtime holds: near, check fast.
	used := sat(u64(&m.fast[0]), u64(&m.fast[1]))
	debug.SetMemoryLimit(int64(used + used/5))
	now = now.Add(time.Second)
	m.busy.Store(true) // it would fire: keep the slot taken so nothing is written
	if next := m.check(now); next != DefaultInterval {
		t.Errorf("at %d of a %d limit: next check in %v, want %v", used, used+used/5, next, DefaultInterval)
	}
}
