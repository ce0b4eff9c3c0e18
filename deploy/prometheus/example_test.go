package prometheus_test

import (
	"fmt"
	"strings"

	vitalsrules "github.com/govitals/vitals/deploy/prometheus"
)

// Example lists the alerts the rule file defines.
func Example() {
	for _, line := range strings.Split(string(vitalsrules.Rules), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert: "); ok {
			fmt.Println(name)
		}
	}
	// Output:
	// GoCPUThrottled
	// GoMaxProcsAboveCPULimit
	// GoHeapNearMemoryLimit
	// GoGCCPUHigh
	// GoGoroutineLeakSuspected
	// GoChecklistDrift
}
