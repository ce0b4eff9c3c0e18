package vitals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/dashboard"
	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/leak"
	"github.com/govitals/vitals/metrics"
	"github.com/govitals/vitals/metrics/promexport"
	"github.com/govitals/vitals/startup"
	"github.com/govitals/vitals/tracecap"
)

// StartOption configures [Start]. Options are made by the functions of this
// package; [Setup]'s options are passed with [SetupOptions].
type StartOption interface{ applyStart(*startConfig) }

type startOptionFunc func(*startConfig)

func (f startOptionFunc) applyStart(c *startConfig) { f(c) }

type startConfig struct {
	setup      []Option
	admin      []admin.Option
	noAdmin    bool
	noDash     bool
	watchdog   []leak.WatchdogOption
	noWatchdog bool
	flight     bool
	flightOpts []tracecap.Option
	traceDir   string
	traceFiles int
	traceBytes int64
	gatherers  []prometheus.Gatherer
	logger     *slog.Logger
	incident   *incidentConfig // start_incident.go
	err        error
}

// SetupOptions passes opts to [Setup] (a [Start] without them applies
// Setup's defaults). The option constructors of this package need no
// wrapping (Start(ctx, vitals.ProcsCeil()) works); SetupOptions is for
// startup.Option values and for a slice of options.
func SetupOptions(opts ...Option) StartOption {
	return startOptionFunc(func(c *startConfig) { c.setup = append(c.setup, opts...) })
}

// AdminOptions passes opts to [admin.New], after Start's own (address
// 127.0.0.1:6060, the metrics, the report, the watchdog state, the flight
// recorder), so they can override them: admin.WithAddr, admin.WithBasicAuth,
// admin.WithHandler for a dashboard, and so on.
func AdminOptions(opts ...admin.Option) StartOption {
	return startOptionFunc(func(c *startConfig) { c.admin = append(c.admin, opts...) })
}

// NoAdmin starts no admin server (and so serves no metrics).
func NoAdmin() StartOption {
	return startOptionFunc(func(c *startConfig) { c.noAdmin = true })
}

// NoDashboard mounts no live dashboard at /debug/vitals/ on the admin
// server (for example to mount a handler of your own there with
// admin.WithHandler). The dashboard costs nothing while no page is open.
func NoDashboard() StartOption {
	return startOptionFunc(func(c *startConfig) { c.noDash = true })
}

// WatchdogOptions passes opts to [leak.NewWatchdog].
func WatchdogOptions(opts ...leak.WatchdogOption) StartOption {
	return startOptionFunc(func(c *startConfig) { c.watchdog = append(c.watchdog, opts...) })
}

// NoWatchdog starts no goroutine leak watchdog.
func NoWatchdog() StartOption {
	return startOptionFunc(func(c *startConfig) { c.noWatchdog = true })
}

// FlightRecorder starts the always-on execution-trace ring
// ([tracecap.Recorder]; 10 s or 10 MiB by default, a few percent of CPU
// while it runs, paused above 20,000 goroutines: see
// [tracecap.WithGoroutineCeiling]). Snapshots ([Service.Snapshot], /debug/vitals/flight) go to
// the [TraceDir] when one is given, else only to HTTP responses.
func FlightRecorder(opts ...tracecap.Option) StartOption {
	return startOptionFunc(func(c *startConfig) {
		c.flight = true
		c.flightOpts = append(c.flightOpts, opts...)
	})
}

// TraceDir keeps flight snapshots and saved traces (/debug/vitals/trace?save=1)
// in path, capped at maxFiles files and maxBytes bytes, oldest removed first.
func TraceDir(path string, maxFiles int, maxBytes int64) StartOption {
	return startOptionFunc(func(c *startConfig) {
		if path == "" || maxFiles < 1 || maxBytes < 1 {
			c.fail(fmt.Errorf("vitals: TraceDir(%q, %d, %d): need a path and positive caps", path, maxFiles, maxBytes))
			return
		}
		c.traceDir, c.traceFiles, c.traceBytes = path, maxFiles, maxBytes
	})
}

