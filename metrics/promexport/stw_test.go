package promexport

import (
	"runtime"
	rtm "runtime/metrics"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/metrics"
)

// otherPauses counts the stop-the-world pauses not caused by the garbage
// collector (ReadMemStats, goroutine profiles, ...).
func otherPauses(t *testing.T) uint64 {
	t.Helper()
	s := []rtm.Sample{{Name: "/sched/pauses/total/other:seconds"}}
	rtm.Read(s)
	if s[0].Value.Kind() != rtm.KindFloat64Histogram {
		t.Skip("this Go has no /sched/pauses/total/other:seconds")
	}
	var n uint64
	for _, c := range s[0].Value.Float64Histogram().Counts {
		n += c
	}
	return n
}

// TestScrapeDoesNotStopTheWorld gathers many times, each reading the runtime
// afresh, and checks that no non-GC stop-the-world happened meanwhile.
func TestScrapeDoesNotStopTheWorld(t *testing.T) {
	c := newTestCollector(t, metrics.WithMinInterval(0))
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	// The probe sees a stop-the-world when there is one.
	before := otherPauses(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if otherPauses(t) == before {
		t.Fatal("ReadMemStats did not register as a stop-the-world: the probe is blind")
	}

	before = otherPauses(t)
	for range 50 {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if after := otherPauses(t); after != before {
		t.Errorf("100 scrapes caused %d non-GC stop-the-world pauses, want 0", after-before)
	}
}
