// Package gccall defines an Analyzer that reports calls to runtime.GC outside
// tests and benchmarks.
//
// # Analyzer gccall
//
// gccall: report runtime.GC calls in production code
//
// runtime.GC runs a full, blocking collection: the caller waits for a whole
// mark phase, and the CPU it costs grows with the live heap. The runtime's
// pacer already decides when to collect from GOGC and GOMEMLIMIT, and decides
// better than a fixed call site. Calls are matched through the type checker,
// so an aliased import ("rt.GC()") or a dot import is reported too.
//
// Not reported:
//   - calls in _test.go files (tests and benchmarks measure things);
//   - a call followed directly by runtime.ReadMemStats in a function that
//     takes a *testing.B, *testing.T or testing.TB, the one legitimate use
//     in a benchmark helper: collect, then read settled numbers;
//   - a call with a //vitals:ignore gccall <reason> comment.
//
// There is no suggested fix: removing the call changes when memory is
// returned, which only the author can judge.
package gccall