// MetricsGatherers adds the application's own metrics (for example
// prometheus.DefaultGatherer) to /metrics next to vitals'. Metrics
// registered on [Service.Registry] are served without this option.
//
// /metrics serves, in this order of precedence: vitals' runtime metrics
// (promexport), client_golang's process collector (process_*), then
// [Service.Registry] and gs in the order given (see [promexport.Merge]). A
// gatherer holding client_golang's Go or process collector, as
// prometheus.DefaultGatherer does, is fine: each go_* and process_* family
// is served once. vitals' copy of the go_* families wins because all of
// them then come from one runtime/metrics read (the one the dashboard
// shares, at most once a second, never stopping the world), under the same
// names, types and buckets as client_golang's; its go_gc_duration_seconds
// quantiles are estimated from the runtime's pause histogram rather than
// computed from the last pauses. (client_golang's collectors in gs still
// run on every scrape before their copy is dropped; unregister them to save
// that.) Every other family of gs is kept. A
// collision that cannot be resolved (the same name with two types, the same
// labels twice) or a failing collector leaves out only that part: the rest
// of /metrics answers, the problem is logged once and listed under
// "metrics" on /debug/vitals.
func MetricsGatherers(gs ...prometheus.Gatherer) StartOption {
	return startOptionFunc(func(c *startConfig) { c.gatherers = append(c.gatherers, gs...) })
}

// StartLogger is [WithLogger], which [Setup] accepts too.
//
// Deprecated: use WithLogger, one logger option for Setup and Start.
func StartLogger(l *slog.Logger) StartOption {
	if l == nil {
		return startOptionFunc(func(c *startConfig) { c.fail(errors.New("vitals: StartLogger: nil logger")) })
	}
	return WithLogger(l)
}

func (c *startConfig) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Service is what [Start] started. Its methods are safe for concurrent use.
type Service struct {
	report    *Report
	admin     *admin.Server
	watchdog  *leak.Watchdog
	recorder  *tracecap.Recorder
	traceDir  *tracecap.Dir
	sampler   *metrics.Sampler
	dashboard *dashboard.Dashboard
	collector *promexport.Collector
	metrics   *metricsGatherer
	registry  *prometheus.Registry
	logger    *slog.Logger // the parts' logger: WithLogger's, or a discarding one
	warn      *slog.Logger // what Start could not do: WithLogger's, or slog.Default()
	errs      []error
	adminErr  error // the admin server failed to listen
	stopCtx   func() bool
	incidents *incident.Monitor // start_incident.go

	// throttle keeps cpu.stat open for the checklist facts (opened on
	// first use, only when there is a CPU quota).
	throttleOnce sync.Once
	throttle     *cgroup.StatReader

	stopOnce  sync.Once
	stopErr   error
	closeOnce sync.Once
	closeErr  error
}

