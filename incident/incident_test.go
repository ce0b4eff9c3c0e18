package incident_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/incident/inspect"
	"github.com/govitals/vitals/stacks"
	"github.com/govitals/vitals/tracecap"
)

// readBundle opens a bundle and returns its manifest and parts.
func readBundle(t *testing.T, path string) (incident.Manifest, map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open bundle: %v", err)
	}
	defer zr.Close()
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		parts[f.Name] = b
	}
	var man incident.Manifest
	if err := json.Unmarshal(parts[incident.PartManifest], &man); err != nil {
		t.Fatalf("manifest: %v\n%s", err, parts[incident.PartManifest])
	}
	return man, parts
}

// pprofTop runs the real "go tool pprof -top" on a profile.
func pprofTop(t *testing.T, data []byte, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.pb.gz")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{"tool", "pprof", "-top"}, extra...), p)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	return string(out)
}

var sink [][]byte

//go:noinline
func holdHeapForTest(n int) {
	for range n {
		sink = append(sink, make([]byte, 1<<20))
	}
}

func TestManualCaptureBundle(t *testing.T) {
	holdHeapForTest(16)
	defer func() { sink = nil }()
	runtime.GC() // the heap profile shows the last GC's view

	dir := t.TempDir()
	var got []incident.Incident
	var mu sync.Mutex
	m, err := incident.New(dir, incident.OnIncident(func(i incident.Incident) {
		mu.Lock()
		got = append(got, i)
		mu.Unlock()
	}), incident.FlightRecorderOptions(tracecap.WithMaxBytes(1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // some trace in the ring
	inc, err := m.Capture(context.Background(), "test")
	if err != nil {
		t.Fatalf("Capture: %v (%+v)", err, inc)
	}
	if inc.Trigger != incident.Manual || inc.Path == "" || inc.Err != "" {
		t.Fatalf("incident = %+v", inc)
	}
	// Right away (well inside the 10 s ManualInterval): refused.
	if _, err := m.Capture(context.Background(), "again"); !errors.Is(err, incident.ErrRateLimited) {
		t.Errorf("second manual capture: %v, want rate limited", err)
	}
	if !strings.HasPrefix(filepath.Base(inc.Path), "incident-manual-") || !strings.HasSuffix(inc.Path, ".zip") {
		t.Errorf("bundle name %s", inc.Path)
	}
	if tr := incident.TriggerOf(inc.Path); tr != "manual" {
		t.Errorf("TriggerOf = %q", tr)
	}
	man, parts := readBundle(t, inc.Path)
	if man.Schema != incident.Schema || man.Trigger != incident.Manual || man.Reason != "test" {
		t.Errorf("manifest header %+v", man)
	}
	for _, name := range []string{incident.PartTrace, incident.PartHeap, incident.PartGoroutine, incident.PartGoroutines, incident.PartGoroutinesFull} {
		if len(parts[name]) == 0 {
			t.Errorf("part %s missing; parts: %+v", name, man.Parts)
		}
	}
	if _, ok := parts[incident.PartCPU]; ok {
		t.Error("a manual bundle has a CPU profile")
	}
	if man.Versions.Go != runtime.Version() || man.Process.PID != os.Getpid() || man.Runtime["/sched/goroutines:goroutines"] == nil {
		t.Errorf("manifest facts: %+v %+v", man.Versions, man.Process)
	}
	if len(man.Readings) == 0 || man.Readings[0].Name != "go_memory_bytes" {
		t.Errorf("readings %+v", man.Readings)
	}
	// The real tools read every part.
	if top := pprofTop(t, parts[incident.PartHeap], "-sample_index=inuse_space"); !strings.Contains(top, "holdHeapForTest") {
		t.Errorf("heap profile does not name holdHeapForTest:\n%s", top)
	}
	pprofTop(t, parts[incident.PartGoroutine])
	for _, name := range []string{incident.PartGoroutines, incident.PartGoroutinesFull} {
		gs, err := stacks.GroupReader(strings.NewReader(string(parts[name])))
		if err != nil || len(gs) == 0 {
			t.Errorf("stacks cannot read %s: %v", name, err)
		}
	}
	traceOK(t, parts[incident.PartTrace])

	mu.Lock()
	if len(got) != 1 || got[0].Path != inc.Path {
		t.Errorf("OnIncident got %+v", got)
	}
	mu.Unlock()
	if n := m.Count(incident.Manual); n != 1 {
		t.Errorf("Count(Manual) = %d", n)
	}
}

// traceOK checks a trace with the real "go tool trace" (its -d=parsed dump of
// events), which fails on a truncated or corrupt trace.
func traceOK(t *testing.T, data []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flight.trace")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "tool", "trace", "-d=parsed", p).CombinedOutput()
	if err != nil || len(out) == 0 {
		t.Fatalf("go tool trace -d=parsed: %v\n%.2000s", err, out)
	}
}

// parkedForTest blocks until release is closed.
//
//go:noinline
func parkedForTest(release chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-release
}

func TestGoroutineSpikeInProcess(t *testing.T) {
	dir := t.TempDir()
	done := make(chan incident.Incident, 1)
	m, err := incident.New(dir, incident.NoFlightRecorder(), incident.CheckEvery(20*time.Millisecond),
		incident.GoroutineSpike(4, 5*time.Second, 2000), incident.GoroutineBudget(100),
		incident.OnIncident(func(i incident.Incident) { done <- i }))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // a baseline second
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 3000 {
		wg.Add(1)
		go parkedForTest(release, &wg)
	}
	defer func() { close(release); wg.Wait() }()
	var inc incident.Incident
	select {
	case inc = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no goroutine incident within 10 s")
	}
	if inc.Trigger != incident.Goroutines || inc.Err != "" {
		t.Fatalf("incident %+v", inc)
	}
	man, parts := readBundle(t, inc.Path)
	if len(man.Values) != 1 || man.Values[0].Value < 2000 {
		t.Errorf("values %+v", man.Values)
	}
	gs, err := stacks.GroupReader(strings.NewReader(string(parts[incident.PartGoroutines])))
	if err != nil || len(gs) == 0 {
		t.Fatalf("groups: %v", err)
	}
	top := gs[0]
	for _, g := range gs {
		if g.Count > top.Count {
			top = g
		}
	}
	var names []string
	for _, f := range top.Frames {
		names = append(names, f.Func)
	}
	if top.Count < 3000 || !strings.Contains(strings.Join(names, " "), "parkedForTest") {
		for _, f := range top.Frames {
			names = append(names, f.Func)
		}
		t.Errorf("largest group is not parkedForTest: %v", names)
	}
	for _, p := range man.Parts {
		if p.Name == incident.PartGoroutinesFull && !strings.Contains(p.Skipped, "over the budget") {
			t.Errorf("full dump part %+v, want skipped over the budget", p)
		}
	}
	if _, ok := parts[incident.PartTrace]; ok {
		t.Error("a trace without a flight recorder")
	}
}

func TestMemoryTriggerInProcess(t *testing.T) {
	// A GOMEMLIMIT just above the current use makes the memory trigger fire
	// after a modest allocation.
	runtime.GC()
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	dir := t.TempDir()
	done := make(chan incident.Incident, 1)
	m, err := incident.New(dir, incident.NoFlightRecorder(), incident.CheckEvery(10*time.Millisecond),
		incident.MemoryThreshold(0.5), incident.OnIncident(func(i incident.Incident) { done <- i }))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	debug.SetMemoryLimit(int64(st.Sys - st.HeapReleased + 64<<20))
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	holdHeapForTest(64)
	defer func() { sink = nil }()
	var inc incident.Incident
	select {
	case inc = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no memory incident within 10 s")
	}
	if inc.Trigger != incident.Memory {
		t.Fatalf("incident %+v", inc)
	}
	man, parts := readBundle(t, inc.Path)
	if !man.Light || man.Limits.GOMEMLIMIT == 0 || man.Limits.EffectiveMemory == 0 {
		t.Errorf("manifest light=%v limits=%+v", man.Light, man.Limits)
	}
	if v := man.Values[0]; !v.Fired || v.Value < v.Threshold || v.Limit != float64(man.Limits.EffectiveMemory) {
		t.Errorf("value %+v", v)
	}
	if _, ok := parts[incident.PartHeap]; !ok {
		t.Error("no heap profile")
	}
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	m, err := incident.New(dir, incident.NoFlightRecorder(), incident.ManualInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(http.StripPrefix("/inc", m.Handler()))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/inc/capture")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET capture: %d", resp.StatusCode)
	}
	resp, err = http.Post(srv.URL+"/inc/capture?reason=from+test", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var inc incident.Incident
	err = json.NewDecoder(resp.Body).Decode(&inc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || inc.Reason != "from test" {
		t.Fatalf("POST capture: %d %v %+v", resp.StatusCode, err, inc)
	}
	resp, err = http.Get(srv.URL + "/inc/")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Bundles []incident.BundleInfo
		State   incident.State
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Bundles) != 1 || list.Bundles[0].Trigger != "manual" || list.State.Counts["manual"] != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	resp, err = http.Get(srv.URL + "/inc/" + list.Bundles[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || int64(len(b)) != list.Bundles[0].Bytes {
		t.Errorf("download: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
	}
	for _, bad := range []string{"../x.zip", "nope.zip", "%2e%2e%2fetc%2fpasswd"} {
		resp, err = http.Get(srv.URL + "/inc/" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  incident.Option
	}{
		{"zero caps", incident.Caps(0, 1)},
		{"memory threshold > 1", incident.MemoryThreshold(1.5)},
		{"gc threshold 0", incident.GCThreshold(0)},
		{"window too long", incident.Window(2 * time.Minute)},
		{"spike factor 1", incident.GoroutineSpike(1, time.Second, 10)},
		{"negative cooldown", incident.Cooldown(-1)},
		{"rate limit 0", incident.RateLimit(0, time.Second)},
		{"negative budget", incident.GoroutineBudget(-1)},
		{"no signals", incident.OnSignal()},
		{"nil recorder", incident.WithRecorder(nil)},
		{"nil option", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := incident.New(t.TempDir(), tt.opt); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := incident.New(""); err == nil {
		t.Error("New accepted an empty directory")
	}
}

func TestSignalCapture(t *testing.T) {
	done := make(chan incident.Incident, 1)
	m, err := incident.New(t.TempDir(), incident.NoFlightRecorder(), incident.OnSignal(syscall.SIGUSR2),
		incident.OnIncident(func(i incident.Incident) { done <- i }))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	select {
	case inc := <-done:
		if inc.Trigger != incident.Manual || inc.Reason != "signal" || inc.Path == "" {
			t.Errorf("incident %+v", inc)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no capture after SIGUSR2")
	}
}

func TestDirCapsHold(t *testing.T) {
	dir := t.TempDir()
	m, err := incident.New(dir, incident.NoFlightRecorder(), incident.ManualInterval(0), incident.Caps(2, 10<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for range 4 {
		if _, err := m.Capture(context.Background(), "cap"); err != nil {
			t.Fatal(err)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.zip")); len(files) != 2 {
		t.Errorf("%d bundles on disk, want the cap of 2", len(files))
	}
	// A bundle larger than the byte cap is abandoned, not kept in part.
	small, err := incident.New(t.TempDir(), incident.NoFlightRecorder(), incident.Caps(5, 2048))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	inc, err := small.Capture(context.Background(), "too big")
	if err == nil || inc.Path != "" || !strings.Contains(inc.Err, "byte cap") {
		t.Errorf("over the byte cap: %v %+v", err, inc)
	}
	if files, _ := filepath.Glob(filepath.Join(small.Dir().Path(), "*.zip")); len(files) != 0 {
		t.Errorf("a partial bundle was kept: %v", files)
	}
}

func TestContextDisarms(t *testing.T) {
	m, err := incident.New(t.TempDir(), incident.NoFlightRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !m.State().Armed {
		t.Fatal("not armed after Start")
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for m.State().Armed && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if m.State().Armed {
		t.Error("still armed after its context ended")
	}
	if m.Fire(incident.GC, "after the context") {
		t.Error("Fire admitted a capture on a disarmed monitor")
	}
}

// TestTraceHeldAcrossGoroutineCeiling: a capture over the flight recorder's
// goroutine ceiling pauses the ring first; the bundle carries the trace held
// from that moment, says so in the manifest, and "vitals incident" says the
// trace ends before the trigger.
func TestTraceHeldAcrossGoroutineCeiling(t *testing.T) {
	rec, err := tracecap.NewRecorder(tracecap.WithMaxBytes(1<<20), tracecap.WithMinInterval(0),
		tracecap.WithGoroutineCeiling(runtime.NumGoroutine()+500))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	m, err := incident.New(t.TempDir(), incident.WithRecorder(rec), incident.ManualInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // some trace in the ring
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		go parkedForTest(release, &wg)
	}
	defer func() { close(release); wg.Wait() }()
	// No wait for the recorder's own check: the capture applies the ceiling
	// before its trace and profiles.
	inc, err := m.Capture(context.Background(), "after the spike")
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Status()
	if st.Recording {
		t.Fatalf("recorder still recording after a capture over its ceiling: %+v", st)
	}
	man, parts := readBundle(t, inc.Path)
	var tp incident.Part
	for _, p := range man.Parts {
		if p.Name == incident.PartTrace {
			tp = p
		}
	}
	if tp.Bytes != int64(st.HeldBytes) || !strings.Contains(tp.Note, "flight recorder paused at") ||
		!strings.Contains(tp.Note, "over the ceiling") || len(parts[incident.PartTrace]) != st.HeldBytes {
		t.Errorf("trace part %+v; held %d bytes", tp, st.HeldBytes)
	}
	traceOK(t, parts[incident.PartTrace])
	b, err := inspect.Open(inc.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out strings.Builder
	if err := inspect.WriteText(&out, inspect.Summarize(b, 5)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "the trace ends there") || !strings.Contains(out.String(), "before the flight recorder paused") {
		t.Errorf("vitals incident does not say the trace ends at the pause:\n%s", out.String())
	}
}

// TestGoroutineTextFromProfile: a bundle takes one goroutine profile; its
// text part is derived from the protobuf and keeps what the runtime's own
// text would: counts, stacks and the goroutines' pprof labels.
func TestGoroutineTextFromProfile(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 300 {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("job", "label-for-test"), func(context.Context) {
			parkedForTest(release, &wg)
		})
	}
	defer func() { close(release); wg.Wait() }()
	m, err := incident.New(t.TempDir(), incident.NoFlightRecorder(), incident.ManualInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inc, err := m.Capture(context.Background(), "test")
	if err != nil || inc.Err != "" {
		t.Fatalf("capture: %v %s", err, inc.Err)
	}
	man, parts := readBundle(t, inc.Path)
	text := string(parts[incident.PartGoroutines])
	if !strings.HasPrefix(text, "goroutine profile: total ") || !strings.Contains(text, `"job":"label-for-test"`) {
		t.Errorf("%s is not a debug=1 profile with labels:\n%.600s", incident.PartGoroutines, text)
	}
	gs, err := stacks.GroupReader(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range gs {
		if g.Labels["job"] == "label-for-test" && g.Count >= 300 {
			found = true
		}
	}
	if !found {
		t.Errorf("no group of 300 goroutines labelled job=label-for-test in %s", incident.PartGoroutines)
	}
	for _, p := range man.Parts {
		if p.Name == incident.PartGoroutines && !strings.Contains(p.Note, incident.PartGoroutine) {
			t.Errorf("%s note %q does not say where it came from", p.Name, p.Note)
		}
	}
}
