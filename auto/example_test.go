package auto_test

import (
	"fmt"
	"runtime"

	"github.com/govitals/vitals/auto"
)

// A service imports the package for its side effect, in package main:
//
//	import _ "github.com/govitals/vitals/auto"
//
// and starts with GOMAXPROCS, GOMEMLIMIT and GOTRACEBACK set, one log line
// on standard error saying so. Report shows what the import did.
func Example() {
	r := auto.Report()
	fmt.Println("GOMAXPROCS matches the report:", r.GOMAXPROCS == runtime.GOMAXPROCS(0))
	// Output: GOMAXPROCS matches the report: true
}
