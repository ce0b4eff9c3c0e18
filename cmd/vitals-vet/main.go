// Command vitals-vet runs the vitals analyzers, which catch misuses of the
// runtime's diagnostic and operational calls: runtime.GC in production code
// (gccall), finalizers (finalizer), debug handlers served beyond loopback
// (pprofexpose), unbounded execution traces (tracebound), ReadMemStats polled
// too often (memstatspoll), silently truncated runtime.Stack dumps
// (stackbuf), runtime.GOMAXPROCS(n > 0) (maxprocs) and a disabled GC with no
// memory limit (gcoff).
//
// # Usage
//
// Run it on package patterns, like any analysis driver:
//
//	vitals-vet ./...
//	vitals-vet -json ./...
//	vitals-vet -gccall=false -fix ./...
//
// or as the go command's vet tool, which caches results per package:
//
//	go vet -vettool=$(which vitals-vet) ./...
//
// A finding that is intended is suppressed with a comment that names the
// analyzer and says why, on the line or alone on the line above:
//
//	runtime.GC() //vitals:ignore gccall frees the arena before fork
//
// Standalone, vitals-vet exits with 3 when it reports a finding and 1 on
// errors; -json reports findings on stdout and exits 0. Under go vet the go
// command prints the findings and exits with 1.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/govitals/vitals/passes"
)

func main() {
	multichecker.Main(passes.All()...)
}
