package startup_test

import (
	"fmt"
	"log"

	"github.com/govitals/vitals/startup"
)

// Plan shows what Setup would decide for a captured container tree limited
// to 1.5 CPUs and 300MiB, changing nothing.
func ExamplePlan() {
	r, err := startup.Plan(startup.WithCgroupRoot("testdata/pod"), startup.ProcsFloor())
	if err != nil {
		log.Fatal(err)
	}
	for _, setting := range []string{startup.SettingGOMAXPROCS, startup.SettingGOMEMLIMIT} {
		d, _ := r.Decision(setting)
		fmt.Printf("%s → %s (%s)\n", d.Setting, d.NewHuman(), d.Source)
	}
	// Output:
	// GOMAXPROCS → 1 (policy)
	// GOMEMLIMIT → 270MiB (cgroup v2)
}
