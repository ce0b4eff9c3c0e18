package vitals_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
		vitals.WithLogger(slog.New(slog.DiscardHandler)), // also a Setup option
	)
	if err != nil {
		log.Fatal(err) // invalid options only
	}
	defer svc.Close()
	if err := svc.Err(); err != nil {
		log.Printf("running without: %v", err) // already logged once, at Warn
	}

	// Later, when a request is slow (rate-limited to one a minute):
	if _, err := svc.Snapshot("slow checkout"); err == nil {
		fmt.Println("snapshot written")
	}
	// Output: snapshot written
}

// An application that already registers on client_golang's default registry
// (whose Go and process collectors overlap vitals') serves it on the admin
// server's /metrics next to vitals' metrics: each go_* and process_* family
// once, all of the application's own.
func ExampleMetricsGatherers() {
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_requests_total", Help: "Requests served."})
	prometheus.MustRegister(requests)
	defer prometheus.Unregister(requests)
	requests.Add(2)

	svc, err := vitals.Start(context.Background(),
		vitals.MetricsGatherers(prometheus.DefaultGatherer),
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0")), // default 127.0.0.1:6060
		vitals.SetupOptions(vitals.KeepGOMAXPROCS(), vitals.KeepGOMEMLIMIT()),
		vitals.NoWatchdog(),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	resp, err := http.Get("http://" + svc.Admin().Addr() + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "shop_requests_total") || strings.HasPrefix(l, "# TYPE go_goroutines") || strings.HasPrefix(l, "# TYPE process_cpu") {
			fmt.Println(l)
		}
	}
	// Output:
	// 200 OK
	// # TYPE go_goroutines gauge
	// # TYPE process_cpu_seconds_total counter
	// shop_requests_total 2
}
