package grafana_test

import (
	"encoding/json"
	"fmt"

	"github.com/govitals/vitals/deploy/grafana"
)

// Read the dashboard's identity, for provisioning it.
func Example() {
	var d struct {
		UID   string `json:"uid"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(grafana.Dashboard, &d); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.UID, d.Title)
	// Output: vitals-go-runtime Go runtime (vitals)
}
