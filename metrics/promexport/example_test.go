package promexport_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/govitals/vitals/metrics"
	"github.com/govitals/vitals/metrics/promexport"
)

// Example registers the collector in place of client_golang's Go collector
// and serves it on a mux of its own.
func Example() {
	c, err := promexport.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if name := mf.GetName(); name == "go_sched_latencies_seconds" || strings.HasPrefix(name, "vitals_gomaxprocs") {
			fmt.Println(name, mf.GetType())
		}
	}
	// Output:
	// go_sched_latencies_seconds HISTOGRAM
	// vitals_gomaxprocs GAUGE
}

// ExampleMerge serves the application's registry and the collector on one
// endpoint, sharing one sampler with other exporters; the collector is
// gathered directly, without a registry's per-metric bookkeeping.
func ExampleMerge() {
	s, err := metrics.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	c, err := promexport.New(promexport.WithSampler(s))
	if err != nil {
		fmt.Println(err)
		return
	}
	app := prometheus.NewRegistry()
	app.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests served."}))
	g := promexport.Merge(app, c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))

	mfs, err := g.Gather()
	fmt.Println(len(mfs) > 100, err)
	// Output: true <nil>
}
