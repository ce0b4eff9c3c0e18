package finalizer_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/finalizer"
	"github.com/govitals/vitals/passes/internal/versiontest"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), finalizer.Analyzer, "a")
}

// TestVersions checks that runtime.AddCleanup is suggested only to files
// written for Go 1.24 or later.
func TestVersions(t *testing.T) {
	versiontest.Run(t, finalizer.Analyzer)
}
