// Package tracecap captures Go execution traces without letting them grow
// without bound: one-shot traces with a capped duration, the always-on flight
// recorder ([runtime/trace.FlightRecorder]), and a [Dir] that keeps trace
// files under a file-count and byte cap, removing the oldest first.
//
// A trace records every scheduler, GC and syscall event; a busy server can
// write tens of megabytes a second and tracing costs a few percent of CPU
// while it runs. The flight recorder keeps only the last few seconds in
// memory (10 MiB by default), so it can stay on and be snapshotted when
// something goes wrong.
//
// # Usage examples
//
// A bounded one-shot trace into a rotated directory:
//
//	dir, err := tracecap.OpenDir("/var/tmp/traces", 5, 200<<20)
//	if err != nil { ... }
//	path, err := tracecap.CaptureToDir(ctx, dir, "slow-checkout", 5*time.Second)
//
// The flight recorder, snapshotted when a request is slow:
//
//	rec, err := tracecap.NewRecorder(tracecap.WithDir(dir))
//	if err != nil { ... }
//	if err := rec.Start(); err != nil { ... }
//	defer rec.Close()
//	...
//	if elapsed > time.Second {
//		_, _ = rec.Snapshot("slow-request") // at most one a minute by default
//	}
//
// Read either with "go tool trace FILE" or golang.org/x/exp/trace.
package tracecap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/trace"
	"sync"
	"time"
)

// ErrTracing is returned when an execution trace (runtime/trace.Start) is
// already running in the process: the runtime allows one at a time.
var ErrTracing = errors.New("tracecap: an execution trace is already running")

// Capture writes an execution trace of the whole process to w for d, or until
// ctx is done or a write to w fails, whichever comes first. It returns the
// write error, if any; a trace cut short by ctx is still complete and
// readable. Tracing costs a few percent of CPU and roughly 1-10 MB/s of output
// on a busy process; callers should cap d (the admin server caps it at 30 s
// by default). A running flight recorder does not conflict with Capture.
func Capture(ctx context.Context, w io.Writer, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("tracecap: duration %v must be positive", d)
	}
	ew := &errWriter{w: w, failed: make(chan struct{})}
	if err := trace.Start(ew); err != nil {
		return fmt.Errorf("%w: %v", ErrTracing, err)
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	case <-ew.failed:
		t.Stop()
	}
	trace.Stop()
	return ew.error()
}

// CaptureToDir captures a trace like [Capture] into a new file of dir named
// after reason, and returns the file's path. If the trace outgrows the
// directory's byte cap the file is removed and [ErrDirFull] returned.
func CaptureToDir(ctx context.Context, dir *Dir, reason string, d time.Duration) (string, error) {
	f, err := dir.Create(reason)
	if err != nil {
		return "", err
	}
	if err := Capture(ctx, f, d); err != nil {
		f.Abort()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// errWriter remembers the first write error and signals it, so a capture
// stops at once instead of tracing into a broken writer until d elapses.
type errWriter struct {
	w      io.Writer
	mu     sync.Mutex
	err    error
	failed chan struct{}
}

func (e *errWriter) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
		close(e.failed)
	}
	return n, err
}

func (e *errWriter) error() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return fmt.Errorf("tracecap: write trace: %w", e.err)
	}
	return nil
}
