package tracecap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
}

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

// WithLogger logs every snapshot (Info) and failure (Warn) to l. The default
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *recorderConfig) { c.logger = l })
}

// Recorder is an always-on execution-trace ring (a
// [runtime/trace.FlightRecorder]) with rate-limited snapshots. While started,
// the runtime tracer runs, which costs a few percent of CPU, plus the ring's
// memory (MaxBytes). Only one Recorder can run in a process.
type Recorder struct {
	cfg recorderConfig

	mu      sync.Mutex // guards fr's Start/Stop and the fields below
	fr      *trace.FlightRecorder
	running bool
	last    time.Time // last snapshot (allowed or attempted successfully)
	snapMu  sync.Mutex
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
	cfg := recorderConfig{minInterval: time.Minute}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.minAge < 0 {
		return nil, fmt.Errorf("tracecap: min age %v must not be negative", cfg.minAge)
	}
	if cfg.minInterval < 0 {
		return nil, fmt.Errorf("tracecap: min interval %v must not be negative", cfg.minInterval)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{cfg: cfg}, nil
}

// Start starts the ring. It fails if another flight recorder runs in the
// process. Starting a running Recorder is a no-op.
func (r *Recorder) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return nil
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: r.cfg.minAge, MaxBytes: r.cfg.maxBytes})
	if err := fr.Start(); err != nil {
		return fmt.Errorf("tracecap: start flight recorder: %w", err)
	}
	r.fr = fr
	r.running = true
	return nil
}

// Running reports whether the ring is recording.
func (r *Recorder) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// Dir returns the directory snapshots go to, or nil.
func (r *Recorder) Dir() *Dir { return r.cfg.dir }

// Close stops the ring, waiting for a snapshot in progress. It is idempotent;
// a closed Recorder can be started again.
func (r *Recorder) Close() error {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return nil
	}
	r.fr.Stop()
	r.running = false
	r.fr = nil
	return nil
}

// admit applies the rate limit and returns the running recorder.
func (r *Recorder) admit() (*trace.FlightRecorder, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return nil, ErrNotRecording
	}
	now := time.Now()
	if r.cfg.minInterval > 0 && !r.last.IsZero() {
		if wait := r.last.Add(r.cfg.minInterval).Sub(now); wait > 0 {
			return nil, &RateLimitError{RetryAfter: wait}
		}
	}
	r.last = now
	return r.fr, nil
}

// Snapshot writes the ring's content (the last MinAge or MaxBytes of
// execution) into a new file of the recorder's [Dir], named after reason, and
// returns it. It is rate-limited (see [WithMinInterval]): a call within the
// interval returns a [*RateLimitError] without doing anything. Writing costs
// up to MaxBytes of file and a brief pause of the tracer.
func (r *Recorder) Snapshot(reason string) (Snapshot, error) {
	if r.cfg.dir == nil {
		return Snapshot{}, errors.New("tracecap: snapshot: recorder has no directory (use WithDir)")
	}
	fr, err := r.admit()
	if err != nil {
		return Snapshot{}, err
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	// Take the snapshot into memory first: the ring is bounded, and the file
	// then reserves its exact size at once instead of evicting as it grows.
	var buf bytes.Buffer
	if err := r.writeRing(fr, &buf, reason); err != nil {
		return Snapshot{}, err
	}
	f, err := r.cfg.dir.Create("flight-" + reason)
	if err != nil {
		r.cfg.logger.Warn("tracecap: flight snapshot failed", "reason", reason, "err", err)
		return Snapshot{}, err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Abort()
		r.cfg.logger.Warn("tracecap: flight snapshot failed", "reason", reason, "err", err)
		return Snapshot{}, err
	}
	if err := f.Close(); err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Path: f.Name(), Bytes: int64(buf.Len()), Reason: reason, Time: time.Now()}
	r.cfg.logger.Info("tracecap: flight snapshot", "reason", reason, "path", s.Path, "bytes", s.Bytes)
	return s, nil
}

// SnapshotTo writes the ring's content to w, under the same rate limit as
// [Recorder.Snapshot], and returns the bytes written.
func (r *Recorder) SnapshotTo(w io.Writer, reason string) (int64, error) {
	fr, err := r.admit()
	if err != nil {
		return 0, err
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
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
