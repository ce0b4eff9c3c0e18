package producer_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/govitals/vitals/metrics"
	"github.com/govitals/vitals/metrics/otelexport/producer"
)

// Example installs the producer on a reader next to the observable
// instruments of package otelexport.
func Example() {
	s, err := metrics.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	p, err := producer.New(s)
	if err != nil {
		fmt.Println(err)
		return
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Println(m.Name, m.Unit)
		}
	}
	// Output:
	// go.schedule.duration s
	// go.memory.gc.pause.duration s
}
