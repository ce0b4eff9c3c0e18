package promexport

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

func TestMerge(t *testing.T) {
	c := newTestCollector(t, hooks()...)
	app := prometheus.NewRegistry()
	app.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}))
	app.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "zzz_last", Help: "Sorts last."}))

	// Same result as prometheus.Gatherers, which checks everything.
	want, err := prometheus.Gatherers{app, c}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Merge(app, c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(text(t, want), text(t, got)); diff != "" {
		t.Errorf("Merge differs from prometheus.Gatherers (-Gatherers +Merge):\n%s", diff)
	}

	// A name served twice is an error; the first family wins.
	dup := prometheus.NewRegistry()
	dup.MustRegister(collectors.NewGoCollector())
	mfs, err := Merge(c, dup).Gather()
	if err == nil {
		t.Error("Merge of two Go collectors reported no collision")
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if seen[mf.GetName()] {
			t.Errorf("%s served twice", mf.GetName())
		}
		seen[mf.GetName()] = true
	}
	if help := familyHelp(mfs, "go_goroutines"); help != familyHelp(gatherList(t, c), "go_goroutines") {
		t.Errorf("go_goroutines came from the second gatherer: %q", help)
	}
}

func gatherList(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func familyHelp(mfs []*dto.MetricFamily, name string) string {
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetHelp()
		}
	}
	return ""
}
