package tracebound_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/internal/versiontest"
	"github.com/govitals/vitals/passes/tracebound"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), tracebound.Analyzer, "a", "never", "forever", "split")
}

// TestVersions checks that trace.FlightRecorder is suggested only to files
// written for Go 1.25 or later.
func TestVersions(t *testing.T) {
	versiontest.Run(t, tracebound.Analyzer)
}
