package leak

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTool returns the go command, skipping the test when it is missing
// (failing under CI=true, where it must be there).
func goTool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a test binary")
	}
	p, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command not found: %v", err)
		}
		t.Skipf("go command not found: %v", err)
	}
	return p
}

// runLeaky runs `go test` on testdata/leaky, which leaks on purpose and
// checks itself with VerifyTestMain.
func runLeaky(t *testing.T, env []string, args ...string) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/leaky")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(t), append([]string{"test", "-count=1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("leaky tests passed, want a leak failure:\n%s", out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	return string(out)
}

func TestVerifyTestMainNamesTheLeakingTests(t *testing.T) {
	// The child is built by this toolchain with this environment: it has
	// Go's leak detector exactly when this binary has it.
	proven := RuntimeDetector()
	type want struct {
		blame  string // "in <state>, leaked by <test>"
		proven bool   // the runtime proves it leaked (where it can)
	}
	all := []want{
		{"in chan send, leaked by TestBlockedSend", true},
		{"leaked by TestTicker", false}, // reachable from the runtime's timers
		{"in IO wait, leaked by TestServer", false},
		{"in select (no cases), leaked by TestIndirect", true},
		{"in chan receive, leaked by TestParallel (via github.com/govitals/vitals/leak/testdata/leaky.TestParallel.func1)", true},
	}
	tests := []struct {
		name      string
		env       []string
		wantRerun bool
	}{
		// Ancestor traces keep the chain when parents exited: nothing
		// left to rerun for.
		{name: "tracebackancestors", env: []string{"GODEBUG=tracebackancestors=10"}},
		// Without them, TestServer's and TestIndirect's goroutines have
		// lost their creators: VerifyTestMain reruns the tests with
		// ancestor traces and names them.
		{name: "plain", wantRerun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runLeaky(t, tt.env)
			for _, w := range all {
				line := headerLine(out, w.blame)
				if line == "" {
					t.Errorf("output lacks %q:\n%s", w.blame, out)
					continue
				}
				mark := strings.Contains(line, "[proven leaked by the Go runtime]")
				if want := w.proven && proven; mark != want {
					t.Errorf("%q: proven mark %v, want %v (runtime detector: %v)", line, mark, want, proven)
				}
			}
			for _, w := range []string{"5 unexpected goroutines", "in 5 groups"} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			rerun := "reran the tests with GODEBUG=tracebackancestors=32"
			if got := strings.Contains(out, rerun); got != tt.wantRerun {
				t.Errorf("rerun reported: %v, want %v:\n%s", got, tt.wantRerun, out)
			}
			if tt.wantRerun && !strings.Contains(out, "reproduced 2 of 2 unattributed goroutines, named the test for 2") {
				t.Errorf("rerun result not reported:\n%s", out)
			}
			for _, bad := range []string{"TestClean", "panic", "test unknown"} {
				if strings.Contains(out, bad) {
					t.Errorf("output has %q:\n%s", bad, out)
				}
			}
		})
	}
}

// TestRuntimeDetectorSubprocess runs the leaky tests with Go's own leak
// detector: standard from Go 1.27, an experiment on Go 1.26. Building the
// standard library with the experiment takes minutes on a cold cache, so on
// 1.26 it runs only when asked: VITALS_LEAK_GOEXPERIMENT=1. (Running this
// package's tests with GOEXPERIMENT=goroutineleakprofile exercises the
// detector in-process too.)
func TestRuntimeDetectorSubprocess(t *testing.T) {
	var env []string
	if !RuntimeDetector() {
		if os.Getenv("VITALS_LEAK_GOEXPERIMENT") != "1" {
			t.Skip("no goroutineleak profile in this toolchain; set VITALS_LEAK_GOEXPERIMENT=1 to build with GOEXPERIMENT=goroutineleakprofile")
		}
		env = []string{"GOEXPERIMENT=goroutineleakprofile"}
	}
	out := runLeaky(t, env, "-run", "TestBlockedSend|TestTicker")
	if !strings.Contains(out, "leaked by TestBlockedSend [proven leaked by the Go runtime]") {
		t.Errorf("blocked send not proven leaked:\n%s", out)
	}
	// The ticker goroutine is reachable from the runtime's timers: not proven.
	if strings.Contains(out, "leaked by TestTicker [proven") {
		t.Errorf("ticker goroutine marked proven:\n%s", out)
	}
}

// detectorChildEnv marks the child process TestRuntimeDetectorInProcess
// runs in: the goroutine it proves leaked can never exit, and must not
// stay behind in the process that runs the other tests and examples.
const detectorChildEnv = "VITALS_LEAK_DETECTOR_CHILD"

func TestRuntimeDetectorInProcess(t *testing.T) {
	if !RuntimeDetector() {
		t.Skip("no goroutineleak profile: Go 1.26 built without GOEXPERIMENT=goroutineleakprofile")
	}
	if os.Getenv(detectorChildEnv) != "1" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^TestRuntimeDetectorInProcess$", "-test.v")
		cmd.Env = append(os.Environ(), detectorChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestRuntimeDetectorInProcess") {
			t.Errorf("child: %v\n%s", err, out)
		}
		return
	}
	ct := &captureT{T: t}
	func() {
		ch := make(chan int)
		go provenLeak(ch) // ch is unreachable from anywhere else
	}()
	VerifyNone(ct, Settle(fastSettle))
	if got := ct.text(); !strings.Contains(got, "[proven leaked by the Go runtime]") {
		t.Errorf("not marked proven:\n%s", got)
	}
}

// provenLeak blocks forever on a channel nobody else holds; TestMain
// ignores it.
//
//go:noinline
func provenLeak(ch chan int) { ch <- 1 }

// headerLine returns the report's group header line that contains blame
// followed by the end of the test name ("" if none).
func headerLine(out, blame string) string {
	for line := range strings.Lines(out) {
		if i := strings.Index(line, blame); i >= 0 {
			rest := line[i+len(blame):]
			if rest == "\n" || strings.HasPrefix(rest, " ") {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}
