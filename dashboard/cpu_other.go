//go:build !unix

package dashboard

import "time"

// processCPU is unknown here: the chart shows no CPU use.
func processCPU() (time.Duration, bool) { return 0, false }
