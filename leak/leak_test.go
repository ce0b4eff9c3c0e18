package leak

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// captureT is a real *testing.T whose errors are captured instead of
// failing the test: the leaks below are real, the suite stays green.
type captureT struct {
	*testing.T
	mu   sync.Mutex
	errs []string
}

func (c *captureT) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *captureT) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.errs, "\n")
}

const fastSettle = 30 * time.Millisecond

func TestLeaksAreBlamedOnTheirTest(t *testing.T) {
	tests := []struct {
		name  string
		start func(t *testing.T) (release func())
		want  []string
	}{
		{
			name: "blocked channel send",
			start: func(*testing.T) func() {
				ch := make(chan int)
				go func() { ch <- 1 }()
				return func() { <-ch }
			},
			want: []string{"in chan send", "leak.TestLeaksAreBlamedOnTheirTest.func"},
		},
		{
			name: "unstopped ticker goroutine",
			start: func(*testing.T) func() {
				stop := make(chan struct{})
				go func() {
					tk := time.NewTicker(5 * time.Millisecond)
					defer tk.Stop()
					for {
						select {
						case <-tk.C:
						case <-stop:
							return
						}
					}
				}()
				return func() { close(stop) }
			},
			want: []string{"leak.TestLeaksAreBlamedOnTheirTest.func"}, // in select, or runnable when the machine is loaded
		},
		{
			name: "unclosed http server",
			start: func(*testing.T) func() {
				srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				return srv.Close
			},
			want: []string{"net/http.(*Server).Serve", "created by net/http/httptest.(*Server).goServe"},
		},
		{
			name: "grandchild after its parent exited",
			start: func(*testing.T) func() {
				block := make(chan struct{})
				started := make(chan struct{})
				go func() {
					go func() { close(started); <-block }()
				}()
				<-started
				return func() { close(block) }
			},
			want: []string{"in chan receive"},
		},
	}
	for _, tt := range tests {
		var ct *captureT
		var release func()
		t.Run(tt.name, func(t *testing.T) {
			ct = &captureT{T: t}
			Check(ct, Settle(fastSettle))
			release = tt.start(t)
		})
		release()
		got := ct.text()
		testName := "TestLeaksAreBlamedOnTheirTest/" + strings.ReplaceAll(tt.name, " ", "_")
		for _, w := range append(tt.want, "leaked by "+testName+"\n", "leak: ") {
			if !strings.Contains(got, w) {
				t.Errorf("%s: report lacks %q:\n%s", tt.name, w, got)
			}
		}
		if strings.Contains(got, "test unknown") {
			t.Errorf("%s: some goroutine not blamed:\n%s", tt.name, got)
		}
	}
	waitClean(t)
}

// waitClean fails the test when released goroutines do not exit.
func waitClean(t *testing.T) {
	t.Helper()
	if err := Find(Timeout(5*time.Second), Settle(time.Second)); err != nil {
		t.Fatalf("released goroutines still running: %v", err)
	}
}

func TestParallelSubtestIsBlamed(t *testing.T) {
	block := make(chan struct{})
	var cts [3]*captureT
	t.Run("group", func(t *testing.T) {
		for i := range cts {
			t.Run(fmt.Sprint("p", i), func(t *testing.T) {
				t.Parallel()
				ct := &captureT{T: t}
				cts[i] = ct
				Check(ct, Settle(fastSettle))
				if i == 1 {
					go func() { <-block }()
				}
				time.Sleep(20 * time.Millisecond) // overlap with the others
			})
		}
	})
	close(block)
	for i, ct := range cts {
		got := ct.text()
		if i != 1 && got != "" {
			t.Errorf("p%d reported someone else's leak:\n%s", i, got)
		}
		if i == 1 && !strings.Contains(got, "leaked by TestParallelSubtestIsBlamed/group/p1\n") {
			t.Errorf("p1's leak not blamed on p1:\n%s", got)
		}
	}
	waitClean(t)
}

