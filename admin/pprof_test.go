package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/govitals/vitals/stacks"
)

// goTool finds the go command; a missing one skips, or fails under CI=true.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go command not found (CI=true: required)")
		}
		t.Skip("go command not found")
	}
	return p
}

var sink [][]byte

// TestGoToolPprofBasicAuth has the real go tool pprof fetch a CPU profile and
// a heap profile over HTTP with user:pass@ in the URL.
func TestGoToolPprofBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs go tool pprof")
	}
	gocmd := goTool(t)
	s := started(t, WithBasicAuth(testUser, testPass))
	// Something to sample: allocate and spin while the profile runs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			sink = append(sink[:0], make([]byte, 1<<16))
		}
	}()
	for _, tc := range []struct{ name, path string }{
		{"heap", "/debug/pprof/heap"},
		{"cpu", "/debug/pprof/profile?seconds=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := fmt.Sprintf("http://%s:%s@%s%s", testUser, testPass, s.Addr(), tc.path)
			cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer ccancel()
			cmd := exec.CommandContext(cctx, gocmd, "tool", "pprof", "-top", url)
			cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go tool pprof: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "flat%") {
				t.Errorf("no -top table in output:\n%s", out)
			}
		})
	}
	// And without credentials it gets nothing.
	cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer ccancel()
	cmd := exec.CommandContext(cctx, gocmd, "tool", "pprof", "-top", "http://"+s.Addr()+"/debug/pprof/heap")
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("go tool pprof without credentials succeeded:\n%s", out)
	}
}

func TestPprofIndexListsEveryProfile(t *testing.T) {
	s := started(t)
	resp, body := get(t, s, "GET", "/debug/pprof/", noCred)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := []string{"profile", "trace"}
	for _, p := range pprof.Profiles() {
		want = append(want, p.Name()) // goroutineleak too, when the toolchain has it
	}
	for _, n := range want {
		if !contains(body, ">"+n+"</a>") {
			t.Errorf("index lacks %s", n)
		}
	}
	if contains(body, ">cmdline</a>") {
		t.Error("index lists cmdline although it is off")
	}
}

func TestNamedProfiles(t *testing.T) {
	s := started(t, WithGoroutineBudget(1_000_000), WithExpensiveInterval(0))
	tests := []struct {
		path   string
		want   int
		prefix string // of the body, "" for a gzipped profile
	}{
		{"/debug/pprof/heap", 200, ""},
		{"/debug/pprof/heap?gc=1", 200, ""},
		{"/debug/pprof/heap?debug=1", 200, "heap profile:"},
		{"/debug/pprof/allocs", 200, ""},
		{"/debug/pprof/goroutine", 200, ""},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile:"},
		{"/debug/pprof/goroutine?debug=2", 200, "goroutine "},
		{"/debug/pprof/threadcreate?debug=1", 200, "threadcreate profile:"},
		{"/debug/pprof/block", 200, ""},
		{"/debug/pprof/mutex", 200, ""},
		{"/debug/pprof/nosuch", 404, "admin: unknown profile"},
		{"/debug/pprof/cmdline", 404, "admin: cmdline is disabled"},
		{"/debug/pprof/allocs?seconds=0.1", 200, ""},
		{"/debug/pprof/heap?seconds=0.1&debug=1", 400, "admin: seconds= needs the binary format"},
		{"/debug/pprof/profile?seconds=abc", 400, "admin: seconds"},
		{"/debug/pprof/profile?seconds=-1", 400, "admin: seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, s, "GET", tt.path, noCred)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %.200q", resp.StatusCode, tt.want, body)
			}
			if tt.prefix == "" {
				isProfile(t, body)
			} else if !strings.HasPrefix(string(body), tt.prefix) {
				t.Errorf("body starts %.60q, want %q", body, tt.prefix)
			}
		})
	}
}

func TestGoroutineBudget(t *testing.T) {
	s := started(t, WithGoroutineBudget(1))
	resp, body := get(t, s, "GET", "/debug/pprof/goroutine?debug=2", noCred)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !contains(body, "force=1") {
		t.Errorf("over budget: %d %q, want 413 naming force=1", resp.StatusCode, body)
	}
	if resp, _ := get(t, s, "GET", "/debug/vitals/goroutines", noCred); resp.StatusCode != 200 || resp.Header.Get("X-Vitals-Goroutines") != "profile" {
		t.Errorf("grouped page over budget: %d %q, want 200 from the profile", resp.StatusCode, resp.Header.Get("X-Vitals-Goroutines"))
	}
	if resp, _ := get(t, s, "GET", "/debug/pprof/goroutine?debug=2&force=1", noCred); resp.StatusCode != 200 {
		t.Errorf("forced: %d, want 200", resp.StatusCode)
	}
	if resp, _ := get(t, s, "GET", "/debug/pprof/goroutine?debug=1", noCred); resp.StatusCode != 200 {
		t.Errorf("debug=1 is not a full dump: %d, want 200", resp.StatusCode)
	}
}

