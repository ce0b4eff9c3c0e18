package metrics_test

import (
	"fmt"

	"github.com/govitals/vitals/metrics"
)

// Example reads the live goroutine count and GOMAXPROCS from a sampler.
func Example() {
	s, err := metrics.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	i := s.Index("/sched/goroutines:goroutines")
	s.View(func(sn *metrics.Snapshot) {
		fmt.Println("goroutines > 0:", sn.Value(i) > 0)
		fmt.Println("GOMAXPROCS > 0:", sn.Settings.GOMAXPROCS > 0)
	})
	// Output:
	// goroutines > 0: true
	// GOMAXPROCS > 0: true
}
