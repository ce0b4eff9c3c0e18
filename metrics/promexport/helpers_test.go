package promexport

import (
	"testing"

	"github.com/govitals/vitals/metrics"
)

func newTestCollector(t testing.TB, opts ...metrics.Option) *Collector {
	t.Helper()
	s, err := metrics.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := New(WithSampler(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
