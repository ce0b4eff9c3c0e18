package vitals

import (
	"runtime/trace"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/tracecap"
)

// liveFacts adds to f what the report and the watchdog do not know: the CFS
// throttling counters of the process's cgroup (totals since the cgroup
// began) and whether an execution trace runs outside the flight recorder.
// Cost: with a CPU quota, one pread of cpu.stat through a reader opened on
// first use and kept until Close (a few µs, no allocation); it runs when
// metrics are scraped (at most once a second) and on /debug/vitals.
func (s *Service) liveFacts(f *checklist.Facts) {
	if f.CPULimitKnown && f.CPULimit > 0 {
		s.throttleOnce.Do(func() {
			// The reader is usable even when some file failed to open.
			s.throttle, _ = cgroup.NewStatReader()
		})
		var st cgroup.Stats
		if s.throttle != nil && s.throttle.Read(&st) == nil && st.HaveCPU {
			f.ThrottleKnown = true
			f.Periods, f.ThrottledPeriods = st.Periods, st.ThrottledPeriods
		}
	}
	// The flight recorder keeps the tracer on by design; so does a bounded
	// capture from the admin server while it runs (reported as running for
	// those seconds).
	f.TraceKnown = true
	f.TraceRunning = trace.IsEnabled() && !running(s.recorder)
	if f.TraceRunning && s.incidents != nil && running(s.incidents.Recorder()) {
		// Incident capture keeps its own flight recorder: bounded too.
		f.TraceRunning = false
	}
}

// running reports whether r is a flight recorder that is running.
func running(r *tracecap.Recorder) bool { return r != nil && r.Running() }
