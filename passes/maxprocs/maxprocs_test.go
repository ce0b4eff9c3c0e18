package maxprocs_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/internal/versiontest"
	"github.com/govitals/vitals/passes/maxprocs"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), maxprocs.Analyzer, "a")
}

func TestFix(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), maxprocs.Analyzer, "fix", "lastuse")
}

// TestVersions runs testdata/versions/*.txtar, modules whose go directive
// sets the file versions the analyzer gates on.
func TestVersions(t *testing.T) {
	versiontest.Run(t, maxprocs.Analyzer)
}
