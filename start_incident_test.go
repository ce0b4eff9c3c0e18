package vitals_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/incident/inspect"
	"github.com/govitals/vitals/internal/cgrouptest"
	"github.com/govitals/vitals/leak"
)

// The child side of the incident tests: the test binary re-executed with
// VITALS_INCIDENT_CHILD set, running a service on vitals.Start with
// Incidents into VITALS_INCIDENT_TEST_DIR.
const childEnv = "VITALS_INCIDENT_CHILD"

var incidentSink [][]byte

// growHeapForIncidentTest adds a MiB of live, touched heap.
//
//go:noinline
func growHeapForIncidentTest() {
	b := make([]byte, 1<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1 // resident, not just reserved
	}
	incidentSink = append(incidentSink, b)
}

// parkedForIncidentTest waits forever (until the process exits).
//
//go:noinline
func parkedForIncidentTest(ch chan struct{}) { <-ch }

// burnForIncidentTest spins on the CPU until stop is closed.
//
//go:noinline
func burnForIncidentTest(stop chan struct{}) uint64 {
	var x uint64 = 1
	for {
		for i := 0; i < 1e6; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		select {
		case <-stop:
			return x
		default:
		}
	}
}

func TestIncidentChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("child process of the incident tests")
	}
	dir := os.Getenv("VITALS_INCIDENT_TEST_DIR")
	got := make(chan incident.Incident, 4)
	opts := []incident.Option{incident.OnIncident(func(i incident.Incident) { got <- i })}
	if mode == "cpu" {
		// Shorter than the defaults (10 s window, 10 s profile) to keep
		// the test short; the rule is the same.
		opts = append(opts, incident.Window(5*time.Second), incident.CPUProfileFor(3*time.Second))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.Incidents(dir, opts...),
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0")), vitals.NoDashboard())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	fmt.Printf("child: GOMEMLIMIT=%d armed=%v err=%v\n", svc.Report().GOMEMLIMIT, svc.Incidents() != nil, svc.Err())
	switch mode {
	case "oom":
		// 40 MiB/s of live heap until the kernel kills the process, paced
		// by elapsed time (a ticker drops ticks on a loaded machine).
		start := time.Now()
		for n := 0; ; {
			for want := int(40 * time.Since(start).Seconds()); n < want; n++ {
				growHeapForIncidentTest()
			}
			time.Sleep(5 * time.Millisecond)
		}
	case "spike":
		time.Sleep(2500 * time.Millisecond) // a quiet baseline
		ch := make(chan struct{})
		for range 20000 {
			go parkedForIncidentTest(ch)
		}
		waitChild(t, got, 30*time.Second)
		close(ch)
	case "cpu":
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); burnForIncidentTest(stop) }()
		waitChild(t, got, 60*time.Second)
		close(stop)
		wg.Wait()
	}
}

func waitChild(t *testing.T, got chan incident.Incident, d time.Duration) {
	select {
	case inc := <-got:
		fmt.Printf("child: incident %s %s err=%q took=%v\n", inc.Trigger, inc.Path, inc.Err, inc.Took)
	case <-time.After(d):
		t.Fatalf("no incident within %v", d)
	}
}

// runIncidentChild runs the child in g (nil: no cgroup) and returns its
// output and error.
func runIncidentChild(t *testing.T, g *cgrouptest.Group, mode, dir string) (string, error) {
	args := []string{"-test.run=^TestIncidentChild$", "-test.count=1", "-test.v"}
	var cmd *exec.Cmd
	if g != nil {
		cmd = g.Command(os.Args[0], args...)
	} else {
		cmd = exec.Command(os.Args[0], args...)
	}
	env := []string{childEnv + "=" + mode, "VITALS_INCIDENT_TEST_DIR=" + dir}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOMEMLIMIT", "GOGC", "GOMAXPROCS", vitals.IncidentDirEnv, childEnv:
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// oneBundle returns the single bundle of dir whose trigger is want.
func bundleOf(t *testing.T, dir string, want incident.Trigger) string {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join(dir, "*"+incident.BundleSuffix))
	for _, p := range ms {
		if incident.TriggerOf(p) == want.String() {
			return p
		}
	}
	t.Fatalf("no %s bundle in %s: %v", want, dir, ms)
	return ""
}

