package metrics

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeBuckets(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		in   []float64
		unit string
		want []float64
	}{
		{"bytes by powers of two", []float64{math.Inf(-1), 1, 2, 3, 4, 6, 8, 12, 16, inf}, "bytes", []float64{math.Inf(-1), 1, 2, 4, 8, 16, inf}},
		{"seconds by powers of ten, above 1s folded", []float64{0, 1e-3, 2e-3, 1e-2, 0.1, 0.5, 1, 10, 100, inf}, "seconds", []float64{0, 1e-3, 1e-2, 0.1, 1, inf}},
		{"other units untouched", []float64{1, 2, 3, inf}, "events", []float64{1, 2, 3, inf}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MergeBuckets(tt.in, tt.unit)); diff != "" {
				t.Errorf("MergeBuckets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	inf := math.Inf(1)
	fb := []float64{math.Inf(-1), 1, 2, 3, 4, 6, 8, inf}
	l := NewLayout(fb, MergeBuckets(fb, "bytes"))
	// Merged boundaries 1, 2, 4, 8, +Inf: buckets [1,2) [2,4) [4,8) [8,Inf).
	wantUpper := []float64{math.Nextafter(2, 0), math.Nextafter(4, 0), math.Nextafter(8, 0)}
	if diff := cmp.Diff(wantUpper, l.Upper); diff != "" {
		t.Errorf("Upper (-want +got):\n%s", diff)
	}
	// Fine buckets (-Inf,1) [1,2) [2,3) [3,4) [4,6) [6,8) [8,Inf).
	if diff := cmp.Diff([]int{0, 0, 1, 1, 2, 2, 3}, l.Fine); diff != "" {
		t.Errorf("Fine (-want +got):\n%s", diff)
	}
}
