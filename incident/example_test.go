package incident_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/govitals/vitals/incident"
)

// Arm the monitor with the default triggers; a manual capture shows what a
// bundle holds.
func Example() {
	dir, _ := os.MkdirTemp("", "incidents")
	defer os.RemoveAll(dir)

	m, err := incident.New(dir, incident.NoFlightRecorder())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	inc, err := m.Capture(context.Background(), "example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inc.Trigger, incident.TriggerOf(filepath.Base(inc.Path)), m.Count(incident.Manual))
	// Output: manual manual 1
}
