package checklist_test

import (
	"fmt"
	"os"

	"github.com/govitals/vitals/checklist"
)

// A service with GOMAXPROCS=16 in a 2-core container is oversubscribed.
func ExampleEvaluate() {
	results := checklist.Evaluate(checklist.Facts{
		GOMAXPROCS:       16,
		GOMAXPROCSSource: "env",
		CPULimit:         2,
		CPULimitKnown:    true,
		GOTRACEBACK:      "all",
	})
	for _, r := range results {
		if r.Status != checklist.Skip {
			fmt.Printf("%s %s: %s\n", r.Status, r.ID, r.Evidence)
		}
	}
	fmt.Println("exit code", checklist.ExitCode(results))
	// Output:
	// fail gomaxprocs: GOMAXPROCS=16 (env), CPU limit 2 cores: 16 Ps oversubscribe a quota that fits 2, so the cgroup throttles the process
	// pass gotraceback: GOTRACEBACK=all
	// exit code 2
}

func ExampleWriteText() {
	results := checklist.Evaluate(checklist.Facts{GOTRACEBACK: "single"})
	checklist.WriteText(os.Stdout, results[2:3], false)
	// Output:
	// WARN  GOTRACEBACK=all for crash diagnostics  GOTRACEBACK=single: a crash prints only the failing goroutine
	//       fix: set GOTRACEBACK=all in the container's environment, or import github.com/govitals/vitals/auto
}
