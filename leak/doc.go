// Package leak finds goroutines that outlive their welcome — in tests, where
// it names the test that started them, and in production, where a watchdog
// notices a goroutine count that climbs and never falls back — and objects
// that were never closed.
//
// # In tests
//
// One line at the top of a test:
//
//	func TestServe(t *testing.T) {
//		leak.Check(t)
//		...
//	}
//
// or one TestMain for the whole package:
//
//	func TestMain(m *testing.M) { leak.VerifyTestMain(m) }
//
// [Check] verifies at the test's cleanup, after its subtests; [VerifyNone]
// verifies now; [Find] returns the result as an error. Each takes a
// goroutine dump (runtime.Stack), ignores the calling goroutine, the
// runtime's, the testing framework's (test goroutines, t.Parallel waits,
// fuzz workers) and the standard library's process-wide singletons
// (os/signal's loop, the execution tracer's reader), applies the options,
// and reports what is left grouped by stack: how many goroutines, in what
// state, blocked how long, created where, and leaked by which test.
//
// # Blame
//
// Every report names the test that started each goroutine when it can be
// told, and says why not when it cannot. The mechanisms, in the order a
// user meets them:
//
//   - [Check] at the top of a test puts a pprof label on the test
//     goroutine (vitals_leak_test=<name>). Everything the test starts
//     inherits it, however deep, through helpers in any package, after
//     any parent exited, with t.Parallel: the report names the exact
//     (sub)test, "TestTable/b". A goroutine started under pprof.Do or
//     pprof.SetGoroutineLabels gets the caller's labels instead and falls
//     to the next mechanisms. The failure points at the test's line that
//     calls Check.
//   - [VerifyNone] (and Check) record which goroutine runs the test: a
//     goroutine whose "created by … in goroutine N" chain reaches it, or
//     any live goroutine running a test (testing.tRunner on its stack), is
//     named after that test. A chain broken by a parent that exited is not
//     followed; the report then says "its creators have exited" and what
//     to do.
//   - The creating function, when it is a test or a closure in one, names
//     the top-level test even after it returned: "leaked by TestTable (via
//     pkg.TestTable.func1)".
//   - Ancestor traces, when the binary runs with
//     GODEBUG=tracebackancestors=N (each goroutine remembers the stacks of
//     N creators; it costs a copy of them at every go statement), survive
//     the parents.
//   - [VerifyTestMain], finding goroutines none of the above can attribute,
//     runs the test binary once more with GODEBUG=tracebackancestors=32
//     (same arguments and environment, output files left alone, never
//     recursively, bounded by [Rerun]) and names their tests from the
//     rerun: "leaked by TestHelper (found by the rerun)". The report says
//     that it reran, how long it took, and how many goroutines the rerun
//     reproduced. A helper's goroutine is named after the top-level test
//     ("TestSubtests (via pkg.TestSubtests.func1)"); use Check for the
//     exact subtest.
//
// Where no test can be named the report says which case it is, in one
// line: started during package initialization (init, package variables),
// started by TestMain, not leaked again by the rerun (timing-dependent),
// or a creation chain that passes through no test (a process-wide
// singleton: ignore it with [IgnoreCreatedBy]).
//
// A check run by a named test (Check, VerifyNone with a *testing.T) leaves
// alone goroutines blamed on another test that is still running — a
// t.Parallel neighbour checks its own — and does not report a goroutine a
// previous check already reported.
//
// Where Go's own leak detector exists (the goroutineleak profile: standard
// from Go 1.27, Go 1.26 built with GOEXPERIMENT=goroutineleakprofile; see
// [RuntimeDetector]), a failing check runs it once, at the end (it costs a
// garbage collection), and marks the goroutines the runtime proved leaked:
// blocked on something no running goroutine can reach.
//
// Go 1.27 prints pprof labels in goroutine headers by default in modules
// declaring go 1.27; Check sets GODEBUG=tracebacklabels=1 only where they
// are not printed already, and restores it afterwards.
//
// # Timing
//
// A clean check returns as soon as the unexpected goroutines are gone,
// polling with exponential backoff from 10 µs to 50 ms. A failing check
// stops once the leftover goroutines have stayed unchanged — same
// goroutines, same states — for [DefaultSettle] (150 ms), or after
// [DefaultTimeout] (5 s) if they keep changing (a pool that is still
// draining keeps the check waiting). goleak's fixed schedule spends ~0.45 s
// on every failing check; 150 ms of no change is three times the longest
// poll interval, long enough for goroutines that were told to stop to be
// scheduled and exit, even on a loaded machine. Use [Settle] and [Timeout]
// to change either.
//
// Dumps never make the check panic: a dump the parser does not expect
// ("...N frames elided...", truncated, garbled) is reported as best it can
// or returned as an error.
//
// # Close checks
//
// A library registers objects that must be closed with [TrackClose], which
// returns the function its Close calls. [Check], [VerifyClosed] and
// [VerifyTestMain] report every tracked object not closed, with the stack
// that created it and whether the garbage collector already found it
// unreachable (runtime.AddCleanup, which never resurrects the object).
// Tracking is on in test binaries only (see [SetCloseTracking]).
//
// # In production
//
// [NewWatchdog] samples the goroutine count (one runtime/metrics read,
// every 10 s by default), learns a baseline after a warm-up, and reports a
// suspected leak when the count stays above the baseline by an absolute and
// a relative slack for several windows and keeps growing. The report diffs
// a goroutine snapshot with the one taken at the baseline and lists the
// stacks that grew, with counts and pprof labels. Snapshots are the
// goroutine profile (debug=1), which the runtime collects without stopping
// the world for long (measured: at most 131 µs of pause with 100,000
// goroutines, against 200-270 ms for runtime.Stack of all of them), so a
// leak of 100,000 goroutines is reported rather than skipped. Profile
// records have no goroutine IDs, states, wait times or "created by"
// frames: up to [MaxDumpGoroutines] goroutines (1,000 by default) a full
// dump adds the created-by frame and first IDs to each reported group;
// above it the report's DetailSkipped says they are missing. Snapshots
// are rate-limited. The test-time checks ([Check], [VerifyNone],
// [VerifyTestMain]) keep using full dumps: they need IDs and created-by
// chains.
// The report leaves out the watchdog's own goroutines, vitals' other
// background goroutines and idle net/http connection goroutines.
// [Watchdog.State] feeds metrics (metrics.WithWatchdog) and says, while
// the watchdog warms up, when its first verdict comes (VerdictAt).
//
// # Coming from goleak
//
// go.uber.org/goleak maps onto this package as follows:
//
//	goleak.VerifyNone(t, opts...)        leak.VerifyNone(t, opts...), or leak.Check(t) at the top
//	goleak.VerifyTestMain(m, opts...)    leak.VerifyTestMain(m, opts...)
//	goleak.Find(opts...)                 leak.Find(opts...)
//	goleak.IgnoreTopFunction(f)          leak.IgnoreTopFunction(f)
//	goleak.IgnoreAnyFunction(f)          leak.IgnoreAnyFunction(f)
//	goleak.IgnoreCurrent()               leak.IgnoreCurrent()
//	goleak.Cleanup(func(exitCode int))   run the code after leak.Find in your own TestMain
//	goleak.MaxRetryAttempts, MaxSleepInterval (unexported)
//	                                     leak.Timeout(d), leak.Settle(d)
//	(none)                               leak.IgnoreCreatedBy(f), leak.CheckOnFailure(),
//	                                     leak.NoDefaultIgnores(), leak.WithoutRuntimeDetector(),
//	                                     leak.Rerun(limit)
//
// Differences: a clean check returns after the first poll that finds
// nothing; a failing one after 150 ms without change instead of ~0.45 s;
// reports are grouped by stack and name the leaking test (VerifyTestMain
// reruns the tests to do so when it must); t.Parallel tests
// can each Check; goroutines ignored by IgnoreCurrent are not parsed at all;
// unexpected dump formats never panic. goleak ignores any goroutine in a
// syscall; this package only ignores cgo callback threads parked in the
// runtime, so a goroutine stuck in a syscall is reported.
package leak
