package metrics

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies proves with go list -deps that the sampler core imports
// neither Prometheus nor OpenTelemetry, that the Prometheus exporter does not
// pull in OpenTelemetry, and the reverse; and that otelexport needs the
// OpenTelemetry API only, not the SDK.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("go not in PATH (CI=true)")
		}
		t.Skip("go not in PATH")
	}
	const (
		prom = "github.com/prometheus/"
		otel = "go.opentelemetry.io/"
	)
	tests := []struct {
		pkg       string
		forbidden []string
		required  string
	}{
		{"github.com/govitals/vitals/metrics", []string{prom, otel}, "github.com/govitals/vitals/cgroup"},
		{"github.com/govitals/vitals/metrics/promexport", []string{otel}, "github.com/prometheus/client_golang/prometheus"},
		{"github.com/govitals/vitals/metrics/otelexport", []string{prom, otel + "otel/sdk"}, "go.opentelemetry.io/otel/metric"},
		{"github.com/govitals/vitals/metrics/otelexport/producer", []string{prom}, "go.opentelemetry.io/otel/sdk/metric/metricdata"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command(gobin, "list", "-deps", tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tt.pkg, err)
			}
			deps := strings.Fields(string(out))
			found := false
			for _, d := range deps {
				for _, f := range tt.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s depends on %s", tt.pkg, d)
					}
				}
				found = found || d == tt.required
			}
			if !found {
				t.Errorf("%s does not depend on %s: the check is not looking at the right graph", tt.pkg, tt.required)
			}
		})
	}
}
