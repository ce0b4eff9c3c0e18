package tracecap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/trace"
	"sync"
	"time"
)

// ErrRateLimited is matched (errors.Is) by the error a [Recorder] returns when
// a snapshot comes sooner than its minimum interval after the previous one;
// the error is a [*RateLimitError] saying when to retry.
var ErrRateLimited = errors.New("tracecap: snapshot rate limited")

// ErrNotRecording is returned by snapshots of a [Recorder] that is not
// started, or closed.
var ErrNotRecording = errors.New("tracecap: flight recorder is not running")

// RateLimitError is the error of a rate-limited snapshot.
type RateLimitError struct {
	// RetryAfter is how long until the next snapshot is allowed.
	RetryAfter time.Duration
}

// Error says when the next snapshot is allowed.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("tracecap: snapshot rate limited: retry in %v", e.RetryAfter.Round(time.Second))
}

// Is reports whether target is [ErrRateLimited].
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Option configures a [Recorder].
type Option interface{ apply(*recorderConfig) }

type recorderConfig struct {
	minAge      time.Duration
	maxBytes    uint64
	dir         *Dir
	minInterval time.Duration
	logger      *slog.Logger
	ceiling     int
	checkEvery  time.Duration // how often the goroutine count is read
}

// DefaultGoroutineCeiling is the goroutine count above which a [Recorder]
// pauses its ring (see [WithGoroutineCeiling]).
//
// Why 20,000: once a second the runtime's tracer walks every goroutine that
// has not run since its last pass (suspending each one and recording its
// stack), and while it walks, a stop-the-world (every GC cycle, every
// goroutine profile) can wait for it. Measured on Go 1.26 and 1.27 with
// GOMAXPROCS 2, two GC cycles a second for 10 s: the longest wait of a GC's
// stop was 0.1-0.9 ms at 10k-20k parked goroutines with the recorder on,
// 3.7 ms at 30k, 5.2 ms at 50k and 10.5 ms at 100k (0.3 ms at 100k with it
// off); an idle process at 100k spent 90 ms more CPU a second with the
// recorder than without (22 ms at 20k). bench/incident's
// BenchmarkCapturePause and BENCHMARKS.md have the capture pauses.
const DefaultGoroutineCeiling = 20000

// goroutineCheck is how often a Recorder with a ceiling reads the goroutine
// count (one runtime.NumGoroutine call, a few nanoseconds).
const goroutineCheck = 500 * time.Millisecond

type optionFunc func(*recorderConfig)

func (f optionFunc) apply(c *recorderConfig) { f(c) }

// WithMinAge sets how much recent history the ring keeps at least (default
// 10 s, as runtime/trace). Longer windows cost memory: see [WithMaxBytes].
func WithMinAge(d time.Duration) Option {
	return optionFunc(func(c *recorderConfig) { c.minAge = d })
}

// WithMaxBytes caps the ring's memory (default 10 MiB, as runtime/trace); it
// wins over [WithMinAge] when both cannot hold. A snapshot file is at most
// about this size.
func WithMaxBytes(n uint64) Option {
	return optionFunc(func(c *recorderConfig) { c.maxBytes = n })
}

// WithDir makes [Recorder.Snapshot] write into dir. Without it, Snapshot
// fails and only [Recorder.SnapshotTo] works.
func WithDir(dir *Dir) Option {
	return optionFunc(func(c *recorderConfig) { c.dir = dir })
}

// WithMinInterval sets the minimum time between two snapshots (default one
// minute). Zero disables the limit; that is meant for tests.
func WithMinInterval(d time.Duration) Option {
	return optionFunc(func(c *recorderConfig) { c.minInterval = d })
}

