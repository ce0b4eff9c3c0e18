// Package gcoff defines an Analyzer that reports turning the garbage
// collector off without a memory limit.
//
// # Analyzer gcoff
//
// gcoff: report debug.SetGCPercent(-1) in a program with no memory limit
//
// debug.SetGCPercent with a negative value turns the collector off. With a
// memory limit set (debug.SetMemoryLimit, or GOMEMLIMIT) that is a known
// tuning: collect only when the heap nears the limit. Without one, the heap
// grows until the container is killed for running out of memory.
//
// A call with a constant negative percentage is reported unless the package,
// or a package it imports directly or transitively, calls
// debug.SetMemoryLimit. The imports are followed through an analysis fact
// (SetsMemoryLimit), so a main package that imports a package setting the
// limit (such as vitals/auto) is not reported. A limit set only through the
// GOMEMLIMIT environment variable cannot be seen: say so in a
// //vitals:ignore gcoff <reason> comment. There is no suggested fix.
package gcoff
