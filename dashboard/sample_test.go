package dashboard

import (
	"math"
	rtm "runtime/metrics"
	"testing"
)

func TestQuantiles(t *testing.T) {
	inf := math.Inf(1)
	h := &rtm.Float64Histogram{
		Buckets: []float64{math.Inf(-1), 0, 1e-6, 1e-5, 1e-4, 1e-3, inf},
		Counts:  []uint64{0, 10, 20, 30, 40, 50},
	}
	tests := []struct {
		name       string
		before     []uint64
		q1, q2, q3 float64
		w1, w2, w3 float64
		none       bool
	}{
		{"no new events", []uint64{0, 10, 20, 30, 40, 50}, 0.5, 0.99, 1, 0, 0, 0, true},
		{"one bucket", []uint64{0, 10, 20, 29, 40, 50}, 0.5, 0.99, 1, 1e-4, 1e-4, 1e-4, false},
		// 10 new in [1µs,10µs), 10 in [10µs,100µs): p50 is the first bucket's top.
		{"two buckets", []uint64{0, 10, 10, 20, 40, 50}, 0.5, 0.9, 1, 1e-5, 1e-4, 1e-4, false},
		// The unbounded last bucket reports its lower bound.
		{"overflow", []uint64{0, 10, 20, 30, 40, 40}, 0.5, 0.99, 1, 1e-3, 1e-3, 1e-3, false},
		{"all from zero", []uint64{0, 0, 0, 0, 0, 0}, 0.1, 0.5, 1, 1e-5, 1e-3, 1e-3, false}, // 15th of 150 in [1µs,10µs), 75th in [100µs,1ms)
		// A counter that went backwards (a reset) is ignored, not negative.
		{"reset bucket", []uint64{0, 99, 20, 29, 40, 50}, 0.5, 0.99, 1, 1e-4, 1e-4, 1e-4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g1, g2, g3 := quantiles(h, tt.before, tt.q1, tt.q2, tt.q3)
			if tt.none {
				if !math.IsNaN(g1) || !math.IsNaN(g2) || !math.IsNaN(g3) {
					t.Fatalf("got %v %v %v, want NaN", g1, g2, g3)
				}
				return
			}
			if g1 != tt.w1 || g2 != tt.w2 || g3 != tt.w3 {
				t.Errorf("got %v %v %v, want %v %v %v", g1, g2, g3, tt.w1, tt.w2, tt.w3)
			}
		})
	}
}

func TestAppendPoint(t *testing.T) {
	var p point
	for i := range p {
		p[i] = math.NaN()
	}
	p[fT] = 1764200000.1234
	p[fHeapLive] = 4 << 20
	p[fGCCPU] = 0.012345678
	p[fGoroutines] = 12
	p[fThrottledSPS] = math.Inf(1)
	got := string(appendPoint(nil, &p))
	want := "[1764200000.123,4194304,null,null,null,null,null,null,null,0.012346,12" +
		",null,null,null,null,null,null,null,null,null,null,null,null,null,null,null]"
	if got != want {
		t.Errorf("appendPoint =\n%s\nwant\n%s", got, want)
	}
	if len(fields) != nFields {
		t.Errorf("%d field names for %d fields", len(fields), nFields)
	}
}