// Start is the service template in one line: it applies [Setup], starts the
// goroutine leak watchdog, Prometheus metrics (vitals' runtime, cgroup,
// checklist and watchdog metrics plus [Service.Registry]), optionally the
// flight recorder, and the admin server on 127.0.0.1:6060 with pprof,
// /metrics, /healthz, /debug/vitals and the rest (see package admin).
//
// It returns an error only for invalid options, and then leaves nothing
// changed or running. A part that fails to start — the admin port taken,
// another flight recorder running, an unwritable trace directory — is
// reported by [Service.Err] and logged at Warn, one line each, through
// [WithLogger]'s logger or else [slog.Default]; the service carries on
// without it. Setup's warnings are logged the same way; what goes well is
// logged only with WithLogger.
// Everything stops when ctx is done (the settings stay) or on
// [Service.Close] (which also restores the settings).
//
// Cost: Setup's (one cgroup read), one goroutine for the watchdog (a
// runtime/metrics read every 10 s), the admin server's listener goroutine,
// and with [FlightRecorder] the tracer (a few percent of CPU) and its ring.
// Metrics are read only when scraped, at most once a second.
func Start(ctx context.Context, opts ...StartOption) (*Service, error) {
	c := startConfig{}
	for _, o := range opts {
		if o == nil {
			c.fail(errors.New("vitals: nil StartOption"))
			continue
		}
		o.applyStart(&c)
	}
	if c.err != nil {
		return nil, c.err
	}
	if ctx == nil {
		return nil, errors.New("vitals: Start: nil context")
	}
	// Without a logger, Start is quiet about what goes well but never about
	// what it could not do: those lines (a part that failed to start,
	// Setup's warnings, a /metrics problem) go to slog.Default, one each.
	warn, setupLog := c.logger, c.logger
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
		warn = slog.Default()
		setupLog = slog.New(minLevel{slog.LevelWarn, warn.Handler()})
	}
	s := &Service{logger: c.logger, warn: warn, registry: prometheus.NewRegistry()}

	setupOpts := append([]Option{startup.WithContext(ctx), startup.WithLogger(setupLog)}, c.setup...)
	r, err := Setup(setupOpts...)
	if err != nil {
		return nil, err
	}
	s.report = r
	if err := s.build(ctx, &c); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.stopCtx = context.AfterFunc(ctx, func() { s.stop() })
	return s, nil
}

// build creates and starts the parts after Setup. It returns an error only
// for invalid options; other failures are recorded in s.errs.
func (s *Service) build(ctx context.Context, c *startConfig) error {
	s.prepareIncidents(c)
	if !c.noWatchdog {
		wopts := append([]leak.WatchdogOption{leak.WithLogger(c.logger)}, c.watchdog...)
		wd, err := leak.NewWatchdog(wopts...)
		if err != nil {
			return err
		}
		if err := wd.Start(ctx); err != nil {
			s.problem(fmt.Errorf("vitals: leak watchdog: %w", err))
		} else {
			s.watchdog = wd
		}
	}
	if c.traceDir != "" {
		d, err := tracecap.OpenDir(c.traceDir, c.traceFiles, c.traceBytes)
		if err != nil {
			s.problem(err)
		} else {
			s.traceDir = d
		}
	}
	if c.flight {
		fopts := []tracecap.Option{tracecap.WithLogger(c.logger)}
		if s.traceDir != nil {
			fopts = append(fopts, tracecap.WithDir(s.traceDir))
		}
		rec, err := tracecap.NewRecorder(append(fopts, c.flightOpts...)...)
		if err != nil {
			return err
		}
		if err := rec.Start(); err != nil {
			s.problem(err)
		} else {
			s.recorder = rec
		}
	}
	if err := s.startIncidents(ctx, c); err != nil {
		return err
	}
	if c.noAdmin {
		return nil
	}

	sampler, err := metrics.New(
		metrics.WithSettings(s.settings),
		metrics.WithChecks(s.checks),
		metrics.WithWatchdog(s.watchdogState),
		metrics.WithLogger(c.logger),
	)
	if err != nil {
		s.problem(err)
	} else {
		s.sampler = sampler
		col, err := promexport.New(promexport.WithSampler(sampler))
		if err != nil {
			s.problem(err)
		} else {
			s.collector = col
		}
	}
	// The collector is its own Gatherer; promexport.Merge interleaves it with
	// the registry that holds the application's metrics without re-checking
	// and copying every metric as prometheus.Gatherers does (25 allocations
	// per scrape instead of ~500: BENCHMARKS.md).
	s.metrics = newMetricsGatherer(s.warn, s.collector, s.registry, c.gatherers)

	aopts := []admin.Option{
		admin.WithLogger(c.logger),
		admin.WithGatherer(s.metrics),
		admin.WithState("metrics", s.metrics.state),
		admin.WithReport(func() any { return s.report }),
		admin.WithState("checklist", func() any { return checklist.Evaluate(s.facts()) }),
		admin.WithState("facts", func() any { return s.facts() }),
	}
	if s.watchdog != nil {
		aopts = append(aopts, admin.WithState("leak", func() any { return s.watchdog.State() }))
	}
	if s.recorder != nil {
		aopts = append(aopts, admin.WithFlightRecorder(s.recorder))
	}
	if s.traceDir != nil {
		aopts = append(aopts, admin.WithTraceDir(s.traceDir))
	}
	aopts = append(aopts, s.incidentAdminOptions()...)
	if !c.noDash {
		dash, err := s.newDashboard(c)
		if err != nil {
			return err
		}
		s.dashboard = dash
		aopts = append(aopts, admin.WithHandler("/debug/vitals/", dash))
	}
	srv, err := admin.New(append(aopts, c.admin...)...)
	if err != nil {
		return err
	}
	s.admin = srv
	if err := srv.Start(); err != nil {
		// The port is taken or not ours: the service runs without it.
		s.adminErr = err
		s.problem(err)
	}
	return nil
}

