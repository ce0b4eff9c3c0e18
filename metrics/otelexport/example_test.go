package otelexport_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/govitals/vitals/metrics/otelexport"
)

// Example registers the runtime instruments on an SDK meter provider and
// collects them once.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	e, err := otelexport.Register(mp)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "go.goroutine.count" {
			fmt.Println(m.Name, m.Unit)
		}
	}
	// Output: go.goroutine.count {goroutine}
}
