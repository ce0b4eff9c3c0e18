package vitals_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"

	"github.com/govitals/vitals"
)

// Setup at the top of main applies the checklist; the report says what
// changed and why. Undo is for tests and tools; a service keeps the settings.
func ExampleSetup() {
	r, err := vitals.Setup() // an error means an invalid option, nothing else
	if err != nil {
		log.Fatal(err)
	}
	defer r.Undo()
	fmt.Println("GOMAXPROCS in effect:", r.GOMAXPROCS == runtime.GOMAXPROCS(0))
	// Output: GOMAXPROCS in effect: true
}

// Options tune each decision; an operator's environment variables still win.
func ExampleSetup_options() {
	crashFile := filepath.Join(os.TempDir(), "vitals-example-crash.log")
	defer os.Remove(crashFile)
	r, err := vitals.Setup(
		vitals.ProcsReserve(0.5),     // a sidecar shares the CPU quota
		vitals.MemoryLimitRatio(0.8), // leave room for non-heap memory
		vitals.MemoryHigh(),
		vitals.CrashOutput(crashFile, 1<<20), // rotated aside above 1MiB
	)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Undo()
	d, _ := r.Decision(vitals.SettingCrashOutput)
	fmt.Println(d.Setting, d.Changed)
	// Output: crash_output true
}

// Plan computes the report without changing anything, here for a captured
// tree of a container limited to 1.5 CPUs and 300MiB.
func ExamplePlan() {
	r, err := vitals.Plan(vitals.WithCgroupRoot("startup/testdata/pod"))
	if err != nil {
		log.Fatal(err)
	}
	d, _ := r.Decision(vitals.SettingGOMEMLIMIT)
	fmt.Printf("%s %s → %s from %s %s\n", d.Setting, d.Old, d.New, d.Source, d.Path)
	fmt.Println("dry run:", r.DryRun)
	// Output:
	// GOMEMLIMIT off → 283115520 from cgroup v2 /sys/fs/cgroup/memory.max
	// dry run: true
}

// WriteText prints the table "vitals doctor" shows.
func ExampleReport_WriteText() {
	r, err := vitals.Plan()
	if err != nil {
		log.Fatal(err)
	}
	_ = r.WriteText(os.Stdout)
}