func (s *Service) problem(err error) {
	s.warn.Warn("vitals: running without a part that failed to start", "err", err)
	s.errs = append(s.errs, err)
}

// Report returns what [Setup] did.
func (s *Service) Report() *Report { return s.report }

// Admin returns the admin server, or nil with [NoAdmin]. It is non-nil even
// when it failed to listen (see [Service.Err]); routes can still be mounted
// on it with Handle, and its Handler served elsewhere.
func (s *Service) Admin() *admin.Server { return s.admin }

// Watchdog returns the goroutine leak watchdog, or nil.
func (s *Service) Watchdog() *leak.Watchdog { return s.watchdog }

// Recorder returns the flight recorder, or nil.
func (s *Service) Recorder() *tracecap.Recorder { return s.recorder }

// Registry is where the application registers its own Prometheus metrics;
// /metrics serves them next to vitals' (client_golang's Go and process
// collectors are welcome too: see [MetricsGatherers] for which copy of an
// overlapping family is served).
func (s *Service) Registry() *prometheus.Registry { return s.registry }

// Err reports the parts that failed to start (nil when none did). Each was
// logged at Warn, through slog.Default without [WithLogger]; the service
// runs without them.
func (s *Service) Err() error { return errors.Join(s.errs...) }

// Snapshot writes a flight-recorder snapshot into the trace directory, for
// example when a request was slow. It is rate-limited (by default one a
// minute: later calls return a [tracecap.RateLimitError] at no cost) and
// fails without [FlightRecorder] and [TraceDir].
func (s *Service) Snapshot(reason string) (tracecap.Snapshot, error) {
	if s.recorder == nil {
		return tracecap.Snapshot{}, errors.New("vitals: no flight recorder (use vitals.FlightRecorder)")
	}
	return s.recorder.Snapshot(reason)
}

// stop ends the background work once: admin server, watchdog, flight
// recorder, metrics. Setup's settings stay.
func (s *Service) stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stopParts() })
	return s.stopErr
}

func (s *Service) stopParts() error {
	var errs []error
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.admin.Shutdown(ctx); err != nil {
			errs = append(errs, err, s.admin.Close())
		}
		cancel()
	}
	if s.dashboard != nil {
		errs = append(errs, s.dashboard.Close())
	}
	if s.watchdog != nil {
		errs = append(errs, s.watchdog.Close())
	}
	errs = append(errs, s.stopIncidents())
	if s.recorder != nil {
		errs = append(errs, s.recorder.Close())
	}
	if s.collector != nil {
		errs = append(errs, s.collector.Close())
	}
	if s.sampler != nil {
		errs = append(errs, s.sampler.Close())
	}
	s.throttleOnce.Do(func() {}) // no reader opens after this point
	if s.throttle != nil {
		errs = append(errs, s.throttle.Close())
	}
	return errors.Join(errs...)
}

