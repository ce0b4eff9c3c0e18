package procscan_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/govitals/vitals/procscan"
)

// Audit every Go process on this machine, as `vitals ps` does.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := procscan.Scan(ctx)
	if err := rep.WriteText(os.Stdout, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Println("exit code", rep.ExitCode) // 0 pass, 1 warn, 2 fail
}

// Read what the processes run with, without sending them any request.
func ExampleWithoutProbe() {
	rep := procscan.Scan(context.Background(), procscan.WithoutProbe())
	for _, p := range rep.Processes {
		fmt.Println(p.PID, p.GoVersion, p.Settings.GOMAXPROCS, p.Settings.GOMEMLIMITRule)
	}
	for _, s := range rep.Skipped {
		fmt.Println("not audited:", s.PID, s.Reason)
	}
}
