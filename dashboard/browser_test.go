package dashboard_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/dashboard"
	"github.com/govitals/vitals/internal/browsertest"
	"github.com/govitals/vitals/leak"
)

// charts are the chart ids of the page (app.js CHARTS).
var charts = []string{"memory", "gc", "goroutines", "cpu", "throttling", "sched", "alloc"}

// artifactDir is where screenshots go: $VITALS_ARTIFACTS when set (CI keeps
// it), else a temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("VITALS_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, "dashboard")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// TestBrowser loads the dashboard mounted on an admin server with basic
// auth, fed by a real leak watchdog, in headless Chromium: refused without
// credentials, every chart gets data (the planted leak gets marks), no
// console error, pause/resume and the window selector work, no horizontal
// overflow on a phone-sized screen; screenshots are saved as artifacts.
func TestBrowser(t *testing.T) {
	browsertest.Chromium(t) // skip (or fail under CI=true) before starting servers
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A real leak watchdog, tuned to learn a baseline within a second and
	// to suspect the leak this test plants below.
	wd, err := leak.NewWatchdog(leak.SampleEvery(20*time.Millisecond), leak.WarmUp(0),
		leak.WindowSamples(5), leak.Slack(5, 0), leak.SuspectAfter(2), leak.MaxDumpGoroutines(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := wd.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer wd.Close()
	limits := cgroup.Read()
	// Incidents, as an incident monitor's State would give them: one is
	// added once the page shows data, and must reach the open page.
	var (
		incMu     sync.Mutex
		incidents []dashboard.Incident
	)
	d, err := dashboard.New(
		dashboard.WithIncidents(func() []dashboard.Incident {
			incMu.Lock()
			defer incMu.Unlock()
			return incidents
		}),
		dashboard.WithReport(func() dashboard.Report {
			return dashboard.Report{
				GoVersion:  runtime.Version(),
				GOMAXPROCS: fmt.Sprint(runtime.GOMAXPROCS(0)), GOMAXPROCSWhy: "left as the runtime set it (test)",
				GOMEMLIMIT: "off", GOMEMLIMITWhy: "not set (test)",
				GOTRACEBACK: "single", GOTRACEBACKWhy: "the default (test)",
				CgroupVersion: "cgroup " + limits.Version.String(),
			}
		}),
		dashboard.WithWatchdog(func() dashboard.Watchdog {
			st := wd.State()
			return dashboard.Watchdog{Baseline: st.Baseline, Threshold: st.Threshold, Suspected: st.Suspected}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv, err := admin.New(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "dashboard-test"),
		admin.WithHandler("/debug/vitals/", d))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr() + "/debug/vitals/"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:dashboard-test"))

	// A leak for the watchdog to suspect, once it has a baseline.
	release := make(chan struct{})
	defer close(release)
	go func() {
		for wd.State().Baseline == 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		// Steady growth: a single step would be taken for a new steady level.
		for i := 0; i < 1000 && !wd.State().Suspected; i++ {
			go func() { <-release }()
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	// GC pauses show only when collections happen: make some.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var sink [][]byte
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				sink = append(sink[:0], make([]byte, 1<<20))
				if i%3 == 0 {
					runtime.GC()
				}
			}
		}
	}()
	defer wg.Wait()
	defer cancel()

	bctx, bcancel := browsertest.New(ctx, t, chromedp.WindowSize(1280, 900))
	defer bcancel()

	// Without credentials: refused, in a tab of its own (the browser logs
	// the refusal, which is not the page's error). Headless Chromium cannot
	// show a password prompt, so the basic-auth challenge fails the
	// navigation itself; a plain client sees the 401.
	resp, err := chromedp.Run(bctx, chromedp.NavigateResponse(url))
	switch {
	case err != nil && strings.Contains(err.Error(), "ERR_INVALID_AUTH_CREDENTIALS"):
	case err != nil:
		t.Fatalf("navigate without credentials: %v", err)
	case resp.Status != 401:
		t.Fatalf("without credentials the page answered %d, want 401", resp.Status)
	}
	if hr, err := http.Get(url); err != nil {
		t.Fatal(err)
	} else if hr.Body.Close(); hr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d, want 401", hr.StatusCode)
	}

	tctx, tcancel := chromedp.NewContext(bctx)
	defer tcancel()
	if _, err := chromedp.Call(tctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		problems []string
	)
	msgs := chromedp.Console(tctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleLog, "info", "debug":
				continue
			}
			mu.Lock()
			problems = append(problems, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			mu.Unlock()
		}
	}()

	if d.Sampling() {
		t.Fatal("sampling before any page was open")
	}
	resp, err = chromedp.Run(tctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("with credentials the page answered %d", resp.Status)
	}

	// Every chart must get data points; throttling only where the cgroup's
	// CPU counters can be read at all.
	want := map[string]int{}
	for _, c := range charts {
		want[c] = 3
	}
	if r, _ := cgroup.NewStatReader(); r != nil {
		var st cgroup.Stats
		_ = r.Read(&st)
		_ = r.Close()
		if !st.HaveCPU {
			t.Log("no readable cgroup cpu.stat here: the throttling chart is expected to stay empty")
			delete(want, "throttling")
		}
	}
	var got map[string]int
	deadline := time.Now().Add(25 * time.Second)
	for {
		got, err = chromedp.Run(tctx, chromedp.Evaluate[map[string]int](`window.vitalsPoints ? window.vitalsPoints() : {}`))
		if err != nil {
			t.Fatalf("vitalsPoints: %v", err)
		}
		pauses, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.vitalsSeriesPoints ? window.vitalsSeriesPoints("gc_pause_p99") : 0`))
		if err != nil {
			t.Fatal(err)
		}
		marks, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.vitalsSeriesPoints ? window.vitalsSeriesPoints("wd_suspected") : 0`))
		if err != nil {
			t.Fatal(err)
		}
		ok := pauses > 0 && marks > 0
		for c, n := range want {
			ok = ok && got[c] >= n
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("charts did not all get data: points %v (want at least %v), gc pause points %d, leak marks %d (watchdog %+v)",
				got, want, pauses, marks, wd.State())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("points per chart: %v", got)

	// An incident while the page is open: every chart marks it, and the
	// list under the header names it.
	incMu.Lock()
	incidents = append(incidents, dashboard.Incident{Time: time.Now(), Trigger: "memory", Reason: "Go memory at 82% of the limit (test)"})
	incMu.Unlock()
	for deadline := time.Now().Add(15 * time.Second); ; {
		marks, err := chromedp.Run(tctx, chromedp.Evaluate[map[string]int](`window.vitalsIncidentMarks()`))
		if err != nil {
			t.Fatal(err)
		}
		list, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById("incidents").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		ok := strings.Contains(list, "incident memory at ") && strings.Contains(list, "82% of the limit")
		for _, c := range charts {
			ok = ok && marks[c] == 1
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident not marked: marks per chart %v, list %q", marks, list)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// One time format (issue 17 point 8): axis ticks are clock times, one
	// per label (before: "12/1/26 10:46am" drawn over ":47"), and every
	// legend shows the time, not "--".
	ticks, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`window.vitalsTimeTicks()`))
	if err != nil {
		t.Fatal(err)
	}
	clock := regexp.MustCompile(`^\d\d:\d\d(:\d\d)?$`)
	if len(ticks) < 2 {
		t.Errorf("time axis ticks %q: want at least two", ticks)
	}
	for _, tk := range ticks {
		if !clock.MatchString(tk) {
			t.Errorf("time axis label %q is not a clock time", tk)
		}
	}
	legends, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('.u-legend .u-series:first-child .u-value')).map(function (e) { return e.textContent; })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(legends) != len(charts) {
		t.Errorf("%d time legends for %d charts", len(legends), len(charts))
	}
	for _, l := range legends {
		if !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(l) {
			t.Errorf("legend time %q, want hh:mm:ss", l)
		}
	}

	// The header shows the start-up report.
	header, err := chromedp.Run(tctx, chromedp.Text("#report"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{runtime.Version(), "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "cgroup"} {
		if !strings.Contains(header, s) {
			t.Errorf("header lacks %q: %q", s, header)
		}
	}

	// Pause freezes the charts, resume brings them back up to date.
	if err := chromedp.Do(tctx, chromedp.Click("#pause")); err != nil {
		t.Fatal(err)
	}
	status, _ := chromedp.Run(tctx, chromedp.Text("#status"))
	label, _ := chromedp.Run(tctx, chromedp.Text("#pause"))
	if status != "paused" || label != "Resume" {
		t.Errorf("after Pause: status %q, button %q", status, label)
	}
	if err := chromedp.Do(tctx, chromedp.Click("#pause"), chromedp.SetValue("#window", "60")); err != nil {
		t.Fatal(err)
	}
	status, _ = chromedp.Run(tctx, chromedp.Text("#status"))
	if status != "live" {
		t.Errorf("after Resume: status %q", status)
	}

	dir := artifactDir(t)
	shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	laptop := filepath.Join(dir, "dashboard-laptop.png")
	if err := os.WriteFile(laptop, shot, 0o644); err != nil {
		t.Fatal(err)
	}

	// A phone: nothing may stick out sideways.
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Sleep(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow > 0 {
		t.Errorf("on a 390 px wide screen the page is %d px too wide", overflow)
	}
	// The first screen, as the phone shows it (a full-page shot of a long
	// narrow page is too small to read).
	shot, err = chromedp.Run(tctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	phone := filepath.Join(dir, "dashboard-phone.png")
	if err := os.WriteFile(phone, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s %s", laptop, phone)

	mu.Lock()
	for _, p := range problems {
		t.Errorf("console: %s", p)
	}
	mu.Unlock()

	// Closing the only tab stops the sampling.
	if !d.Sampling() || d.Clients() != 1 {
		t.Fatalf("with the page open: sampling=%v clients=%d", d.Sampling(), d.Clients())
	}
	tcancel()
	deadline = time.Now().Add(10 * time.Second)
	for d.Sampling() {
		if time.Now().After(deadline) {
			t.Fatalf("still sampling 10 s after the tab closed (clients=%d)", d.Clients())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
