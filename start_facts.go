package vitals

import (
	"runtime/trace"
	"time"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/tracecap"
)

// liveFacts adds to f what the report and the watchdog do not know: the CFS
// throttling counters of the process's cgroup (totals since the cgroup
// began), whether an execution trace runs outside the flight recorder, and
// the incident monitor's recent incidents.
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
	if m := s.incidents; m != nil {
		if f.TraceRunning && running(m.Recorder()) {
			// Incident capture keeps its own flight recorder: bounded too.
			f.TraceRunning = false
		}
		// The monitor's state: a lock, a copy of at most 10 incidents.
		st := m.State()
		f.IncidentsKnown = true
		f.IncidentsTotal = 0
		for _, n := range st.Counts {
			f.IncidentsTotal += n
		}
		now := time.Now()
		f.RecentIncidents = nil
		for _, inc := range st.Recent {
			if age := now.Sub(inc.Time); age >= 0 && age <= checklist.IncidentWindow {
				f.RecentIncidents = append(f.RecentIncidents, checklist.IncidentFact{Time: inc.Time, Trigger: inc.Trigger.String(), Reason: inc.Reason})
			}
		}
	}
}

// running reports whether r is a flight recorder that is running.
func running(r *tracecap.Recorder) bool { return r != nil && r.Running() }
