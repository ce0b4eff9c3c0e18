package promtargets_test

import (
	"fmt"

	"github.com/govitals/vitals/promtargets"
)

// Derive a service's vitals admin URL from where Prometheus scrapes it.
func ExampleAdminURL() {
	u, _ := promtargets.AdminURL("http://10.0.0.7:6060/metrics", "")
	fmt.Println(u)
	u, _ = promtargets.AdminURL("http://10.0.0.7:8080/metrics", "10.0.0.7:6061") // vitals_admin label
	fmt.Println(u)
	// Output:
	// http://10.0.0.7:6060
	// http://10.0.0.7:6061
}
