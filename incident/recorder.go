package incident

import "github.com/govitals/vitals/tracecap"

// Recorder returns the flight recorder the monitor captures from: the one
// given with [WithRecorder], the one [Monitor.Start] started, or nil (none
// yet, [NoFlightRecorder], or it could not start). Callers may ask whether it
// is running, to tell the monitor's always-on tracing from an unbounded
// trace; they must not stop it. Cost: a mutex.
func (m *Monitor) Recorder() *tracecap.Recorder {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	r, _ := m.rec.(*tracecap.Recorder)
	return r
}
