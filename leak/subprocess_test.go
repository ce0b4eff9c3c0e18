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
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			// Ancestor traces keep the chain when parents exited.
			name: "tracebackancestors",
			env:  []string{"GODEBUG=tracebackancestors=10"},
			want: []string{
				"in chan send, leaked by TestBlockedSend\n",
				"leaked by TestTicker\n",
				"leaked by TestServer\n",
				"leaked by TestIndirect\n",
				"leaked by TestParallel (via github.com/govitals/vitals/leak/testdata/leaky.TestParallel.func1)\n",
				"5 unexpected goroutines",
			},
		},
		{
			// Without them, creators that are test functions still
			// name the test.
			name: "plain",
			want: []string{
				"leaked by TestBlockedSend\n",
				"leaked by TestTicker\n",
				"leaked by TestParallel (via",
				"5 unexpected goroutines",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runLeaky(t, tt.env)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "TestClean") {
				t.Errorf("a clean test was blamed:\n%s", out)
			}
			if strings.Contains(out, "panic") {
				t.Errorf("panic in output:\n%s", out)
			}
		})
	}
}

// TestRuntimeDetectorSubprocess re-runs the leaky tests with Go's own leak
// detector compiled in. Building the standard library with the experiment
// takes minutes on a cold cache, so it runs only when asked:
// VITALS_LEAK_GOEXPERIMENT=1. (Running this package's tests with
// GOEXPERIMENT=goroutineleakprofile exercises the detector in-process too.)
func TestRuntimeDetectorSubprocess(t *testing.T) {
	if os.Getenv("VITALS_LEAK_GOEXPERIMENT") != "1" {
		t.Skip("set VITALS_LEAK_GOEXPERIMENT=1 to build with GOEXPERIMENT=goroutineleakprofile")
	}
	out := runLeaky(t, []string{"GOEXPERIMENT=goroutineleakprofile"}, "-run", "TestBlockedSend|TestTicker")
	if !strings.Contains(out, "leaked by TestBlockedSend [proven leaked by the Go runtime]") {
		t.Errorf("blocked send not proven leaked:\n%s", out)
	}
	// The ticker goroutine is reachable from the runtime's timers: not proven.
	if strings.Contains(out, "leaked by TestTicker [proven") {
		t.Errorf("ticker goroutine marked proven:\n%s", out)
	}
}

func TestRuntimeDetectorInProcess(t *testing.T) {
	if !RuntimeDetector() {
		t.Skip("binary built without GOEXPERIMENT=goroutineleakprofile")
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
