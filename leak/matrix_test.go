package leak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The blame matrix: every way a test starts a goroutine that goleak users
// asked to have named, under each of the three checks, in a module
// declaring go 1.26 and (on Go 1.27) one declaring go 1.27, where the
// runtime prints pprof labels in goroutine headers by default. The
// modules are generated under t.TempDir, use this repository through a
// replace directive, and run with `go test -json` as a child.

// matrixTests is the test file, with TOP and BOTTOM where the check goes
// and MAIN for the body of TestMain. "// check:NAME" marks the line the
// failure of test NAME must point at.
const matrixTests = `package p

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"example.com/matrix/other"
	"github.com/govitals/vitals/leak"
)

var (
	_     = os.Exit
	block = make(chan struct{})
)

func init() { go func() { <-block }() }

func TestMain(m *testing.M) {
	go func() { <-block }()
	MAIN
}

func TestFromMain(t *testing.T) {
	TOP // check:TestFromMain
	BOTTOM // check:TestFromMain
}

func TestDirect(t *testing.T) {
	TOP // check:TestDirect
	go func() { <-block }()
	BOTTOM // check:TestDirect
}

func TestHelper(t *testing.T) {
	TOP // check:TestHelper
	startHelper()
	BOTTOM // check:TestHelper
}

func startHelper() { go func() { <-block }() }

func TestOtherPackage(t *testing.T) {
	TOP // check:TestOtherPackage
	other.Start(block)
	BOTTOM // check:TestOtherPackage
}

func TestGrandchild(t *testing.T) {
	TOP // check:TestGrandchild
	spawnViaExitedParent()
	BOTTOM // check:TestGrandchild
}

func spawnViaExitedParent() {
	done := make(chan struct{})
	go func() {
		go func() { <-block }()
		close(done)
	}()
	<-done
	time.Sleep(5 * time.Millisecond) // the parent exits
}

func TestPprofDo(t *testing.T) {
	TOP // check:TestPprofDo
	pprof.Do(context.Background(), pprof.Labels("job", "sync, nightly"), func(context.Context) {
		go func() { <-block }()
	})
	BOTTOM // check:TestPprofDo
}

func TestParallelLeaky(t *testing.T) {
	TOP // check:TestParallelLeaky
	t.Parallel()
	startParallelWorker()
	time.Sleep(20 * time.Millisecond) // overlap with TestParallelClean
	BOTTOM // check:TestParallelLeaky
}

func startParallelWorker() { go func() { <-block }() }

func TestParallelClean(t *testing.T) {
	TOP // check:TestParallelClean
	t.Parallel()
	time.Sleep(20 * time.Millisecond)
	BOTTOM // check:TestParallelClean
}

func TestSubtests(t *testing.T) {
	t.Run("leaky", func(t *testing.T) {
		TOP // check:TestSubtests/leaky
		startSubtestWorker()
		BOTTOM // check:TestSubtests/leaky
	})
	t.Run("clean", func(t *testing.T) {
		TOP // check:TestSubtests/clean
		BOTTOM // check:TestSubtests/clean
	})
}

func startSubtestWorker() { go func() { <-block }() }

func TestTable(t *testing.T) {
	for _, tt := range []struct {
		name string
		leak bool
	}{{"a", false}, {"b", true}} {
		t.Run(tt.name, func(t *testing.T) {
			TOP // check:TestTable/a check:TestTable/b
			if tt.leak {
				startTableWorker()
			}
			BOTTOM // check:TestTable/a check:TestTable/b
		})
	}
}

func startTableWorker() { go func() { <-block }() }

// TestOnlyOnce leaks in the first run only: the rerun cannot reproduce it.
func TestOnlyOnce(t *testing.T) {
	TOP // check:TestOnlyOnce
	marker := filepath.Join(os.Getenv("MATRIX_MARKERS"), "PKGNAME")
	if _, err := os.Stat(marker); err != nil {
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		startOnce()
	}
	BOTTOM // check:TestOnlyOnce
}

func startOnce() {
	done := make(chan struct{})
	go func() {
		go func() { <-block }()
		close(done)
	}()
	<-done
	time.Sleep(5 * time.Millisecond) // the parent exits
}
`

