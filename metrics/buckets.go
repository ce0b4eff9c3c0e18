package metrics

import "math"

// MergeBuckets reduces runtime/metrics bucket boundaries (inclusive lower
// bounds, possibly starting at -Inf and ending at +Inf) to the coarser set
// client_golang exposes, so that histogram_quantile over old and new series
// agree: byte sizes keep boundaries at least a factor 2 apart, durations a
// factor 10 apart with everything above one second folded into +Inf. Other
// units keep every boundary. The result is a subset of b.
func MergeBuckets(b []float64, unit string) []float64 {
	switch unit {
	case "bytes":
		return thin(b, 2)
	case "seconds":
		m := thin(b, 10)
		for i, x := range m {
			if x > 1 {
				m[i] = math.Inf(1)
				return m[:i+1]
			}
		}
		return m
	}
	return append([]float64(nil), b...)
}

// thin keeps boundaries that are at least a factor base from the previously
// kept one, walking up from the lowest; a leading -Inf and the last boundary
// are always kept.
func thin(b []float64, base float64) []float64 {
	if len(b) == 0 {
		return nil
	}
	var out []float64
	if math.IsInf(b[0], -1) {
		out = append(out, b[0])
		b = b[1:]
		if len(b) == 0 {
			return out
		}
	}
	kept := b[0]
	for _, x := range b[1:] {
		far := x >= kept*base
		if kept < 0 {
			far = x >= kept/base
		}
		if !far {
			continue
		}
		out = append(out, kept)
		kept = x
	}
	return append(out, kept)
}

// Layout is how one runtime histogram's fine buckets map onto the merged
// buckets an exporter exposes.
type Layout struct {
	// Upper are the inclusive upper bounds of the exposed buckets (the +Inf
	// bucket is implicit).
	Upper []float64
	// Fine[i] is the exposed bucket fine bucket i lands in; len(Upper) means
	// the implicit +Inf bucket.
	Fine []int
}

// NewLayout maps fine runtime buckets (boundaries fb) onto merged boundaries
// mb, a subset of fb such as [MergeBuckets] returns. Cost: two small slices.
func NewLayout(fb, mb []float64) Layout {
	if len(mb) > 0 && math.IsInf(mb[0], -1) {
		mb = mb[1:]
	}
	var l Layout
	// Merged bucket j spans [mb[j], mb[j+1]); its inclusive upper bound is
	// the float just below mb[j+1].
	for j := 0; j+1 < len(mb); j++ {
		if math.IsInf(mb[j+1], 1) {
			break
		}
		l.Upper = append(l.Upper, math.Nextafter(mb[j+1], math.Inf(-1)))
	}
	l.Fine = make([]int, len(fb)-1)
	j := 0
	for i := range l.Fine {
		// Fine bucket i spans [fb[i], fb[i+1]).
		for j < len(l.Upper) && fb[i+1] > mb[j+1] {
			j++
		}
		l.Fine[i] = j
	}
	return l
}

// Midpoint is the value assumed for observations in the bucket [lo, hi) when
// no exact sum exists: the middle, or the finite end of a half-infinite one.
func Midpoint(lo, hi float64) float64 {
	switch {
	case math.IsInf(lo, -1) && math.IsInf(hi, 1):
		return 0
	case math.IsInf(lo, -1):
		return hi
	case math.IsInf(hi, 1):
		return lo
	}
	return lo + (hi-lo)/2
}
