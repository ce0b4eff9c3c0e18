// Package tracebound defines an Analyzer that reports execution traces that
// are not stopped, or not bounded in time.
//
// # Analyzer tracebound
//
// tracebound: report runtime/trace.Start without a Stop on every path or a time bound
//
// The execution tracer records every scheduler, GC and syscall event: a busy
// service writes megabytes of trace a second, and tracing costs CPU. A trace
// is for a bounded investigation. For each trace.Start call the analyzer
// reports:
//
//   - a Start that is never stopped: no trace.Stop in the function (called,
//     deferred, or handed on as in time.AfterFunc(d, trace.Stop)) and none
//     anywhere else in the package;
//   - a Start followed by direct trace.Stop calls that some path from the
//     Start to a return skips (the path where Start returned an error is
//     exempt), found on the function's control-flow graph;
//   - a Start in func main or func init of a main package that is stopped
//     only when the function returns, with nothing in the function bounding
//     its duration (time.Sleep, time.After, time.AfterFunc, time.NewTimer,
//     context.WithTimeout or context.WithDeadline): a trace as long as the
//     program's life.
//
// For always-on tracing, files written for Go 1.25 or later are pointed at
// trace.FlightRecorder, which keeps only the last few seconds in memory and
// writes them out on demand.
//
// A //vitals:ignore tracebound <reason> comment suppresses a report.
// There is no suggested fix.
package tracebound
