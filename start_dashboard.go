package vitals

import (
	"github.com/govitals/vitals/dashboard"
)

// newDashboard builds the live dashboard [Start] mounts at /debug/vitals/ on
// the admin server, fed by the start-up report, the leak watchdog and the
// incident monitor (its recent incidents are marked on the charts). It
// samples only while a page is open.
func (s *Service) newDashboard(c *startConfig) (*dashboard.Dashboard, error) {
	opts := []dashboard.Option{
		dashboard.WithLogger(c.logger),
		dashboard.WithReport(func() dashboard.Report {
			r := dashboardReport(s.report)
			r.NoFlightRecorder = s.recorder == nil
			return r
		}),
	}
	if s.watchdog != nil {
		wd := s.watchdog
		opts = append(opts, dashboard.WithWatchdog(func() dashboard.Watchdog {
			st := wd.State()
			return dashboard.Watchdog{Baseline: st.Baseline, Threshold: st.Threshold, Suspected: st.Suspected}
		}))
	}
	if s.incidents != nil {
		m := s.incidents
		opts = append(opts, dashboard.WithIncidents(func() []dashboard.Incident {
			recent := m.State().Recent
			out := make([]dashboard.Incident, 0, len(recent))
			for _, inc := range recent {
				out = append(out, dashboard.Incident{Time: inc.Time, Trigger: inc.Trigger.String(), Reason: inc.Reason})
			}
			return out
		}))
	}
	return dashboard.New(opts...)
}

// dashboardReport is the part of r the dashboard's header shows.
func dashboardReport(r *Report) dashboard.Report {
	if r == nil {
		return dashboard.Report{}
	}
	out := dashboard.Report{GoVersion: r.GoVersion, CgroupVersion: r.CgroupSummary(), Warnings: r.Warnings}
	why := func(d Decision) string {
		if d.Reason == "" {
			return d.Source
		}
		return d.Source + ": " + d.Reason
	}
	if d, ok := r.Decision(SettingGOMAXPROCS); ok {
		out.GOMAXPROCS, out.GOMAXPROCSWhy = d.New, why(d)
	}
	if d, ok := r.Decision(SettingGOMEMLIMIT); ok {
		out.GOMEMLIMIT, out.GOMEMLIMITWhy = d.NewHuman(), why(d)
	}
	if d, ok := r.Decision(SettingGOTRACEBACK); ok {
		out.GOTRACEBACK, out.GOTRACEBACKWhy = d.New, why(d)
	}
	return out
}
