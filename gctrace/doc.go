// Package gctrace reads the garbage collector's GODEBUG=gctrace=1 output and
// turns it into a summary with hints: how often GC runs, how much CPU it
// takes, how long it stops the world, where the heap and its goal go, and
// what to change.
//
// With gctrace=1 the runtime prints one line per GC cycle to standard error:
//
//	gc 12 @3.201s 4%: 0.020+1.5+0.031 ms clock, 0.081+0.40/1.2/2.9+0.12 ms cpu, 9->10->5 MB, 10 MB goal, 0 MB stacks, 0 MB globals, 4 P
//
// that is: cycle number, time since start, GC's share of CPU since start,
// wall time of the stop-the-world sweep termination, the concurrent mark and
// the stop-the-world mark termination; CPU time of sweep termination, mark
// (assist/background/idle) and mark termination; heap at start, at end and
// live; heap goal; scannable stacks and globals (Go 1.18+); and the number
// of Ps. "(forced)" at the end marks a runtime.GC call. The package also
// reads the lines printed next to these: "GC forced" (sysmon's two-minute
// collection), the scavenger's "scav …" lines of every format since Go 1.14
// and the "scvgN: …" lines before it, and gctrace=2's "scan: …" statistics.
// Anything else in the stream — the program's own output — is counted and
// passed over, never an error.
//
// # Usage
//
// [Summarize] reads a whole stream; [Reader] yields [Record]s one at a time
// in constant memory and can pass the non-trace lines on ([WithPassthrough]);
// [Summarizer] turns records into a [Summary], which writes itself as text
// ([Summary.WriteText]) or JSON. [Run] does all of it around a command:
// it adds gctrace=1 to the command's GODEBUG, passes the command's own
// standard error through and returns the summary when it exits.
//
// # Costs
//
// Parsing allocates nothing per line; a Reader holds one 64 KiB buffer and a
// Summarizer a bounded histogram and point series. Running a program with
// gctrace=1 costs it one short write to standard error per GC cycle.
//
// The package imports only the standard library; the plotting lives in
// gctrace/plot.
package gctrace