const matrixOther = `// Package other starts goroutines for tests in another package.
package other

// Start starts a goroutine that waits for block.
func Start(block chan struct{}) { go wait(block) }

func wait(block chan struct{}) { <-block }
`

// matrixWatchdog runs the production watchdog in the generated module:
// labelled goroutines leak after the baseline, next to idle keep-alive
// connections; the report must name the leak and nothing of vitals' or
// net/http's own.
const matrixWatchdog = `package watchdog

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/leak"
)

func leaky(block chan struct{}) { <-block }

func TestWatchdog(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	reports := make(chan leak.Report, 100)
	w, err := leak.NewWatchdog(leak.SampleEvery(5*time.Millisecond), leak.WarmUp(0),
		leak.WindowSamples(4), leak.Slack(5, 0), leak.SuspectAfter(2), leak.DumpAtMostEvery(0),
		leak.OnReport(func(r leak.Report) {
			select {
			case reports <- r:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	deadline := time.Now().Add(20 * time.Second)
	for w.State().WarmingUp {
		if time.Now().After(deadline) {
			t.Fatalf("no baseline: %+v", w.State())
		}
		time.Sleep(time.Millisecond)
	}
	if st := w.State(); st.VerdictAt.IsZero() || st.VerdictIn != 0 || st.Baseline == 0 {
		t.Errorf("after the baseline: %+v", st)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { io.WriteString(rw, "ok") }))
	defer srv.Close()
	var clients []*http.Client
	for range 20 { // 20 idle keep-alive connections: 60 goroutines that are not a leak
		c := &http.Client{Transport: &http.Transport{}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		clients = append(clients, c)
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	// The connections alone may look like growth: every report must
	// leave them out; the first one after the leak starts must name it.
	for n := 0; ; n++ {
		select {
		case r := <-reports:
			s := r.String()
			for _, bad := range []string{"leak.(*Watchdog)", "leak.dumpAll", "(*conn).serve", "(*persistConn).readLoop", "(*persistConn).writeLoop"} {
				if strings.Contains(s, bad) {
					for _, gc := range r.Grew {
						t.Logf("%+v", gc.Group.Frames)
					}
					t.Fatalf("report lists %s as growth:\n%s", bad, s)
				}
			}
			if !strings.Contains(s, "watchdog.leaky") {
				continue // about the connections, made before the leak
			}
			if r.Ignored < 60 {
				t.Errorf("Ignored = %d, want at least the 60 connection goroutines", r.Ignored)
			}
			return
		default:
		}
		if n > 20000 {
			t.Fatalf("no report: %+v", w.State())
		}
		pprof.Do(context.Background(), pprof.Labels("job", "sync"), func(context.Context) { go leaky(block) })
		time.Sleep(time.Millisecond)
	}
}
`

// A matrix mode: how the generated package checks.
type matrixMode struct {
	name, top, bottom, main string
	// want maps a test to what its own failure must say; tests not listed
	// must not fail. "" keys the package-level output (VerifyTestMain).
	want map[string][]string
}

