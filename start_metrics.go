package vitals

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/govitals/vitals/metrics/promexport"
)

// metricsGatherer serves /metrics whatever goes wrong in a part of it: a
// gatherer's error or a family collision (see [promexport.Merge]) drops that
// part only. Each distinct problem is logged once, at Warn, and listed on
// /debug/vitals under "metrics"; promhttp would otherwise answer 500 for the
// whole page.
type metricsGatherer struct {
	g      prometheus.Gatherer
	logger *slog.Logger

	mu       sync.Mutex
	problems []metricsProblem
	seen     map[string]bool
}

// metricsProblem is one distinct problem, as /debug/vitals shows it.
type metricsProblem struct {
	Error string    `json:"error"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count int       `json:"count"`
}

// maxMetricsProblems bounds the distinct problems remembered; later new
// ones are counted in the last entry's place.
const maxMetricsProblems = 32

// newMetricsGatherer composes /metrics: vitals' collector first, so its
// go_* families win over client_golang's Go collector in an application
// gatherer (all go_* values then come from one runtime/metrics read, the
// one /debug/vitals and the dashboard share, at most once a second); then
// client_golang's own process collector; then the application's registry
// and gatherers.
func newMetricsGatherer(logger *slog.Logger, col *promexport.Collector, app *prometheus.Registry, more []prometheus.Gatherer) *metricsGatherer {
	var parts []prometheus.Gatherer
	if col != nil {
		parts = append(parts, col)
	}
	proc := prometheus.NewRegistry()
	proc.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	parts = append(parts, proc, app)
	return &metricsGatherer{g: promexport.Merge(append(parts, more...)...), logger: logger, seen: map[string]bool{}}
}

// Gather never returns an error: what failed is left out and recorded.
func (m *metricsGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := m.g.Gather()
	if err != nil {
		m.record(err)
	}
	return mfs, nil
}

func (m *metricsGatherer) record(err error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range flatten(err) {
		msg := e.Error()
		if m.seen[msg] {
			for i := range m.problems {
				if m.problems[i].Error == msg {
					m.problems[i].Last = now
					m.problems[i].Count++
				}
			}
			continue
		}
		if len(m.problems) >= maxMetricsProblems {
			continue
		}
		m.seen[msg] = true
		m.problems = append(m.problems, metricsProblem{Error: msg, First: now, Last: now, Count: 1})
		m.logger.Warn("vitals: /metrics is served without a part that failed (logged once)", "err", msg)
	}
}

// state is /debug/vitals' "metrics" entry.
func (m *metricsGatherer) state() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]any{"problems": append([]metricsProblem{}, m.problems...)}
}

func flatten(err error) []error {
	if me, ok := err.(prometheus.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
