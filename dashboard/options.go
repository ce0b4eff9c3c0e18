package dashboard

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Option configures [New]. Options are made by the functions of this
// package; New reports the invalid ones.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	interval  time.Duration
	history   int
	report    func() Report
	watchdog  func() Watchdog
	incidents func() []Incident
	logger    *slog.Logger
	// maxStreams caps concurrent event streams; lifetime ends each one.
	maxStreams int
	lifetime   time.Duration
	errs       []error
}

// DefaultInterval is the time between two samples unless [WithInterval]
// says otherwise.
const DefaultInterval = time.Second

// DefaultHistory is how many samples a page that connects receives at once,
// unless [WithHistory] says otherwise: five minutes at one a second.
const DefaultHistory = 300

// DefaultMaxStreams and DefaultStreamLifetime are the event stream limits
// unless [WithStreamLimits] says otherwise.
const (
	DefaultMaxStreams     = 8
	DefaultStreamLifetime = 15 * time.Minute
)

// WithStreamLimits caps the event streams open at once at max (default
// [DefaultMaxStreams]; one more gets 429 with Retry-After) and ends each
// stream after lifetime (default [DefaultStreamLifetime]). An open page
// reconnects by itself 3 s later and gets the history again; a client that
// stopped reading does not, so it holds its place at most that long. A
// client that stops reading while samples keep coming is dropped sooner,
// when a write has waited 10 s. Each stream costs a goroutine and a 16-sample
// buffer (a few kB); sampling is shared by all of them.
func WithStreamLimits(max int, lifetime time.Duration) Option {
	return optionFunc(func(c *config) {
		if max < 1 || lifetime <= 0 {
			c.errs = append(c.errs, fmt.Errorf("dashboard: stream limits %d, %v must be positive", max, lifetime))
		}
		c.maxStreams, c.lifetime = max, lifetime
	})
}

// WithInterval sets the time between two samples while a page is open
// (default [DefaultInterval]; at least 10 ms).
func WithInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 10*time.Millisecond {
			c.errs = append(c.errs, fmt.Errorf("dashboard: interval %v is below 10ms", d))
		}
		c.interval = d
	})
}

// WithHistory keeps the last n samples of the current sampling run in
// memory (about 300 bytes each) and sends them to a page when it connects,
// so its charts do not start empty (default [DefaultHistory]; 0 keeps
// none). The history is dropped when the last page leaves.
func WithHistory(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.errs = append(c.errs, fmt.Errorf("dashboard: history %d is negative", n))
		}
		c.history = n
	})
}

// WithReport shows report() in the page's header, typically vitals'
// start-up report. It is called once per page load; a panic in it is
// recovered and shown as an error.
func WithReport(report func() Report) Option {
	return optionFunc(func(c *config) {
		if report == nil {
			c.errs = append(c.errs, errors.New("dashboard: nil report function"))
		}
		c.report = report
	})
}

// WithWatchdog plots the goroutine leak watchdog's baseline and threshold
// and marks the samples where it suspects a leak. watchdog() is called once
// per sample (so it must be cheap, like leak.Watchdog.State); a panic in it
// is recovered and leaves the marks out of that sample.
func WithWatchdog(watchdog func() Watchdog) Option {
	return optionFunc(func(c *config) {
		if watchdog == nil {
			c.errs = append(c.errs, errors.New("dashboard: nil watchdog function"))
		}
		c.watchdog = watchdog
	})
}

// WithIncidents marks incidents (diagnostic bundles written by an incident
// monitor) on every chart: a vertical line at each incident's time, labelled
// with its trigger, and a list under the header. recent() is called once
// per sample and when a page connects (so it must be cheap, like
// incident.Monitor.State); the page gets the list again only when it
// changed, and at most the latest [MaxIncidentMarks]. A panic in it is
// recovered and leaves the marks as they were.
func WithIncidents(recent func() []Incident) Option {
	return optionFunc(func(c *config) {
		if recent == nil {
			c.errs = append(c.errs, errors.New("dashboard: nil incidents function"))
		}
		c.incidents = recent
	})
}

// MaxIncidentMarks is how many of the latest incidents the page marks.
const MaxIncidentMarks = 50

// Incident is one incident as the dashboard marks it: when it happened,
// what triggered it ("memory", "goroutines", …) and why, in words.
type Incident struct {
	Time    time.Time
	Trigger string
	Reason  string
}

// WithLogger logs the dashboard's troubles (a failed sampler, a panicking
// provider) at Warn and page connections at Debug. The default discards
// everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("dashboard: nil logger"))
		}
		c.logger = l
	})
}

// Report is what the page's header shows: the runtime settings in effect and
// why. vitals.Start fills it from its start-up report; every field may be
// empty.
type Report struct {
	GoVersion      string   `json:"go_version"`
	GOMAXPROCS     string   `json:"gomaxprocs"`
	GOMAXPROCSWhy  string   `json:"gomaxprocs_why"`
	GOMEMLIMIT     string   `json:"gomemlimit"`
	GOMEMLIMITWhy  string   `json:"gomemlimit_why"`
	GOTRACEBACK    string   `json:"gotraceback"`
	GOTRACEBACKWhy string   `json:"gotraceback_why"`
	CgroupVersion  string   `json:"cgroup_version"`
	Warnings       []string `json:"warnings,omitempty"`
	// NoFlightRecorder hides the flight-recorder snapshot link, for a
	// server that runs no flight recorder (the link would only answer
	// with an error).
	NoFlightRecorder bool `json:"no_flight_recorder,omitempty"`
}

// Watchdog is the goroutine leak watchdog's state as the dashboard plots it
// (leak.Watchdog.State has these fields). Zero Baseline means "not learned
// yet" and draws no baseline.
type Watchdog struct {
	Baseline  int
	Threshold int
	Suspected bool
}
