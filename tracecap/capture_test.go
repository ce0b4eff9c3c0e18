package tracecap

import (
	"bytes"
	"context"
	"errors"
	"runtime/trace"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/tracecheck"
)

// busy keeps the scheduler doing something so traces have content.
func busy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			ch := make(chan int)
			go func() { ch <- 1 }()
			<-ch
			time.Sleep(time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func TestCaptureReadable(t *testing.T) {
	busy(t)
	var buf bytes.Buffer
	if err := Capture(context.Background(), &buf, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := tracecheck.Read(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestCaptureStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var buf bytes.Buffer
	start := time.Now()
	if err := Capture(ctx, &buf, time.Hour); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("capture ran %v after its context ended", d)
	}
	if _, err := tracecheck.Read(&buf); err != nil {
		t.Errorf("trace cut short by context is unreadable: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestCaptureStopsOnWriteError(t *testing.T) {
	busy(t)
	start := time.Now()
	err := Capture(context.Background(), failWriter{}, time.Hour)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk on fire")) {
		t.Fatalf("err = %v, want the write error", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("capture ran %v after its writer failed", d)
	}
}

func TestCaptureOneAtATime(t *testing.T) {
	var other bytes.Buffer
	if err := trace.Start(&other); err != nil {
		t.Skipf("tracer busy: %v", err)
	}
	defer trace.Stop()
	err := Capture(context.Background(), &bytes.Buffer{}, time.Millisecond)
	if !errors.Is(err, ErrTracing) {
		t.Fatalf("err = %v, want ErrTracing", err)
	}
}

func TestCaptureRejectsBadDuration(t *testing.T) {
	if err := Capture(context.Background(), &bytes.Buffer{}, 0); err == nil {
		t.Fatal("zero duration accepted")
	}
}

func TestCaptureToDir(t *testing.T) {
	busy(t)
	d, err := OpenDir(t.TempDir(), 3, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	path, err := CaptureToDir(context.Background(), d, "slow checkout", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tracecheck.ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestCaptureToDirOutgrowsCap(t *testing.T) {
	busy(t)
	path := t.TempDir()
	d, err := OpenDir(path, 3, 1024) // far smaller than any trace
	if err != nil {
		t.Fatal(err)
	}
	_, err = CaptureToDir(context.Background(), d, "big", time.Hour)
	if !errors.Is(err, ErrDirFull) {
		t.Fatalf("err = %v, want ErrDirFull", err)
	}
	if f, b := usageOnDisk(t, path); f != 0 || b != 0 {
		t.Errorf("%d files, %d bytes left behind", f, b)
	}
}
