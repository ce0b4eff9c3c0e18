// Package procscan finds the Go processes on this machine by reading /proc
// and audits each against the production checklist from the outside,
// without an agent in the process: build information from the binary
// (/proc/PID/exe through [debug/buildinfo], so any Go program is found,
// whether or not it links vitals), its cgroup limits (package cgroup,
// against that process's /proc/PID/cgroup), the GOMAXPROCS, GOMEMLIMIT,
// GOTRACEBACK and GODEBUG of its environment and what its Go version's
// runtime does with them, and its listening TCP sockets, each probed on
// loopback for debug endpoints served without auth (package doctor's
// public probe). This is what `vitals ps` prints.
//
// What cannot be read is reported, never dropped: a process whose binary or
// environment the caller may not read (another user's, without root) is
// listed with the reason.
//
// # What is judged from outside
//
// The settings a process runs with are predicted from its environment, its
// Go version and its cgroup: a program that calls runtime.GOMAXPROCS or
// debug.SetMemoryLimit itself is not seen. A process that links vitals is
// assumed to run vitals.Start or vitals/auto, which fit GOMAXPROCS and
// GOMEMLIMIT to the cgroup and set GOTRACEBACK=all unless the environment
// says otherwise. Rules that need the inside of the process (finalizers,
// goroutines, the live heap) skip.
//
// # Costs
//
// [Scan] reads a handful of small /proc files per process, opens each
// distinct Go binary once (a few section headers), reads the cgroup files
// of each Go process and the TCP tables once per network namespace, and
// sends about fifteen cheap GETs to each listening port of a Go process in
// this network namespace, on loopback only (never a CPU profile or a
// trace; a port that serves pprof pays a goroutine and a heap profile).
// Nothing is changed in any process.
package procscan
