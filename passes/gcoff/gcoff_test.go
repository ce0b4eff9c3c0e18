package gcoff_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/gcoff"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), gcoff.Analyzer, "a", "limit", "usesLimit", "nolimit")
}
