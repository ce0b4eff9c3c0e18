package leak

import "testing"

// The package checks itself. provenLeak is the one goroutine left behind on
// purpose (only when built with GOEXPERIMENT=goroutineleakprofile): it can
// never exit.
func TestMain(m *testing.M) {
	VerifyTestMain(m, IgnoreTopFunction("github.com/govitals/vitals/leak.provenLeak"))
}