var matrixModes = []matrixMode{
	{
		name: "check", top: "leak.Check(t)", bottom: "", main: "os.Exit(m.Run())",
		// The label Check puts on the test goroutine names the exact
		// (sub)test, however the goroutine was started.
		want: map[string][]string{
			"TestFromMain":       {"test unknown: started by TestMain"},
			"TestDirect":         {"leaked by TestDirect\n"},
			"TestHelper":         {"leaked by TestHelper\n"},
			"TestOtherPackage":   {"leaked by TestOtherPackage\n"},
			"TestGrandchild":     {"leaked by TestGrandchild\n"},
			"TestPprofDo":        {"leaked by TestPprofDo\n"},
			"TestParallelLeaky":  {"leaked by TestParallelLeaky\n"},
			"TestSubtests/leaky": {"leaked by TestSubtests/leaky\n"},
			"TestTable/b":        {"leaked by TestTable/b\n"},
			"TestOnlyOnce":       {"leaked by TestOnlyOnce\n"},
		},
	},
	{
		name: "verifynone", top: "", bottom: "leak.VerifyNone(t)", main: "os.Exit(m.Run())",
		// VerifyNone runs on the test goroutine: goroutines it started
		// are named while it lives; one whose creator exited is not, and
		// the report says what to do.
		want: map[string][]string{
			"TestFromMain":       {"test unknown: started by TestMain"},
			"TestDirect":         {"leaked by TestDirect\n"},
			"TestHelper":         {"leaked by TestHelper\n"},
			"TestOtherPackage":   {"leaked by TestOtherPackage\n"},
			"TestGrandchild":     {"test unknown: its creators have exited; call leak.Check(t)"},
			"TestPprofDo":        {"leaked by TestPprofDo\n"},
			"TestParallelLeaky":  {"leaked by TestParallelLeaky\n"},
			"TestSubtests/leaky": {"leaked by TestSubtests/leaky\n"},
			"TestTable/b":        {"leaked by TestTable/b\n"},
			"TestOnlyOnce":       {"test unknown: its creators have exited; call leak.Check(t)"},
		},
	},
	{
		name: "verifytestmain", top: "", bottom: "", main: "leak.VerifyTestMain(m)",
		// One report after all tests: creators that are tests name them;
		// the rest is named by the rerun with ancestor traces.
		want: map[string][]string{"": {
			"test unknown: started during package initialization",
			"test unknown: started by TestMain",
			"leaked by TestDirect\n",
			"leaked by TestHelper (found by the rerun)\n",
			"leaked by TestOtherPackage (found by the rerun)\n",
			"leaked by TestGrandchild (found by the rerun)\n",
			"leaked by TestPprofDo (via example.com/matrix/verifytestmain.TestPprofDo.func1)\n",
			"leaked by TestParallelLeaky (found by the rerun)\n",
			"leaked by TestSubtests (via example.com/matrix/verifytestmain.TestSubtests.func1) (found by the rerun)\n",
			"leaked by TestTable (via example.com/matrix/verifytestmain.TestTable.func1) (found by the rerun)\n",
			"test unknown: the rerun did not leak it again (it depends on timing)",
			"reproduced 6 of 7 unattributed goroutines, named the test for 6",
			"11 unexpected goroutines",
		}},
	},
}

// goMinor returns the minor version of the running toolchain (27 for
// go1.27.3), 0 when unknown.
func goMinor() int {
	var minor int
	fmt.Sscanf(runtime.Version(), "go1.%d", &minor)
	return minor
}

