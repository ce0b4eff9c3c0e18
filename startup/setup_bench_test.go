package startup

import (
	"testing"

	"github.com/govitals/vitals/cgroup"
)

// BenchmarkSetup is Setup with defaults and Undo, against this machine's
// cgroups (compare bench/setup for the rival libraries).
func BenchmarkSetup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := Setup()
		if err != nil {
			b.Fatal(err)
		}
		r.Undo()
	}
}

// BenchmarkSetupDecisions is Setup and Undo with the cgroup read taken out
// (limits already known): the cost of vitals' own decisions and report.
func BenchmarkSetupDecisions(b *testing.B) {
	lim := cgroup.Read()
	read := withLimits(func() cgroup.Limits { return lim })
	b.ReportAllocs()
	for b.Loop() {
		r, err := Setup(read)
		if err != nil {
			b.Fatal(err)
		}
		r.Undo()
	}
}
