package leak_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/leak"
	"github.com/govitals/vitals/stacks"
)

// parkedForWatchdog is the function the leaked goroutines of these tests
// sit in; reports must name it.
func parkedForWatchdog(ch chan struct{}) { <-ch }

// park starts n goroutines labelled job=leaky, parked until stop is
// called, and waits until they all run.
func park(t testing.TB, n int) (stop func()) {
	ch := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	pprof.Do(context.Background(), pprof.Labels("job", "leaky"), func(context.Context) {
		for range n {
			go func() { started.Done(); parkedForWatchdog(ch) }()
		}
	})
	started.Wait()
	var once sync.Once
	stop = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(stop)
	return stop
}

// suspectNow drives a real watchdog (real goroutine count, real
// snapshots) through a baseline and a suspicion: two windows of one
// sample, each with n more goroutines.
func suspectNow(t *testing.T, n int, opts ...leak.WatchdogOption) leak.Report {
	t.Helper()
	var reps []leak.Report
	w, err := leak.NewWatchdog(append([]leak.WatchdogOption{leak.WarmUp(0), leak.WindowSamples(1), leak.SuspectAfter(2), leak.Slack(50, 0),
		leak.OnReport(func(r leak.Report) { reps = append(reps, r) })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	// Goroutines of an earlier test may still be exiting.
	// The watchdog counts with /sched/goroutines, which can lag
	// NumGoroutine while thousands of goroutines exit: wait for both.
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
	count := func() int {
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			return max(int(s[0].Value.Uint64()), runtime.NumGoroutine())
		}
		return runtime.NumGoroutine()
	}
	for deadline := time.Now().Add(10 * time.Second); count() > 50 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	now := time.Now()
	w.Tick(now) // baseline and its snapshot
	for i := range 2 {
		park(t, n/2)
		w.Tick(now.Add(time.Duration(i+1) * time.Second))
	}
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(reps), w.State())
	}
	if st := w.State(); st.Dumps != 1 {
		t.Errorf("Dumps = %d, want 1 (the suspicion's)", st.Dumps)
	}
	return reps[0]
}

// TestWatchdogSnapshotsManyGoroutines: a leak far above the full-dump
// limit (which used to skip the dump) is reported from the goroutine
// profile, grouped, counted and labelled.
func TestWatchdogSnapshotsManyGoroutines(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	r := suspectNow(t, n)
	if r.DumpSkipped != "" {
		t.Fatalf("no snapshot: %s", r.DumpSkipped)
	}
	if !strings.Contains(r.DetailSkipped, "above the full-dump limit of 1000") {
		t.Errorf("DetailSkipped = %q, want the full-dump limit named", r.DetailSkipped)
	}
	if len(r.Grew) == 0 {
		t.Fatalf("nothing grew:\n%s", r)
	}
	top := r.Grew[0]
	if !hasFunc(top.Group.Frames, "github.com/govitals/vitals/leak_test.parkedForWatchdog") {
		t.Fatalf("largest growth is not the parked function:\n%s", r)
	}
	if got := top.After - top.Before; got != n {
		t.Errorf("grew by %d, want %d", got, n)
	}
	if top.Group.Labels["job"] != "leaky" {
		t.Errorf("labels %v, want job=leaky", top.Group.Labels)
	}
	if top.Group.CreatedBy != nil {
		t.Errorf("created by %v from a profile alone", top.Group.CreatedBy)
	}
}

// TestWatchdogFullDumpDetail: below the full-dump limit the reported
// group also gets its created-by frame and goroutine IDs.
func TestWatchdogFullDumpDetail(t *testing.T) {
	r := suspectNow(t, 200)
	if r.DumpSkipped != "" || r.DetailSkipped != "" || len(r.Grew) == 0 {
		t.Fatalf("report without detail: %+v", r)
	}
	top := r.Grew[0].Group
	if !hasFunc(top.Frames, "github.com/govitals/vitals/leak_test.parkedForWatchdog") {
		t.Fatalf("largest growth is not the parked function:\n%s", r)
	}
	if top.CreatedBy == nil || !strings.HasPrefix(top.CreatedBy.Func, "github.com/govitals/vitals/leak_test.park") || len(top.IDs) == 0 {
		t.Errorf("created by %+v, IDs %v; want leak_test.park and some IDs", top.CreatedBy, top.IDs)
	}
	if !strings.Contains(r.String(), "created by github.com/govitals/vitals/leak_test.park") {
		t.Errorf("report text lacks the creator:\n%s", r)
	}
}

func hasFunc(fs []stacks.Frame, fn string) bool {
	for _, f := range fs {
		if f.Func == fn {
			return true
		}
	}
	return false
}
