package grafana_test

import (
	"testing"

	"github.com/govitals/vitals/leak"
)

// TestMain fails the package's tests if they leave goroutines running.
func TestMain(m *testing.M) { leak.VerifyTestMain(m) }
