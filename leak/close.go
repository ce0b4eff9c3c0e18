package leak

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Close tracking: a library registers objects that must be closed; tests
// find out which were not.

var closeTracking atomic.Bool

func init() { closeTracking.Store(testing.Testing()) }

// SetCloseTracking turns [TrackClose] on or off for the whole process and
// returns an undo that restores the previous setting. Tracking is on by
// default in test binaries (testing.Testing) and off otherwise, so library
// code can call TrackClose unconditionally.
func SetCloseTracking(on bool) (undo func()) {
	prev := closeTracking.Swap(on)
	return func() { closeTracking.Store(prev) }
}

type closeRec struct {
	seq       uint64
	kind      string
	goid      uint64
	created   time.Time
	pcs       []uintptr
	closed    atomic.Bool
	collected atomic.Bool
}

var (
	closeSeq atomic.Uint64
	closeMu  sync.Mutex
	openRecs = map[*closeRec]struct{}{}
)

func noop() {}

// TrackClose registers obj as a resource that must be closed and returns the
// function to call when it is (typically from obj's Close; calling it more
// than once is fine). kind names the object in reports ("*db.Conn").
// [Check], [VerifyClosed] and [VerifyTestMain] report each tracked object
// that was not closed, with the stack that created it, and say whether the
// garbage collector already found it unreachable (runtime.AddCleanup: obj
// is never resurrected, unlike with a finalizer).
//
// Cost when tracking is on (test binaries): one stack capture (32 PCs), a
// goroutine-ID lookup (a one-goroutine runtime.Stack), a runtime.AddCleanup
// and a mutex-guarded map insert: a few microseconds and ~260 bytes in 8
// allocations per object (BenchmarkTrackClose); symbolization happens only
// when reporting. When tracking is off (production, by default) it returns a
// shared no-op after one atomic load.
func TrackClose[T any](obj *T, kind string) (closed func()) {
	if obj == nil || !closeTracking.Load() {
		return noop
	}
	r := &closeRec{seq: closeSeq.Add(1), kind: kind, goid: curID(), created: time.Now()}
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	r.pcs = slices.Clone(pcs[:n])
	closeMu.Lock()
	openRecs[r] = struct{}{}
	closeMu.Unlock()
	runtime.AddCleanup(obj, func(r *closeRec) {
		if !r.closed.Load() {
			r.collected.Store(true)
		}
	}, r)
	return func() {
		if r.closed.Swap(true) {
			return
		}
		closeMu.Lock()
		delete(openRecs, r)
		closeMu.Unlock()
	}
}

func closeMark() uint64 { return closeSeq.Load() }

// VerifyClosed reports, through t.Errorf, every object registered with
// [TrackClose] that has not been closed (whether still reachable or already
// garbage collected), with the stack that created it. Each object is
// reported once. It runs one garbage collection when something is open, to
// tell collected objects from reachable ones.
func VerifyClosed(t TestingT) {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	verifyClosedSince(t, 0)
}

func verifyClosedSince(t TestingT, mark uint64) {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	name := ""
	if n, ok := t.(namer); ok {
		name = n.Name()
	}
	if err := unclosedError(mark, name); err != nil {
		t.Errorf("%v", err)
	}
}

// unclosedError collects and forgets open records created after mark,
// skipping those created on the goroutine of another observed test.
func unclosedError(mark uint64, checker string) error {
	closeMu.Lock()
	n := len(openRecs)
	closeMu.Unlock()
	if n == 0 {
		return nil
	}
	flushCleanups()
	closeMu.Lock()
	var rs []*closeRec
	for r := range openRecs {
		if r.seq <= mark || r.closed.Load() {
			continue
		}
		if checker != "" {
			if other, ok := observedName(r.goid); ok && other != checker && !strings.HasPrefix(other, checker+"/") {
				continue
			}
		}
		rs = append(rs, r)
		delete(openRecs, r)
	}
	closeMu.Unlock()
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b *closeRec) int { return cmp.Compare(a.seq, b.seq) })
	var b strings.Builder
	fmt.Fprintf(&b, "leak: %d tracked %s never closed", len(rs), plural(len(rs), "object"))
	for i, r := range rs {
		what := "still open"
		if r.collected.Load() {
			what = "garbage collected without Close"
		}
		fmt.Fprintf(&b, "\n\n[%d/%d] %s, %s, created in goroutine %d", i+1, len(rs), r.kind, what, r.goid)
		if n, ok := observedName(r.goid); ok {
			fmt.Fprintf(&b, " (%s)", n)
		}
		b.WriteString(":\n")
		frames := runtime.CallersFrames(r.pcs)
		for {
			f, more := frames.Next()
			if f.Function != "" {
				fmt.Fprintf(&b, "    %s\n        %s:%d\n", f.Function, f.File, f.Line)
			}
			if !more || strings.HasPrefix(f.Function, "testing.") {
				break
			}
		}
	}
	return fmt.Errorf("%s", strings.TrimRight(b.String(), "\n"))
}

// flushCleanups runs a GC so that unreachable tracked objects have their
// cleanups queued, then waits (at most 100 ms) for a sentinel cleanup
// queued after them by a second GC.
func flushCleanups() {
	//vitals:ignore gccall test-time only: cleanups of unreachable tracked objects run after a collection
	runtime.GC()
	done := make(chan struct{})
	func() {
		s := new([16]byte)
		runtime.AddCleanup(s, func(c chan struct{}) { close(c) }, done)
	}()
	//vitals:ignore gccall test-time only: a second cycle queues the sentinel cleanup after the tracked ones
	runtime.GC()
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	runtime.Gosched()
}