// TestIncidentOOMInCgroup is the pre-OOM capture: a child on vitals.Start
// in a 256 MiB v1 memory cgroup, without GOMEMLIMIT in its environment,
// grows its live heap 40 MiB/s until the kernel kills it; it must leave a
// complete bundle whose heap profile names the allocating function under
// "go tool pprof -top", with a flight-recorder trace. It runs twice by
// default (each run takes about 8 s); VITALS_INCIDENT_OOM_RUNS=10 runs it
// ten times.
func TestIncidentOOMInCgroup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	if raceEnabled {
		// The race detector's shadow memory (several times the heap) is
		// charged to the cgroup but is not Go memory, so the kernel kills
		// the child long before its Go memory nears the limit: the test
		// measures nothing there. It runs in the plain (non-race) suite.
		t.Skip("pre-OOM capture is measured without -race: the race detector's shadow memory counts against the cgroup")
	}
	cgrouptest.Require(t)
	runs := 2
	if n, err := strconv.Atoi(os.Getenv("VITALS_INCIDENT_OOM_RUNS")); err == nil && n > 0 {
		runs = n
	}
	for i := range runs {
		t.Run(fmt.Sprint("run", i), func(t *testing.T) {
			g := cgrouptest.New(t, 0, 256<<20)
			dir := t.TempDir()
			start := time.Now()
			out, err := runIncidentChild(t, g, "oom", dir)
			var ee *exec.ExitError
			if err == nil || !asExit(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed by the kernel: %v\n%s", err, out)
			}
			t.Logf("killed after %v", time.Since(start).Round(100*time.Millisecond))
			p := bundleOf(t, dir, incident.Memory)
			b, err := inspect.Open(p)
			if err != nil {
				t.Fatalf("bundle incomplete: %v\n%s", err, out)
			}
			defer b.Close()
			if !b.Has(incident.PartTrace) || !b.Has(incident.PartHeap) {
				t.Fatalf("bundle parts %+v", b.Manifest.Parts)
			}
			s := inspect.Summarize(b, 5)
			if len(s.Problems) > 0 || s.Trace == nil || s.Trace.Span <= 0 {
				t.Errorf("problems %v trace %+v", s.Problems, s.Trace)
			}
			heap, err := b.Part(incident.PartHeap)
			if err != nil {
				t.Fatal(err)
			}
			top := pprofTopIncident(t, heap)
			if !strings.Contains(top, "growHeapForIncidentTest") {
				t.Errorf("go tool pprof -top does not name growHeapForIncidentTest:\n%s", top)
			}
			v := b.Manifest.Values[0]
			t.Logf("fired at %s of %s (limit %s); trace %v, %d bytes; bundle %d bytes in %v",
				mib(v.Value), mib(v.Threshold), mib(v.Limit), s.Trace.Span.Round(time.Millisecond), s.Trace.Bytes,
				fileSize(p), b.Manifest.Finished.Sub(b.Manifest.Time).Round(time.Millisecond))
		})
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

func mib(v float64) string { return fmt.Sprintf("%.1f MiB", v/(1<<20)) }

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return st.Size()
}