func symbolTarget() {}

func TestSymbol(t *testing.T) {
	s := started(t)
	pc := reflect.ValueOf(symbolTarget).Pointer()
	req, err := http.NewRequest("POST", "http://"+s.Addr()+"/debug/pprof/symbol", strings.NewReader(fmt.Sprintf("%#x+0x0+nonsense", pc)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := fmt.Fprint(&b, readAll(t, resp)); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("num_symbols: 1\n%#x github.com/govitals/vitals/admin.symbolTarget\n", pc)
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

func TestDurationCapped(t *testing.T) {
	s := started(t, WithMaxDuration(200*time.Millisecond))
	start := time.Now()
	resp, body := get(t, s, "GET", "/debug/pprof/profile?seconds=3600", noCred)
	if resp.StatusCode != 200 || resp.Header.Get("X-Vitals-Duration-Capped") != "1" {
		t.Fatalf("status %d, capped header %q", resp.StatusCode, resp.Header.Get("X-Vitals-Duration-Capped"))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("an hour-long profile capped at 200ms took %v", d)
	}
	isProfile(t, body)
}

var deltaSink []byte

// TestDeltaProfile: allocs?seconds= holds what was allocated during the
// window, with its duration set, as go tool pprof -seconds expects.
func TestDeltaProfile(t *testing.T) {
	s := started(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			deltaSink = deltaAlloc()
			if i%10 == 9 {
				// The allocs profile is as of the last completed GC cycle:
				// make sure cycles complete inside the window, whatever the
				// heap goal (flaky on a loaded machine otherwise).
				//vitals:ignore gccall the test needs completed cycles inside its 0.5 s window
				runtime.GC()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	resp, body := get(t, s, "GET", "/debug/pprof/allocs?seconds=0.5", noCred)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %q", resp.StatusCode, body)
	}
	p, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.DurationNanos < int64(400*time.Millisecond) || p.DurationNanos > int64(10*time.Second) {
		t.Errorf("duration %v, want about 0.5s", time.Duration(p.DurationNanos))
	}
	found := false
	for _, smp := range p.Sample {
		for _, loc := range smp.Location {
			for _, ln := range loc.Line {
				if strings.HasSuffix(ln.Function.Name, "admin.deltaAlloc") && smp.Value[0] > 0 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("the window's allocations by deltaAlloc are not in the delta profile")
	}
}

//go:noinline
func deltaAlloc() []byte { return make([]byte, 64<<10) }

// TestHeapGC covers the three answers of heap?gc=1: a GC completed within
// the freshness window is used as is, otherwise a GC is forced, and a second
// forced GC inside the interval is refused with Retry-After.
func TestHeapGC(t *testing.T) {
	numGC := func() uint64 {
		sm := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(sm)
		return sm[0].Value.Uint64()
	}
	t.Run("fresh cycle used", func(t *testing.T) {
		s := started(t, withGCFresh(time.Minute))
		runtime.GC()
		resp, _ := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("X-Vitals-GC"), "skipped: last cycle ") {
			t.Errorf("after a GC: %d X-Vitals-GC %q, want 200 skipped", resp.StatusCode, resp.Header.Get("X-Vitals-GC"))
		}
		if s.lastForcedGC.Load() != 0 {
			t.Error("a skipped GC counted as forced")
		}
	})
	t.Run("forced then rate-limited", func(t *testing.T) {
		s := started(t, WithExpensiveInterval(0), withGCFresh(0)) // no cycle is fresh enough: every request wants a GC
		before := numGC()
		resp, _ := get(t, s, "GET", "/debug/pprof/allocs?gc=1", noCred)
		if resp.StatusCode != 200 || resp.Header.Get("X-Vitals-GC") != "forced" {
			t.Fatalf("first: %d X-Vitals-GC %q, want 200 forced", resp.StatusCode, resp.Header.Get("X-Vitals-GC"))
		}
		if numGC() == before {
			t.Error("forced GC ran no cycle")
		}
		resp, body := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred)
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || err != nil || ra < 25 || ra > 30 ||
			!strings.HasPrefix(resp.Header.Get("X-Vitals-GC"), "refused") || !contains(body, "leave out gc=1") {
			t.Errorf("second: %d Retry-After %q X-Vitals-GC %q %q, want 429 after ~30 s",
				resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("X-Vitals-GC"), body)
		}
		if resp, _ := get(t, s, "GET", "/debug/pprof/heap", noCred); resp.StatusCode != 200 {
			t.Errorf("heap without gc=1 while forced GCs are limited: %d", resp.StatusCode)
		}
	})
	t.Run("no limit", func(t *testing.T) {
		s := started(t, WithForcedGCInterval(0), WithExpensiveInterval(0), withGCFresh(0))
		for i := range 2 {
			resp, _ := get(t, s, "GET", "/debug/pprof/heap?gc=1", noCred)
			if resp.StatusCode != 200 || resp.Header.Get("X-Vitals-GC") != "forced" {
				t.Errorf("request %d: %d X-Vitals-GC %q, want 200 forced", i, resp.StatusCode, resp.Header.Get("X-Vitals-GC"))
			}
		}
	})
	if _, err := New(WithForcedGCInterval(-time.Second)); err == nil {
		t.Error("negative forced GC interval accepted")
	}
}

// parkedForGroupedPage is where the goroutines of
// TestGroupedPageAboveBudget wait; the page must name it.
func parkedForGroupedPage(stop chan struct{}) { <-stop }

// parkedCount is how many goroutines the runtime's goroutine profile shows
// blocked in fn (matched as a suffix of the frame's function).
func parkedCount(t *testing.T, fn string) int {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	gs, err := stacks.GroupReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range gs {
		if slices.ContainsFunc(g.Frames, func(f stacks.Frame) bool { return strings.HasSuffix(f.Func, fn) }) {
			n += g.Count
		}
	}
	return n
}

// TestGroupedPageAboveBudget: above the goroutine budget the grouped page
// is built from the goroutine profile (no stop-the-world dump) and still
// shows the stack, the count and the labels; force=1 takes the full dump,
// with states and created-by frames.
func TestGroupedPageAboveBudget(t *testing.T) {
	const n = 3000
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(n)
	pprof.Do(context.Background(), pprof.Labels("job", "parked"), func(context.Context) {
		for range n {
			go func() { defer wg.Done(); parkedForGroupedPage(stop) }()
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
	// Every one parked before the page is asked for: a goroutine still on
	// its way into the receive has another stack (CI once saw 2,931).
	waitFor(t, func() bool { return parkedCount(t, "admin.parkedForGroupedPage") == n })
	s := started(t, WithGoroutineBudget(1000))
	type group struct {
		Count     int                     `json:"count"`
		States    map[string]int          `json:"states"`
		Labels    map[string]string       `json:"labels"`
		Frames    []struct{ Func string } `json:"frames"`
		CreatedBy *struct{ Func string }  `json:"created_by"`
	}
	for _, tt := range []struct {
		path, source string
		full         bool
	}{
		{"/debug/vitals/goroutines?format=json", "profile", false},
		{"/debug/vitals/goroutines?format=json&force=1", "full", true},
	} {
		t.Run(tt.source, func(t *testing.T) {
			resp, body := get(t, s, "GET", tt.path, noCred)
			if resp.StatusCode != 200 || resp.Header.Get("X-Vitals-Goroutines") != tt.source {
				t.Fatalf("%d, source %q, want 200 from %s: %.200q", resp.StatusCode, resp.Header.Get("X-Vitals-Goroutines"), tt.source, body)
			}
			var doc struct {
				Groups []group `json:"groups"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			var found *group
			for i, g := range doc.Groups {
				for _, f := range g.Frames {
					if f.Func == "github.com/govitals/vitals/admin.parkedForGroupedPage" {
						found = &doc.Groups[i]
					}
				}
			}
			if found == nil {
				t.Fatalf("no group with the parked function in %d groups", len(doc.Groups))
			}
			if found.Count != n {
				t.Errorf("group of %d, want %d", found.Count, n)
			}
			// The profile always has the labels; a full dump prints them
			// only under GODEBUG=tracebacklabels (Go 1.26) or in modules
			// declaring go 1.27.
			if !tt.full && found.Labels["job"] != "parked" {
				t.Errorf("labels %v, want job=parked", found.Labels)
			}
			if got := found.CreatedBy != nil && found.States["chan receive"] == n; got != tt.full {
				t.Errorf("created by %v, states %v: full detail %v, want %v", found.CreatedBy, found.States, got, tt.full)
			}
		})
	}
}
