package vitals_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/tracecap"
)

// Start at the top of main: settings, metrics, leak watchdog, flight
// recorder and the admin server in one call, and one Close. A taken admin
// port is logged and reported by Err; the service carries on.
func ExampleStart() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	tmp, err := os.MkdirTemp("", "traces")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	svc, err := vitals.Start(ctx,
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0")), // default 127.0.0.1:6060
		vitals.FlightRecorder(tracecap.WithMinAge(5*time.Second)),
		vitals.TraceDir(tmp, 10, 200<<20),
		vitals.StartLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		log.Fatal(err) // invalid options only
	}
	defer svc.Close()
	if err := svc.Err(); err != nil {
		log.Printf("running without: %v", err)
	}

	// Later, when a request is slow (rate-limited to one a minute):
	if _, err := svc.Snapshot("slow checkout"); err == nil {
		fmt.Println("snapshot written")
	}
	// Output: snapshot written
}
