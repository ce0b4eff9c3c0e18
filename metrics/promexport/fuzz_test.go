package promexport

import (
	rtm "runtime/metrics"
	"strings"
	"testing"
)

// FuzzRuntimeName checks that any runtime/metrics-like name maps to a valid
// Prometheus name or is refused, without panicking.
func FuzzRuntimeName(f *testing.F) {
	for _, d := range rtm.All() {
		f.Add(d.Name, uint8(d.Kind), d.Cumulative)
	}
	f.Add("/flat:bytes", uint8(rtm.KindUint64), false)
	f.Add("", uint8(0), false)
	f.Add(":", uint8(1), true)
	f.Add("/a/b:c/d*e-f", uint8(2), true)
	f.Fuzz(func(t *testing.T, name string, kind uint8, cumulative bool) {
		d := rtm.Description{Name: name, Kind: rtm.ValueKind(kind), Cumulative: cumulative}
		p, unit, ok := runtimeName(d)
		if !ok {
			return
		}
		if !validName.MatchString(p) || !strings.HasPrefix(p, "go_") {
			t.Fatalf("runtimeName(%q) = %q: not a valid Prometheus name", name, p)
		}
		if !strings.Contains(p, unit) {
			t.Fatalf("runtimeName(%q) = %q lacks its unit %q", name, p, unit)
		}
		if cumulative && d.Kind != rtm.KindFloat64Histogram && !strings.HasSuffix(p, "_total") {
			t.Fatalf("cumulative %q mapped to %q without _total", name, p)
		}
	})
}
