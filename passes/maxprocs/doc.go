// Package maxprocs defines an Analyzer that reports runtime.GOMAXPROCS calls
// that set a value.
//
// # Analyzer maxprocs
//
// maxprocs: report runtime.GOMAXPROCS(n) with n > 0
//
// runtime.NumCPU counts the host's CPUs, not the container's CPU limit, so
// runtime.GOMAXPROCS(runtime.NumCPU()) makes a process with a 2-CPU quota on
// a 64-core host run 64 Ps, oversubscribe its quota and be throttled. It is
// reported in every Go version, with a suggested fix that deletes the
// statement (it only restates the default) and the runtime import if that
// was its last use.
//
// Since Go 1.25 the runtime sets GOMAXPROCS from the cgroup CPU limit and
// updates it when the limit changes, unless the program calls
// runtime.GOMAXPROCS(n) with n > 0, which freezes the value for good. In files
// whose Go version is 1.25 or later every call with a constant n > 0 or a
// non-constant n is reported; runtime.GOMAXPROCS(0) only reads the value and
// is never reported. Before Go 1.25 setting the value from the quota (what
// go.uber.org/automaxprocs does) is the right fix, so it is not reported.
//
// A //vitals:ignore maxprocs <reason> comment suppresses a report.
package maxprocs
