package metrics

import (
	"log/slog"
	"time"
)

// Option configures [New].
type Option interface{ apply(*config) }

type config struct {
	minInterval time.Duration
	settings    func() Settings
	checks      func() []Check
	watchdog    func() WatchdogState
	logger      *slog.Logger
	cgroup      cgroupSource // tests
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMinInterval sets the minimum time between two reads; scrapes inside it
// share the last read. 0 reads on every scrape. The default is
// [DefaultMinInterval] (one second).
func WithMinInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.minInterval = d })
}

// WithSettings installs the hook that reports the GOMAXPROCS and GOMEMLIMIT
// vitals applied and where each came from. It is called once per read.
func WithSettings(f func() Settings) Option {
	return optionFunc(func(c *config) { c.settings = f })
}

// WithChecks installs the hook that reports the start-up checklist. It is
// called once per read; the returned slice is copied, so the hook may return
// the same slice every time.
func WithChecks(f func() []Check) Option {
	return optionFunc(func(c *config) { c.checks = f })
}

// WithWatchdog installs the hook that reports the goroutine leak watchdog's
// state. It is called once per read.
func WithWatchdog(f func() WatchdogState) Option {
	return optionFunc(func(c *config) { c.watchdog = f })
}

// WithLogger logs the sampler's troubles (an unreadable cgroup, once) at
// debug level. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}
