// Package finalizer defines an Analyzer that reports runtime.SetFinalizer
// calls and finalizers or cleanups that keep their own object alive.
//
// # Analyzer finalizer
//
// finalizer: report runtime.SetFinalizer and self-capturing cleanups
//
// A finalizer is not guaranteed to run: pending finalizers are skipped at
// exit, and none run while the object is reachable. It runs on a single
// runtime goroutine where a panic kills the process, and it keeps its object
// (and everything the object points to) alive for one more GC cycle. An
// explicit Close, called with defer and checked in tests, is the primary
// lifecycle; in files whose Go version is 1.24 or later the report also
// suggests runtime.AddCleanup, which does not resurrect the object and may
// attach several cleanups to one object.
//
// A finalizer closure that refers to its own object, or a runtime.AddCleanup
// whose cleanup closure or argument refers to the object, makes the object
// reachable from a GC root forever: the object is never freed and the
// finalizer or cleanup never runs. Those are reported at the reference.
//
// runtime.SetFinalizer(obj, nil), which removes a finalizer, is not reported.
// A //vitals:ignore finalizer <reason> comment suppresses a report.
// There is no suggested fix.
package finalizer