func TestCleanSuiteReportsNothing(t *testing.T) {
	var cts [6]*captureT
	t.Run("group", func(t *testing.T) {
		for i := range cts {
			t.Run(fmt.Sprint("c", i), func(t *testing.T) {
				if i%2 == 0 {
					t.Parallel()
				}
				ct := &captureT{T: t}
				cts[i] = ct
				Check(ct) // the default settle: a clean check never waits for it, and a loaded machine may keep the exiting goroutine asleep past fastSettle
				// Goroutines that finish, a server that is closed, a
				// ticker that is stopped.
				var wg sync.WaitGroup
				for range 10 {
					wg.Add(1)
					go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
				}
				srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				t.Cleanup(srv.Close) // runs before Check's cleanup
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					tk := time.NewTicker(time.Millisecond)
					defer tk.Stop()
					for {
						select {
						case <-tk.C:
						case <-stop:
							return
						}
					}
				}()
				wg.Wait()
				close(stop)
				// A goroutine still exiting when the check starts.
				go func() { time.Sleep(5 * time.Millisecond) }()
			})
		}
	})
	for i, ct := range cts {
		if got := ct.text(); got != "" {
			t.Errorf("clean test c%d reported:\n%s", i, got)
		}
	}
}

func TestVerifyTestMain(t *testing.T) {
	block := make(chan struct{})
	defer func() { close(block); waitClean(t) }()
	go func() { <-block }()
	tests := []struct {
		name     string
		opts     []Option
		code     int
		wantCode int
		wantOut  bool
	}{
		{"passed, leak", nil, 0, 1, true},
		{"failed, check skipped", nil, 2, 2, false},
		{"failed, CheckOnFailure", []Option{CheckOnFailure()}, 2, 2, true},
		{"leak ignored", []Option{IgnoreCreatedBy("github.com/govitals/vitals/leak.TestVerifyTestMain")}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			c := buildConfig(append([]Option{Settle(fastSettle), Rerun(0)}, tt.opts...)) // no rerun of this whole binary
			got := verifyMain(c, tt.code, &out)
			if got != tt.wantCode {
				t.Errorf("exit code %d, want %d", got, tt.wantCode)
			}
			if (out.Len() > 0) != tt.wantOut {
				t.Errorf("output %q, want output: %v", out.String(), tt.wantOut)
			}
			if tt.wantOut && !strings.Contains(out.String(), "leaked by TestVerifyTestMain") {
				t.Errorf("leak not blamed:\n%s", out.String())
			}
		})
	}

	// VerifyTestMain itself exits through the seam.
	exited := -1
	m := fakeM{code: 0}
	VerifyTestMain(m, Settle(fastSettle), IgnoreCurrent(), optionFunc(func(c *config) { c.exit = func(code int) { exited = code } }))
	if exited != 0 {
		t.Errorf("VerifyTestMain exited %d with nothing leaked, want 0", exited)
	}
}

type fakeM struct{ code int }

func (m fakeM) Run() int { return m.code }

func TestIgnoreOptions(t *testing.T) {
	block := make(chan struct{})
	defer func() { close(block); waitClean(t) }()
	go parkedHelper(block)
	tests := []struct {
		name string
		opt  Option
		want bool // leak reported
	}{
		{"none", nil, true},
		{"top function", IgnoreTopFunction("github.com/govitals/vitals/leak.parkedHelper"), false},
		{"top function no match", IgnoreTopFunction("github.com/govitals/vitals/leak.TestIgnoreOptions"), true},
		{"any function", IgnoreAnyFunction("github.com/govitals/vitals/leak.parkedHelper"), false},
		{"created by", IgnoreCreatedBy("github.com/govitals/vitals/leak.TestIgnoreOptions"), false},
		{"created by no match", IgnoreCreatedBy("main.main"), true},
		{"current", IgnoreCurrent(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Find(tt.opt, Settle(fastSettle))
			if (err != nil) != tt.want {
				t.Errorf("Find: %v, want a leak: %v", err, tt.want)
			}
		})
	}
}

//go:noinline
func parkedHelper(block chan struct{}) { <-block }

func TestDeepStackDoesNotPanic(t *testing.T) {
	// goleak v1.3.0 panics on "...N frames elided...".
	block := make(chan struct{})
	go recurse(300, block)
	err := Find(Settle(fastSettle))
	close(block)
	if err == nil || !strings.Contains(err.Error(), "leak.recurse") {
		t.Errorf("deep goroutine not reported: %v", err)
	}
	waitClean(t)
}

//go:noinline
func recurse(n int, block chan struct{}) {
	if n == 0 {
		<-block
		return
	}
	recurse(n-1, block)
	runtime.KeepAlive(n)
}