// WithGoroutineCeiling pauses the ring while the process has more than n
// goroutines (default [DefaultGoroutineCeiling]; 0 never pauses). Above it the
// runtime's tracer costs CPU in proportion to the goroutines and can hold off
// the process's stop-the-world pauses by milliseconds: see
// [DefaultGoroutineCeiling] for the measurements.
//
// When the count crosses n, the Recorder takes the ring into memory (at most
// MaxBytes, freed by the runtime as the ring stops), stops the runtime's
// recorder and logs why; snapshots then return that held trace, which ends
// at the moment of the crossing: the seconds before a goroutine explosion.
// The ring starts again, empty, once the count is below 3/4 of n. The count
// is read every 500 ms; [Recorder.Status] says whether the ring is paused.
func WithGoroutineCeiling(n int) Option {
	return optionFunc(func(c *recorderConfig) { c.ceiling = n })
}

// WithLogger logs every snapshot (Info) and failure (Warn) to l. The default
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *recorderConfig) { c.logger = l })
}

// Recorder is an always-on execution-trace ring (a
// [runtime/trace.FlightRecorder]) with rate-limited snapshots. While started,
// the runtime tracer runs, which costs a few percent of CPU, plus the ring's
// memory (MaxBytes); above a goroutine ceiling the ring pauses (see
// [WithGoroutineCeiling]). Only one Recorder can run in a process.
type Recorder struct {
	cfg recorderConfig

	mu      sync.Mutex // guards fr's Start/Stop and the fields below
	fr      *trace.FlightRecorder
	started bool      // Start was called and Close was not
	running bool      // the runtime's recorder runs (fr != nil)
	last    time.Time // last snapshot (allowed or attempted successfully)
	pause   pauseState
	stop    chan struct{} // closes the goroutine-count watcher
	watcher sync.WaitGroup
	snapMu  sync.Mutex
}

// pauseState is why a started Recorder is not recording.
type pauseState struct {
	why        string
	at         time.Time
	goroutines int
	held       []byte // the ring at the moment of the pause, or nil
}

// Status is a Recorder's state, for status pages and bundle manifests.
type Status struct {
	// Started is true between Start and Close.
	Started bool `json:"started"`
	// Recording is true while the runtime's flight recorder runs.
	Recording bool `json:"recording"`
	// Paused says why a started Recorder is not recording ("" otherwise).
	Paused string `json:"paused,omitempty"`
	// PausedAt is when it paused.
	PausedAt time.Time `json:"paused_at,omitzero"`
	// Goroutines is the goroutine count that paused it.
	Goroutines int `json:"goroutines,omitempty"`
	// HeldBytes is the size of the trace held from the moment of the pause,
	// which snapshots return while paused (0: none is held).
	HeldBytes int `json:"held_bytes,omitempty"`
	// Ceiling is the goroutine ceiling (0: none).
	Ceiling int `json:"goroutine_ceiling"`
}

