package pprofexpose_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/govitals/vitals/passes/pprofexpose"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), pprofexpose.Analyzer, "debughandlers", "public", "loopback", "server", "nodebug")
}