func TestBlameMatrix(t *testing.T) {
	goBin := goTool(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	versions := []string{"1.26"}
	if goMinor() >= 27 {
		versions = append(versions, "1.27")
	}
	// "go1.26.8-X:goroutineleakprofile" with an experiment.
	toolchain := regexp.MustCompile(`^go1\.\d+(\.\d+)?`).FindString(runtime.Version())
	if toolchain == "" {
		t.Skipf("toolchain %q: not a release", runtime.Version())
	}
	for _, v := range versions {
		t.Run("go"+v, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name, text string) {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", fmt.Sprintf("module example.com/matrix\n\ngo %s\n\nrequire github.com/govitals/vitals v0.0.0\n\nreplace github.com/govitals/vitals => %s\n", v, root))
			write("go.sum", string(sum))
			write("other/other.go", matrixOther)
			write("watchdog/watchdog_test.go", matrixWatchdog)
			for _, m := range matrixModes {
				src := strings.NewReplacer("package p", "package "+m.name, "PKGNAME", m.name,
					"TOP", m.top, "BOTTOM", m.bottom, "MAIN", m.main).Replace(matrixTests)
				write(m.name+"/"+m.name+"_test.go", src)
			}
			cmd := exec.Command(goBin, "test", "-json", "-count=1", "./...")
			cmd.Dir = dir
			markers := t.TempDir()
			cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+toolchain, "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "MATRIX_MARKERS="+markers)
			out, err := cmd.Output()
			if err == nil {
				t.Fatalf("go test passed, want leak failures:\n%s", out)
			}
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatalf("go test: %v", err)
			}
			outputs := testOutputs(t, out)
			if len(outputs) < len(matrixModes) {
				t.Fatalf("go test: %v\n%s\n%s", err, ee.Stderr, out)
			}
			for _, m := range matrixModes {
				t.Run(m.name, func(t *testing.T) {
					checkMatrixMode(t, m, outputs["example.com/matrix/"+m.name])
				})
			}
			if wd := outputs["example.com/matrix/watchdog"]["TestWatchdog"]; !strings.Contains(wd, "--- PASS: TestWatchdog") {
				t.Errorf("watchdog in the generated module:\n%s", wd)
			}
		})
	}
}

// testOutputs collects `go test -json` output by package and test.
func testOutputs(t *testing.T, out []byte) map[string]map[string]string {
	t.Helper()
	res := map[string]map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Package, Test, Output string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("go test -json: %v: %s", err, sc.Bytes())
		}
		if ev.Action != "output" {
			continue
		}
		if res[ev.Package] == nil {
			res[ev.Package] = map[string]string{}
		}
		res[ev.Package][ev.Test] += ev.Output
	}
	return res
}

var failureLine = regexp.MustCompile(`(?m)^\s+(\w+_test\.go):(\d+): leak: `)

func checkMatrixMode(t *testing.T, m matrixMode, byTest map[string]string) {
	// The lines each test's failure may point at: its check call.
	marks := map[string][]int{}
	for i, line := range strings.Split(matrixTests, "\n") {
		_, rest, ok := strings.Cut(line, "// ")
		if !ok || !strings.HasPrefix(rest, "check:") {
			continue
		}
		if (strings.Contains(line, "TOP") && m.top == "") || (strings.Contains(line, "BOTTOM") && m.bottom == "") {
			continue
		}
		for _, f := range strings.Fields(rest) {
			name := strings.TrimPrefix(f, "check:")
			marks[name] = append(marks[name], i+1)
		}
	}
	for test, out := range byTest {
		want, expected := m.want[test]
		fails := failureLine.FindAllStringSubmatch(out, -1)
		if test == "" {
			if expected {
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("package output lacks %q:\n%s", w, out)
					}
				}
				for _, bad := range []string{"TestParallelClean", "TestSubtests/clean", "TestTable/a", "panic:"} {
					if strings.Contains(out, bad) {
						t.Errorf("package output has %q:\n%s", bad, out)
					}
				}
			}
			continue
		}
		if !expected {
			if len(fails) > 0 || strings.Contains(out, "leak: ") {
				t.Errorf("%s reported a leak it did not cause:\n%s", test, out)
			}
			continue
		}
		if len(fails) != 1 {
			t.Errorf("%s: %d leak failures, want 1:\n%s", test, len(fails), out)
			continue
		}
		line := 0
		fmt.Sscan(fails[0][2], &line)
		if fails[0][1] != m.name+"_test.go" || !containsInt(marks[test], line) {
			t.Errorf("%s: failure points at %s:%s, want %s_test.go line %v (the check call)", test, fails[0][1], fails[0][2], m.name, marks[test])
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", test, w, out)
			}
		}
	}
	for test := range m.want {
		if _, ok := byTest[test]; !ok {
			t.Errorf("no output for %q", test)
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
