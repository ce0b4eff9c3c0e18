package otelexport

import (
	"context"
	"testing"

	"github.com/govitals/vitals/incident"
)

// TestIncidents: with WithIncidents, vitals.incidents counts a real
// monitor's bundles by trigger, every trigger present; a nil monitor
// observes nothing and breaks nothing.
func TestIncidents(t *testing.T) {
	m, err := incident.New(t.TempDir(), incident.NoFlightRecorder(), incident.ManualInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reader, mp, _ := registered(t, WithIncidents(m))

	count := func() map[string]float64 {
		out := map[string]float64{}
		for _, p := range collect(t, reader)["vitals.incidents"] {
			v, _ := p.attrs.Value("vitals.incident.trigger")
			out[v.AsString()] = p.value
		}
		return out
	}
	before := count()
	if len(before) != len(incident.Triggers()) || before["manual"] != 0 {
		t.Fatalf("before any capture: %v, want every trigger at 0", before)
	}
	for range 2 {
		if _, err := m.Capture(context.Background(), "otel test"); err != nil {
			t.Fatal(err)
		}
	}
	if after := count(); after["manual"] != 2 || after["memory"] != 0 {
		t.Errorf("after two manual captures: %v", after)
	}

	var none *incident.Monitor
	e2, err := Register(mp, WithIncidents(none))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if got := collect(t, reader)["vitals.incidents"]; len(got) != len(incident.Triggers()) {
		t.Errorf("a nil monitor changed the points: %d", len(got))
	}
}
