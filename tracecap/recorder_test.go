package tracecap

import (
	"bytes"
	"errors"
	"fmt"
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
