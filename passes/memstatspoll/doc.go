// Package memstatspoll defines an Analyzer that reports runtime.ReadMemStats
// polled in a loop faster than once a second.
//
// # Analyzer memstatspoll
//
// memstatspoll: report runtime.ReadMemStats polled faster than once a second
//
// runtime.ReadMemStats stops the world for every call. Once a second is
// plenty for metrics; runtime/metrics reads the same counters (and more)
// without stopping the world.
//
// A call is reported when it sits in a for or range loop of the same
// function and the loop is either not paced at all or paced by a constant
// period under one second: time.Sleep(d), <-time.After(d), range
// time.Tick(d), or a time.NewTicker(d) / time.NewTimer(d) whose channel the
// loop receives from. A loop paced by a period that is not a constant (a
// configuration value) is not reported, nor are _test.go files, which
// measure memory on purpose.
//
// A //vitals:ignore memstatspoll <reason> comment suppresses a report.
// There is no suggested fix.
package memstatspoll