// Close stops everything Start started and restores the runtime settings
// Setup changed (see [Report.Undo]). It waits up to 5 s for admin requests
// in flight, which it cancels. It is idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		s.closeErr = s.stop()
		s.report.Undo()
	})
	return s.closeErr
}

// The hooks below feed the metrics sampler (at most once a second, on
// scrape) and /debug/vitals. Each is a few cheap reads.

func (s *Service) settings() metrics.Settings {
	st := metrics.Settings{GOMAXPROCS: runtime.GOMAXPROCS(0), GOMEMLIMIT: debug.SetMemoryLimit(-1)}
	if d, ok := s.report.Decision(SettingGOMAXPROCS); ok {
		st.GOMAXPROCSSource = d.Source
	}
	if d, ok := s.report.Decision(SettingGOMEMLIMIT); ok {
		st.GOMEMLIMITSource = d.Source
	}
	return st
}

func (s *Service) watchdogState() metrics.WatchdogState {
	if s.watchdog == nil {
		return metrics.WatchdogState{}
	}
	w := s.watchdog.State()
	return metrics.WatchdogState{Baseline: w.Baseline, Goroutines: w.Current, Suspected: w.Suspected, Reports: w.Reports}
}

func (s *Service) checks() []metrics.Check {
	rs := checklist.Evaluate(s.facts())
	out := make([]metrics.Check, len(rs))
	for i, r := range rs {
		out[i] = metrics.Check{Name: r.ID, OK: r.OK(), Detail: r.Evidence}
	}
	return out
}

var factSamples = []string{"/gc/finalizers/executed:finalizers", "/gc/heap/live:bytes"}

// facts gathers the checklist's inputs from the report, the runtime and the
// parts Start runs.
func (s *Service) facts() checklist.Facts {
	r := s.report
	f := checklist.Facts{
		GOMAXPROCS:        runtime.GOMAXPROCS(0),
		GOMEMLIMIT:        debug.SetMemoryLimit(-1),
		CPULimitKnown:     r.Cgroup.CPU.Unknown == "",
		CPULimitSource:    r.Cgroup.CPU.QuotaPath,
		Affinity:          r.Cgroup.CPU.Affinity,
		MemoryLimitKnown:  r.Cgroup.Memory.Unknown == "",
		MemoryLimitSource: r.Cgroup.Memory.MaxPath,
	}
	if r.Cgroup.CPU.Limited {
		f.CPULimit = r.Cgroup.CPU.Quota
	}
	if r.Cgroup.Memory.Limited {
		f.MemoryLimit = r.Cgroup.Memory.Max
	}
	if d, ok := r.Decision(SettingGOMAXPROCS); ok {
		f.GOMAXPROCSSource = d.Source
	}
	if d, ok := r.Decision(SettingGOTRACEBACK); ok {
		f.GOTRACEBACK = d.New
	}
	if s.admin != nil && s.adminErr == nil {
		f.AdminAddr = s.admin.Addr()
		f.AdminAuth = s.admin.Authenticated()
		f.MetricsKnown, f.MetricsExported = true, s.collector != nil
	}
	samples := make([]rtmetrics.Sample, len(factSamples))
	for i, n := range factSamples {
		samples[i].Name = n
	}
	rtmetrics.Read(samples)
	if samples[0].Value.Kind() == rtmetrics.KindUint64 {
		f.FinalizersKnown, f.FinalizersExecuted = true, samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == rtmetrics.KindUint64 {
		f.HeapLive = samples[1].Value.Uint64()
	}
	if s.watchdog != nil {
		w := s.watchdog.State()
		f.GoroutinesKnown = w.Baseline > 0
		f.Goroutines, f.GoroutineBaseline, f.LeakSuspected = w.Current, w.Baseline, w.Suspected
	}
	s.liveFacts(&f)
	return f
}

// minLevel passes on records at or above its level only.
type minLevel struct {
	min slog.Level
	slog.Handler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.min, h.Handler.WithAttrs(as)}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.min, h.Handler.WithGroup(name)}
}
