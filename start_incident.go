package vitals

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/leak"
)

// IncidentDirEnv names the environment variable that turns incident capture
// on without a rebuild: [Start] behaves as if given [Incidents] with its
// value and the default triggers. An [Incidents] option wins over it.
const IncidentDirEnv = "VITALS_INCIDENT_DIR"

// IncidentsRoute is where the admin server lists and serves incident
// bundles (GET) and captures one on demand (POST .../capture).
const IncidentsRoute = "/debug/vitals/incidents/"

type incidentConfig struct {
	dir  string
	opts []incident.Option
	mon  atomic.Pointer[incident.Monitor] // set once started, for the watchdog hook
}

// Incidents arms incident capture (package incident): when memory nears its
// limit, the GC spirals, goroutines spike or the leak watchdog reports, the
// CPU quota runs out or the scheduler falls behind, a bundle — flight
// recorder trace of the seconds before, heap and goroutine profiles, a
// manifest with the start-up Report — is written into dir, capped at 20
// bundles and 256 MiB unless opts say otherwise. The admin server lists and
// serves the bundles at [IncidentsRoute] and captures one on POST
// .../capture; /metrics gains vitals_incidents_total{trigger}. For
// OpenTelemetry, pass [Service.Incidents] to otelexport.WithIncidents
// (vitals.incidents{vitals.incident.trigger}).
//
// The leak watchdog's reports start a goroutine bundle through a
// leak.OnReport hook; an OnReport of your own in [WatchdogOptions] is called
// as well, after it.
//
// It needs the flight recorder: with [FlightRecorder] the bundles share
// that one (and its snapshot rate limit), else the monitor runs its own.
// Cost: a check every 100 ms (a few microseconds, no allocation), the
// tracer's few percent of CPU, and a capture's work when something fires.
func Incidents(dir string, opts ...incident.Option) StartOption {
	return startOptionFunc(func(c *startConfig) {
		if dir == "" {
			c.fail(errors.New("vitals: Incidents: empty directory"))
			return
		}
		c.incident = &incidentConfig{dir: dir, opts: opts}
	})
}

// prepareIncidents reads IncidentDirEnv and hooks the watchdog's reports,
// before the watchdog is built.
func (s *Service) prepareIncidents(c *startConfig) {
	if c.incident == nil {
		if dir := os.Getenv(IncidentDirEnv); dir != "" {
			c.incident = &incidentConfig{dir: dir}
		}
	}
	if c.incident == nil || c.noWatchdog {
		return
	}
	ic := c.incident
	// First: an OnReport of the caller's own is called after it.
	c.watchdog = append([]leak.WatchdogOption{leak.OnReport(func(r leak.Report) {
		if m := ic.mon.Load(); m != nil {
			m.Fire(incident.Goroutines, fmt.Sprintf("leak watchdog: %d goroutines, baseline %d, threshold %d", r.Current, r.Baseline, r.Threshold))
		}
	})}, c.watchdog...)
}

// startIncidents creates and arms the monitor. Invalid options are an
// error; anything else that fails is recorded and the service runs without.
func (s *Service) startIncidents(ctx context.Context, c *startConfig) error {
	ic := c.incident
	if ic == nil {
		return nil
	}
	opts := []incident.Option{incident.WithLogger(c.logger), incident.WithReport(func() any { return s.report })}
	if s.recorder != nil {
		opts = append(opts, incident.WithRecorder(s.recorder))
	}
	m, err := incident.New(ic.dir, append(opts, ic.opts...)...)
	if err != nil {
		if errors.Is(err, incident.ErrOption) {
			return fmt.Errorf("vitals: Incidents: %w", err)
		}
		s.problem(fmt.Errorf("vitals: incidents: %w", err))
		return nil
	}
	if err := m.Start(ctx); err != nil {
		s.problem(err)
		_ = m.Close()
		return nil
	}
	s.incidents = m
	ic.mon.Store(m)
	for _, t := range incident.Triggers() {
		f := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "vitals_incidents_total",
			Help:        "Incident bundles captured, by trigger (failed captures included).",
			ConstLabels: prometheus.Labels{"trigger": t.String()},
		}, func() float64 { return float64(m.Count(t)) })
		if err := s.registry.Register(f); err != nil {
			s.problem(fmt.Errorf("vitals: register vitals_incidents_total: %w", err))
			break
		}
	}
	return nil
}

// incidentAdminOptions mounts the bundle routes and state on the admin
// server.
func (s *Service) incidentAdminOptions() []admin.Option {
	m := s.incidents
	if m == nil {
		return nil
	}
	return []admin.Option{
		admin.WithHandler(IncidentsRoute, http.StripPrefix(IncidentsRoute[:len(IncidentsRoute)-1], m.Handler())),
		admin.WithState("incidents", func() any { return m.State() }),
	}
}

// Incidents returns the incident monitor, or nil without [Incidents] or
// IncidentDirEnv.
func (s *Service) Incidents() *incident.Monitor { return s.incidents }

func (s *Service) stopIncidents() error {
	if s.incidents == nil {
		return nil
	}
	return s.incidents.Close()
}