// Snapshot describes one written snapshot.
type Snapshot struct {
	Path   string    `json:"path,omitempty"`
	Bytes  int64     `json:"bytes"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

// NewRecorder validates the options and returns a stopped Recorder.
func NewRecorder(opts ...Option) (*Recorder, error) {
	cfg := recorderConfig{minInterval: time.Minute, ceiling: DefaultGoroutineCeiling, checkEvery: goroutineCheck}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.minAge < 0 {
		return nil, fmt.Errorf("tracecap: min age %v must not be negative", cfg.minAge)
	}
	if cfg.minInterval < 0 {
		return nil, fmt.Errorf("tracecap: min interval %v must not be negative", cfg.minInterval)
	}
	if cfg.ceiling < 0 {
		return nil, fmt.Errorf("tracecap: goroutine ceiling %d must not be negative", cfg.ceiling)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{cfg: cfg}, nil
}

// Start starts the ring. It fails if another flight recorder runs in the
// process. Starting a started Recorder is a no-op. With more goroutines than
// the ceiling ([WithGoroutineCeiling]) the Recorder starts paused, holding no
// trace, and the ring starts once the count falls below 3/4 of it.
func (r *Recorder) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	if n := runtime.NumGoroutine(); r.cfg.ceiling > 0 && n > r.cfg.ceiling {
		r.pause = pauseState{why: r.overCeiling(n), at: time.Now(), goroutines: n}
		r.cfg.logger.Info("tracecap: flight recorder paused", "reason", r.pause.why)
	} else if err := r.startRing(); err != nil {
		return err
	}
	r.started = true
	if r.cfg.ceiling > 0 {
		r.stop = make(chan struct{})
		r.watcher.Add(1)
		go r.watch(r.stop)
	}
	return nil
}

// startRing starts the runtime's recorder; r.mu is held.
func (r *Recorder) startRing() error {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: r.cfg.minAge, MaxBytes: r.cfg.maxBytes})
	if err := fr.Start(); err != nil {
		return fmt.Errorf("tracecap: start flight recorder: %w", err)
	}
	r.fr = fr
	r.running = true
	r.pause = pauseState{}
	return nil
}

func (r *Recorder) overCeiling(n int) string {
	return fmt.Sprintf("%d goroutines, over the ceiling of %d (the tracer's per-goroutine work would delay the process's stop-the-world pauses)", n, r.cfg.ceiling)
}

// watch reads the goroutine count every checkEvery and pauses or resumes
// the ring across the ceiling, until stop is closed.
func (r *Recorder) watch(stop chan struct{}) {
	defer r.watcher.Done()
	t := time.NewTicker(r.cfg.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		r.CheckGoroutines()
	}
}

// CheckGoroutines applies the goroutine ceiling now rather than at the next
// periodic check: it pauses the ring if the count is over the ceiling, or
// starts it again below 3/4 of it. A caller about to snapshot or profile a
// process that may have just grown (an incident capture) calls it first, so
// its own stop-the-world pauses do not wait on the tracer. It costs one
// runtime.NumGoroutine call; pausing costs a snapshot of the ring into
// memory. Without a ceiling, or on a Recorder not started, it does nothing.
func (r *Recorder) CheckGoroutines() {
	if r.cfg.ceiling <= 0 {
		return
	}
	n := runtime.NumGoroutine()
	switch {
	case n > r.cfg.ceiling:
		r.pauseRing(n)
	case n < r.cfg.ceiling/4*3:
		r.resumeRing(n)
	}
}

// pauseRing keeps the ring in memory and stops the runtime's recorder, if
// it runs.
func (r *Recorder) pauseRing(n int) {
	r.snapMu.Lock() // a snapshot in progress finishes first
	defer r.snapMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || !r.running {
		return
	}
	why := r.overCeiling(n)
	trace.Log(context.Background(), "vitals.pause", why)
	var buf bytes.Buffer
	var held []byte
	if _, err := r.fr.WriteTo(&buf); err != nil {
		r.cfg.logger.Warn("tracecap: flight recorder paused without keeping its trace", "err", err)
	} else {
		held = buf.Bytes()
	}
	r.fr.Stop()
	r.fr, r.running = nil, false
	r.pause = pauseState{why: why, at: time.Now(), goroutines: n, held: held}
	r.cfg.logger.Info("tracecap: flight recorder paused", "reason", why, "held_bytes", len(held))
}

// resumeRing starts the runtime's recorder again after a pause. A failure
// (another trace running) is retried at the next check.
func (r *Recorder) resumeRing(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.running {
		return
	}
	if err := r.startRing(); err != nil {
		r.pause.why = fmt.Sprintf("paused at %d goroutines; restart failed at %d: %v", r.pause.goroutines, n, err)
		return
	}
	r.cfg.logger.Info("tracecap: flight recorder resumed", "goroutines", n)
}

// Running reports whether the ring is recording: false before Start, after
// Close, and while paused above the goroutine ceiling.
func (r *Recorder) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// Status reports whether the Recorder is started, recording or paused, and
// why. It costs a lock.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Status{
		Started: r.started, Recording: r.running, Paused: r.pause.why, PausedAt: r.pause.at,
		Goroutines: r.pause.goroutines, HeldBytes: len(r.pause.held), Ceiling: r.cfg.ceiling,
	}
}

// Dir returns the directory snapshots go to, or nil.
func (r *Recorder) Dir() *Dir { return r.cfg.dir }

// Close stops the ring, waiting for a snapshot in progress, and lets go of a
// held trace. It is idempotent; a closed Recorder can be started again.
func (r *Recorder) Close() error {
	r.mu.Lock()
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		r.watcher.Wait()
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = false
	r.pause = pauseState{}
	if !r.running {
		return nil
	}
	r.fr.Stop()
	r.running = false
	r.fr = nil
	return nil
}

// admit applies the rate limit and returns the running recorder, or the
// trace held by a pause.
func (r *Recorder) admit() (*trace.FlightRecorder, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running && r.pause.held == nil {
		if r.started {
			return nil, nil, fmt.Errorf("%w: paused, no trace held: %s", ErrNotRecording, r.pause.why)
		}
		return nil, nil, ErrNotRecording
	}
	now := time.Now()
	if r.cfg.minInterval > 0 && !r.last.IsZero() {
		if wait := r.last.Add(r.cfg.minInterval).Sub(now); wait > 0 {
			return nil, nil, &RateLimitError{RetryAfter: wait}
		}
	}
	r.last = now
	if !r.running {
		return nil, r.pause.held, nil
	}
	return r.fr, nil, nil
}

// Snapshot writes the ring's content (the last MinAge or MaxBytes of
// execution) into a new file of the recorder's [Dir], named after reason, and
// returns it. It is rate-limited (see [WithMinInterval]): a call within the
// interval returns a [*RateLimitError] without doing anything. Writing costs
// up to MaxBytes of file and a brief pause of the tracer. While the ring is
// paused above the goroutine ceiling, the trace held from the moment of the
// pause is written instead (see [Recorder.Status]).
func (r *Recorder) Snapshot(reason string) (Snapshot, error) {
	if r.cfg.dir == nil {
		return Snapshot{}, errors.New("tracecap: snapshot: recorder has no directory (use WithDir)")
	}
	r.snapMu.Lock() // before admit: a pause cannot stop the ring under us
	defer r.snapMu.Unlock()
	fr, held, err := r.admit()
	if err != nil {
		return Snapshot{}, err
	}
	// Take the snapshot into memory first: the ring is bounded, and the file
	// then reserves its exact size at once instead of evicting as it grows.
	data := held
	if fr != nil {
		var buf bytes.Buffer
		if err := r.writeRing(fr, &buf, reason); err != nil {
			return Snapshot{}, err
		}
		data = buf.Bytes()
	}
	f, err := r.cfg.dir.Create("flight-" + reason)
	if err != nil {
		r.cfg.logger.Warn("tracecap: flight snapshot failed", "reason", reason, "err", err)
		return Snapshot{}, err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		r.cfg.logger.Warn("tracecap: flight snapshot failed", "reason", reason, "err", err)
		return Snapshot{}, err
	}
	if err := f.Close(); err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Path: f.Name(), Bytes: int64(len(data)), Reason: reason, Time: time.Now()}
	r.cfg.logger.Info("tracecap: flight snapshot", "reason", reason, "path", s.Path, "bytes", s.Bytes)
	return s, nil
}

// SnapshotTo writes the ring's content to w, under the same rate limit as
// [Recorder.Snapshot], and returns the bytes written; while paused, the
// held trace.
func (r *Recorder) SnapshotTo(w io.Writer, reason string) (int64, error) {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	fr, held, err := r.admit()
	if err != nil {
		return 0, err
	}
	if fr == nil {
		n, err := w.Write(held)
		if err != nil {
			err = fmt.Errorf("tracecap: flight snapshot: %w", err)
		}
		return int64(n), err
	}
	cw := &countWriter{w: w}
	err = r.writeRing(fr, cw, reason)
	return cw.n, err
}

func (r *Recorder) writeRing(fr *trace.FlightRecorder, w io.Writer, reason string) error {
	// Mark the moment and the reason in the trace itself, so a reader of the
	// file sees why it was taken (go tool trace: user log "vitals.snapshot").
	trace.Log(context.Background(), "vitals.snapshot", reason)
	if _, err := fr.WriteTo(w); err != nil {
		r.cfg.logger.Warn("tracecap: flight snapshot failed", "reason", reason, "err", err)
		return fmt.Errorf("tracecap: flight snapshot: %w", err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
