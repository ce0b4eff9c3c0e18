package memstatspoll_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/memstatspoll"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), memstatspoll.Analyzer, "a")
}