func pprofTopIncident(t *testing.T, data []byte, extra ...string) string {
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

// TestIncidentGoroutineSpike: 20k goroutines parked at once in a child on
// vitals.Start with the default thresholds leave a bundle whose goroutine
// groups name the parked function.
func TestIncidentGoroutineSpike(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	out, err := runIncidentChild(t, nil, "spike", dir)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	p := bundleOf(t, dir, incident.Goroutines)
	b, err := inspect.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := inspect.Summarize(b, 3)
	if len(s.Groups) == 0 || s.Groups[0].Count < 10000 || !strings.Contains(s.Groups[0].Top, "parkedForIncidentTest") {
		t.Errorf("largest group %+v", s.Groups)
	}
	if len(s.Problems) > 0 {
		t.Errorf("problems %v", s.Problems)
	}
	gp, err := b.Part(incident.PartGoroutine)
	if err != nil {
		t.Fatal(err)
	}
	if top := pprofTopIncident(t, gp); !strings.Contains(top, "parkedForIncidentTest") {
		t.Errorf("go tool pprof -top of the goroutine profile lacks parkedForIncidentTest:\n%s", top)
	}
}

// TestIncidentCPUInCgroup: a CPU-bound child in a 0.2-CPU cgroup leaves a
// CPU bundle whose CPU profile names the burning function.
func TestIncidentCPUInCgroup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 0.2, 0)
	dir := t.TempDir()
	out, err := runIncidentChild(t, g, "cpu", dir)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	p := bundleOf(t, dir, incident.CPU)
	b, err := inspect.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cpu, err := b.Part(incident.PartCPU)
	if err != nil {
		t.Fatalf("%v; parts %+v", err, b.Manifest.Parts)
	}
	if top := pprofTopIncident(t, cpu); !strings.Contains(top, "burnForIncidentTest") {
		t.Errorf("go tool pprof -top of the CPU profile lacks burnForIncidentTest:\n%s", top)
	}
	t.Logf("fired: %+v", b.Manifest.Values)
}

// The leak watchdog's report reaches the incident monitor as a goroutine
// incident (the hook Start installs).
func TestIncidentFromWatchdog(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	got := make(chan incident.Incident, 4)
	mine := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoAdmin(),
		vitals.Incidents(t.TempDir(), incident.NoFlightRecorder(),
			incident.GoroutineSpike(1000, time.Minute, 1<<30), // the spike rule stays quiet
			incident.OnIncident(func(i incident.Incident) { got <- i })),
		vitals.WatchdogOptions(leak.SampleEvery(5*time.Millisecond), leak.WarmUp(0), leak.WindowSamples(4),
			leak.SuspectAfter(2), leak.Slack(20, 0.1),
			// The caller's own hook is called too, not instead.
			leak.OnReport(func(leak.Report) {
				select {
				case mine <- struct{}{}:
				default:
				}
			})))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ch := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(ch); wg.Wait() }()
	time.Sleep(100 * time.Millisecond) // a baseline
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case inc := <-got:
			if inc.Trigger != incident.Goroutines || !strings.HasPrefix(inc.Reason, "leak watchdog:") || inc.Path == "" {
				t.Fatalf("incident %+v", inc)
			}
			select {
			case <-mine:
			case <-time.After(5 * time.Second):
				t.Fatal("the caller's own OnReport was not called: the incident hook replaced it")
			}
			return
		case <-tick.C:
			for range 30 { // steady growth, as a leak
				wg.Add(1)
				go func() { defer wg.Done(); parkedForIncidentTest(ch) }()
			}
		case <-deadline:
			t.Fatalf("no incident from the watchdog; state %+v", svc.Watchdog().State())
		}
	}
}

func TestIncidentDirEnv(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	t.Setenv(vitals.IncidentDirEnv, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoAdmin())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	m := svc.Incidents()
	if m == nil || m.Dir().Path() != dir || !m.State().Armed {
		t.Fatalf("the environment variable did not arm incidents: %v", svc.Err())
	}
	// An invalid option is Start's error, and nothing is left running.
	if _, err := vitals.Start(ctx, vitals.NoAdmin(), vitals.Incidents(dir, incident.MemoryThreshold(2))); err == nil {
		t.Error("Start accepted an invalid incident option")
	}
	if _, err := vitals.Start(ctx, vitals.Incidents("")); err == nil {
		t.Error("Start accepted an empty incident directory")
	}
}

// Incident capture on the service template: bundles land in the directory,
// the admin server lists them at /debug/vitals/incidents/, and OnIncident
// can ship each one elsewhere.
func ExampleIncidents() {
	ctx := context.Background()
	svc, err := vitals.Start(ctx, vitals.Incidents("/var/lib/myservice/incidents",
		incident.OnIncident(func(i incident.Incident) {
			fmt.Printf("incident %s: %s (%s)\n", i.Trigger, i.Reason, i.Path) // or upload i.Path
		})))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Close()
	// ... serve ...
}
