package tracecap

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/tracecheck"
)

func newRecorder(t *testing.T, opts ...Option) *Recorder {
	t.Helper()
	r, err := NewRecorder(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func TestSnapshotReadableWithReason(t *testing.T) {
	busy(t)
	d, err := OpenDir(t.TempDir(), 5, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, WithDir(d), WithMinAge(time.Second), WithMaxBytes(4<<20))
	time.Sleep(50 * time.Millisecond)
	s, err := r.Snapshot("slow request")
	if err != nil {
		t.Fatal(err)
	}
	if s.Bytes == 0 || s.Reason != "slow request" {
		t.Errorf("snapshot = %+v", s)
	}
	res, err := tracecheck.ReadFile(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range res.Logs["vitals.snapshot"] {
		found = found || m == "slow request"
	}
	if !found {
		t.Errorf("reason not logged in trace; logs %v", res.Logs)
	}
}

func TestSnapshotRateLimited(t *testing.T) {
	d, err := OpenDir(t.TempDir(), 5, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, WithDir(d)) // default: one a minute
	if _, err := r.Snapshot("first"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Snapshot("second")
	var rl *RateLimitError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rl) {
		t.Fatalf("err = %v, want a RateLimitError", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %v, want (0, 1m]", rl.RetryAfter)
	}
	if _, err := r.SnapshotTo(&bytes.Buffer{}, "third"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("SnapshotTo err = %v, want rate limited too", err)
	}
	if n := len(d.Files()); n != 1 {
		t.Errorf("%d files written, want 1", n)
	}
}

func TestSnapshotToWriter(t *testing.T) {
	busy(t)
	r := newRecorder(t, WithMinInterval(0))
	var buf bytes.Buffer
	n, err := r.SnapshotTo(&buf, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("n = %d, buffer %d", n, buf.Len())
	}
	if _, err := tracecheck.Read(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotNotRunning(t *testing.T) {
	d, err := OpenDir(t.TempDir(), 5, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRecorder(WithDir(d))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Snapshot("x"); !errors.Is(err, ErrNotRecording) {
		t.Errorf("err = %v, want ErrNotRecording", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close of a stopped recorder: %v", err)
	}
}

func TestOnlyOneRecorder(t *testing.T) {
	newRecorder(t)
	other, err := NewRecorder()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(); err == nil {
		other.Close()
		t.Fatal("second flight recorder started")
	}
}

// TestRotationThousandSnapshots takes 1,000 real flight-recorder snapshots
// into a directory capped at 5 files and 20 MB and checks the disk after each
// one. Parsing every snapshot would take minutes under -race, so every 50th
// and the survivors are read back; the other tests read every file they
// write.
func TestRotationThousandSnapshots(t *testing.T) {
	const (
		maxFiles = 5
		maxBytes = 20 << 20
		n        = 1000
	)
	path := t.TempDir()
	d, err := OpenDir(path, maxFiles, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder(t, WithDir(d), WithMinInterval(0), WithMinAge(100*time.Millisecond))
	var total int64
	for i := range n {
		s, err := r.Snapshot(fmt.Sprint("n", i))
		if err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		total += s.Bytes
		if f, b := usageOnDisk(t, path); f > maxFiles || b > maxBytes {
			t.Fatalf("after snapshot %d: %d files, %d bytes; caps %d, %d", i, f, b, maxFiles, maxBytes)
		}
		if i%50 != 0 {
			continue
		}
		if _, err := tracecheck.ReadFile(s.Path); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
	}
	t.Logf("%d snapshots, %d bytes written in total", n, total)
	if f, _ := usageOnDisk(t, path); f != maxFiles {
		t.Errorf("%d files at the end, want %d", f, maxFiles)
	}
	for _, f := range d.Files() {
		if _, err := tracecheck.ReadFile(f); err != nil {
			t.Error(err)
		}
	}
}

// withCheckEvery sets how often the goroutine ceiling is checked.
func withCheckEvery(d time.Duration) Option {
	return optionFunc(func(c *recorderConfig) { c.checkEvery = d })
}

// spawnParked starts n goroutines that wait until the returned func is
// called.
func spawnParked(n int) (release func()) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go func() { defer wg.Done(); <-stop }()
	}
	return func() { close(stop); wg.Wait() }
}

// waitStatus polls r.Status until ok holds, for at most 10 s.
func waitStatus(t *testing.T, r *Recorder, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := r.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s: status %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGoroutineCeiling crosses a small ceiling both ways: above it the ring
// stops and snapshots return the trace held from the crossing (marked in
// the trace); below 3/4 of it the ring records again.
func TestGoroutineCeiling(t *testing.T) {
	busy(t)
	d, err := OpenDir(t.TempDir(), 5, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	ceiling := runtime.NumGoroutine() + 200
	r := newRecorder(t, WithDir(d), WithMinInterval(0), WithGoroutineCeiling(ceiling), WithMaxBytes(4<<20), withCheckEvery(5*time.Millisecond))
	if st := r.Status(); !st.Started || !st.Recording || st.Paused != "" || st.Ceiling != ceiling {
		t.Fatalf("after Start: %+v", st)
	}

	release := spawnParked(400)
	st := waitStatus(t, r, "pause", func(s Status) bool { return !s.Recording })
	if !st.Started || st.Goroutines <= ceiling || st.HeldBytes == 0 || st.PausedAt.IsZero() ||
		!strings.Contains(st.Paused, fmt.Sprintf("over the ceiling of %d", ceiling)) {
		t.Errorf("paused status %+v", st)
	}
	if r.Running() {
		t.Error("Running() while paused")
	}
	for i := range 2 { // the held trace is given out every time, to writers and files
		var buf bytes.Buffer
		n, err := r.SnapshotTo(&buf, "while paused")
		if err != nil || n != int64(st.HeldBytes) || buf.Len() != st.HeldBytes {
			t.Fatalf("snapshot %d while paused: %d bytes, %v; held %d", i, n, err, st.HeldBytes)
		}
		res, err := tracecheck.Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Logs["vitals.pause"]; len(got) != 1 || !strings.Contains(got[0], "goroutines, over the ceiling") {
			t.Errorf("pause not logged in the held trace: %v", res.Logs)
		}
	}
	s, err := r.Snapshot("to a file")
	if err != nil || s.Bytes != int64(st.HeldBytes) {
		t.Fatalf("Snapshot while paused = %+v, %v", s, err)
	}
	if _, err := tracecheck.ReadFile(s.Path); err != nil {
		t.Fatal(err)
	}

	release()
	st = waitStatus(t, r, "resume", func(s Status) bool { return s.Recording })
	if st.Paused != "" || st.HeldBytes != 0 {
		t.Errorf("resumed status %+v", st)
	}
	var buf bytes.Buffer
	if _, err := r.SnapshotTo(&buf, "resumed"); err != nil {
		t.Fatal(err)
	}
	res, err := tracecheck.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Logs["vitals.pause"]) != 0 || len(res.Logs["vitals.snapshot"]) != 1 {
		t.Errorf("a snapshot after the resume is of the new ring: logs %v", res.Logs)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Status(); st.Started || st.Recording || st.Paused != "" {
		t.Errorf("after Close: %+v", st)
	}
}

// TestStartAboveCeiling: a Recorder started above its ceiling holds no
// trace, says so, and starts recording once the count falls.
func TestStartAboveCeiling(t *testing.T) {
	release := spawnParked(300)
	defer func() {
		if release != nil {
			release()
		}
	}()
	ceiling := runtime.NumGoroutine() - 100
	r := newRecorder(t, WithMinInterval(0), WithGoroutineCeiling(ceiling), withCheckEvery(5*time.Millisecond))
	if st := r.Status(); !st.Started || st.Recording || st.HeldBytes != 0 || !strings.Contains(st.Paused, "over the ceiling") {
		t.Fatalf("started above the ceiling: %+v", st)
	}
	_, err := r.SnapshotTo(&bytes.Buffer{}, "x")
	if !errors.Is(err, ErrNotRecording) || !strings.Contains(err.Error(), "no trace held") {
		t.Errorf("snapshot with nothing held: %v", err)
	}
	release()
	release = nil
	waitStatus(t, r, "start below the ceiling", func(s Status) bool { return s.Recording })
	if _, err := r.SnapshotTo(&bytes.Buffer{}, "x"); err != nil {
		t.Error(err)
	}
}

func TestGoroutineCeilingNegative(t *testing.T) {
	if _, err := NewRecorder(WithGoroutineCeiling(-1)); err == nil || !strings.Contains(err.Error(), "ceiling") {
		t.Errorf("err = %v", err)
	}
}

// TestCheckGoroutinesNow applies the ceiling at once, without waiting for
// the periodic check, both ways.
func TestCheckGoroutinesNow(t *testing.T) {
	r := newRecorder(t, WithMinInterval(0), WithGoroutineCeiling(runtime.NumGoroutine()+100), withCheckEvery(time.Hour))
	release := spawnParked(200)
	r.CheckGoroutines()
	if st := r.Status(); st.Recording || st.HeldBytes == 0 {
		release()
		t.Fatalf("not paused by CheckGoroutines: %+v", st)
	}
	release()
	r.CheckGoroutines()
	if st := r.Status(); !st.Recording || st.Paused != "" {
		t.Fatalf("not resumed by CheckGoroutines: %+v", st)
	}
}
