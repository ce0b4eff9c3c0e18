package leak

import (
	"context"
	"fmt"
	"io"
	"os"
)

// TestingT is what [VerifyNone] needs from a test: *testing.T, *testing.B
// and *testing.F satisfy it. When the value also has Helper() or Name(),
// they are used (Name scopes the check to that test, see [VerifyNone]).
type TestingT interface {
	Errorf(format string, args ...any)
}

// CleanupT is what [Check] needs: a [TestingT] with Cleanup.
type CleanupT interface {
	TestingT
	Cleanup(func())
}

// TestingM is what [VerifyTestMain] needs: *testing.M satisfies it.
type TestingM interface {
	Run() int
}

type helper interface{ Helper() }
type namer interface{ Name() string }

// VerifyNone reports, through t.Errorf, the goroutines [Find] finds. When t
// has a Name method (as *testing.T does), the check is scoped to that test:
// goroutines blamed on another test that is still running (a t.Parallel
// neighbour) are left for that test's own check, and goroutines already
// reported by an earlier scoped check are not reported again. It costs what
// [Find] costs.
func VerifyNone(t TestingT, opts ...Option) {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	name := ""
	if n, ok := t.(namer); ok {
		name = n.Name()
	}
	cur := curID()
	observe(cur, name)
	c := buildConfig(opts)
	if e := c.find(cur, name); e != nil {
		t.Errorf("%v", e)
	}
}

// Check is the one line at the top of a test: it records which goroutine
// runs the test and gives it a pprof label (vitals_leak_test=<name>) that
// every goroutine it starts inherits, so leaks are blamed on the exact
// (sub)test even from t.Parallel subtests and after intermediate goroutines
// exited. While any Check is active, GODEBUG carries tracebacklabels=1 so
// that dumps print labels, unless they print already (Go 1.27 in a module
// declaring go 1.27); the previous value is restored afterwards. A failure
// points at the test's line that calls Check.
// Check replaces pprof labels the test goroutine already had. It then
// registers a t.Cleanup that runs [VerifyNone] with opts and
// [VerifyClosed] when the test and its subtests are done. Register other
// cleanups (servers to close) after Check: cleanups run last-registered
// first, so they run before the check.
func Check(t CleanupT, opts ...Option) {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	name := ""
	if n, ok := t.(namer); ok {
		name = n.Name()
	}
	observe(curID(), name)
	undo := func() {}
	if name != "" {
		labelTest(name)
		undo = enableTracebackLabels()
	}
	mark := closeMark()
	t.Cleanup(func() {
		if h, ok := t.(helper); ok {
			h.Helper() // the failure points at the test's call of Check
		}
		defer undo()
		VerifyNone(t, opts...)
		verifyClosedSince(t, mark)
	})
}

// VerifyTestMain runs the tests with m.Run and, when they passed (or always,
// with [CheckOnFailure]), runs [Find] with opts; a leak is printed to stderr
// and turns the exit code into 1. It then exits the process with that code,
// so it is the last statement of TestMain:
//
//	func TestMain(m *testing.M) { leak.VerifyTestMain(m) }
//
// Goroutines are blamed on the test that started them as far as labels
// and "created by" chains allow. When some cannot be attributed (their
// creators exited), VerifyTestMain runs the test binary once more, with
// the same arguments and environment plus GODEBUG=tracebackancestors=32,
// and names their tests from the rerun's ancestor traces; the report says
// that it reran, how long it took and whether the leak reproduced. The
// rerun costs one more run of the tests, only on a failing check, bounded
// by [Rerun]. Where no test can be named (started in init or TestMain,
// not reproduced) the report says which case it is and what to do.
func VerifyTestMain(m TestingM, opts ...Option) {
	c := buildConfig(opts)
	exit := c.exit
	if exit == nil {
		exit = os.Exit
	}
	if path := os.Getenv(rerunEnv); path != "" {
		exit(rerunChild(m, c, path))
		return
	}
	start := c.now()
	code := m.Run()
	c.ran = c.now().Sub(start)
	code = verifyMain(c, code, os.Stderr)
	exit(code)
}

func verifyMain(c *config, code int, w io.Writer) int {
	if code != 0 && !c.checkOnFailure {
		return code
	}
	if e := c.find(curID(), ""); e != nil {
		if e.Err == nil && needsRerun(e) && c.rerunOn() {
			limit := c.rerun
			if limit < 0 {
				limit = min(2*c.ran+rerunSlack, rerunMax)
			}
			e.Rerun = c.rerunner(context.Background(), c, e, limit)
			e.explain()
		}
		fmt.Fprintf(w, "%v\n", e)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		if err := unclosedError(0, ""); err != nil {
			fmt.Fprintf(w, "%v\n", err)
			code = 1
		}
	}
	return code
}
