package otelexport

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/semconv/v1.43.0/goconv"
)

// semconvInstrument is one Go runtime instrument of the semantic conventions.
type semconvInstrument interface {
	Name() string
	Unit() string
	Description() string
}

// TestSemconv holds the instruments to the Go runtime semantic conventions
// (semconv v1.43.0, package goconv) on the running toolchain: every
// convention is emitted here (or, for the two histograms, by package
// producer) with its name, unit, description and kind (counter or
// up-down counter), and its attributes' keys and values.
func TestSemconv(t *testing.T) {
	conventions := []semconvInstrument{
		goconv.ConfigGogc{}, goconv.CPUTimeObservable{}, goconv.GoroutineCount{},
		goconv.MemoryAllocated{}, goconv.MemoryAllocations{}, goconv.MemoryGCCyclesObservable{},
		goconv.MemoryGCGoal{}, goconv.MemoryLimit{}, goconv.MemoryUsed{}, goconv.ProcessorLimit{},
	}
	histograms := map[string]bool{ // package producer's; see its TestSemconv
		goconv.ScheduleDuration{}.Name():      true,
		goconv.MemoryGCPauseDuration{}.Name(): true,
	}
	reader, _, _ := registered(t)
	runtime.GC()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = m
		}
	}
	for _, c := range conventions {
		m, ok := got[c.Name()]
		if !ok {
			if c.Name() == (goconv.MemoryLimit{}).Name() {
				continue // observed only while a limit is set
			}
			t.Errorf("%s not emitted", c.Name())
			continue
		}
		if m.Unit != c.Unit() || m.Description != c.Description() {
			t.Errorf("%s: unit %q description %q; semconv: %q %q", c.Name(), m.Unit, m.Description, c.Unit(), c.Description())
		}
		inst := reflect.ValueOf(c).MethodByName("Inst").Type().Out(0).Name()
		wantMonotonic := !strings.Contains(inst, "UpDown")
		var monotonic bool
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			monotonic = d.IsMonotonic
		case metricdata.Sum[float64]:
			monotonic = d.IsMonotonic
		default:
			t.Errorf("%s: %T, want a sum", c.Name(), m.Data)
			continue
		}
		if monotonic != wantMonotonic {
			t.Errorf("%s: monotonic %v, semconv's instrument is a %s", c.Name(), monotonic, inst)
		}
	}
	for name := range got {
		if histograms[name] {
			t.Errorf("%s emitted here and by package producer", name)
		}
	}

	// Attributes: keys and values as the conventions spell them.
	attrs := func(name string) map[attribute.Key][]string {
		out := map[attribute.Key][]string{}
		for _, p := range collectOf(t, got[name]) {
			for _, kv := range p.ToSlice() {
				out[kv.Key] = append(out[kv.Key], kv.Value.AsString())
			}
		}
		return out
	}
	memType := (goconv.MemoryUsed{}).AttrMemoryType(goconv.MemoryTypeStack).Key
	if a := attrs(goconv.MemoryUsed{}.Name()); len(a) != 1 || !sameSet(a[memType], []string{string(goconv.MemoryTypeStack), string(goconv.MemoryTypeOther)}) {
		t.Errorf("go.memory.used attributes %v, want %s = stack, other", a, memType)
	}
	cpuState := (goconv.CPUTimeObservable{}).AttrCPUState(goconv.CPUStateUser).Key
	want := []string{string(goconv.CPUStateUser), string(goconv.CPUStateGC), string(goconv.CPUStateScavenge), string(goconv.CPUStateIdle)}
	if a := attrs(goconv.CPUTimeObservable{}.Name()); len(a) != 1 || !sameSet(a[cpuState], want) {
		t.Errorf("go.cpu.time attributes %v, want %s = %v", a, cpuState, want)
	}
}

func collectOf(t *testing.T, m metricdata.Metrics) []attribute.Set {
	t.Helper()
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			out = append(out, dp.Attributes)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, s := range a {
		m[s] = true
	}
	for _, s := range b {
		if !m[s] {
			return false
		}
	}
	return true
}
