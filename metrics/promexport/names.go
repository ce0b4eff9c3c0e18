package promexport

import (
	"math"
	"regexp"
	rtm "runtime/metrics"
	"strings"
)

var validName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// runtimeName maps a runtime/metrics name to the Prometheus name
// client_golang's Go collector gives it, so that dashboards keep working:
// "go_" + the key's directories joined by "_" + "_" + its last element +
// "_" + the unit, with "-" and "*" turned into "_" and "/" in the unit into
// "_per_", and "_total" appended to cumulative scalars. It also returns the
// unit ("bytes", "seconds", ...) used to merge histogram buckets. ok is false
// for names Prometheus cannot carry and kinds it does not know.
func runtimeName(d rtm.Description) (name, unit string, ok bool) {
	key, unit, found := strings.Cut(d.Name, ":")
	if !found || !strings.HasPrefix(key, "/") {
		return "", "", false
	}
	key = key[1:]
	slash := strings.LastIndexByte(key, '/')
	if slash < 0 {
		return "", "", false // no subsystem: client_golang produces no valid name either
	}
	dash := strings.NewReplacer("/", "_", "-", "_")
	sub, base := dash.Replace(key[:slash]), strings.ReplaceAll(key[slash+1:], "-", "_")
	u := strings.NewReplacer("-", "_", "*", "_", "/", "_per_").Replace(unit)
	name = "go_" + sub + "_" + base + "_" + u
	if d.Cumulative && d.Kind != rtm.KindFloat64Histogram {
		name += "_total"
	}
	switch d.Kind {
	case rtm.KindUint64, rtm.KindFloat64, rtm.KindFloat64Histogram:
	default:
		return "", "", false
	}
	return name, u, validName.MatchString(name)
}

// mergeBuckets reduces runtime/metrics bucket boundaries (inclusive lower
// bounds, possibly starting at -Inf and ending at +Inf) to the coarser set
// client_golang exposes, so that histogram_quantile over old and new series
// agree: byte sizes keep boundaries at least a factor 2 apart, durations a
// factor 10 apart with everything above one second folded into +Inf. Other
// units keep every boundary. The result is a subset of b.
func mergeBuckets(b []float64, unit string) []float64 {
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

// histLayout is how one runtime histogram becomes a Prometheus one.
type histLayout struct {
	// upper are the inclusive upper bounds of the exposed buckets (the +Inf
	// bucket is implicit).
	upper []float64
	// fine[i] is the exposed bucket fine bucket i lands in; len(upper) means
	// the implicit +Inf bucket.
	fine []int
}

// layout maps fine runtime buckets (boundaries fb) onto merged boundaries mb
// (a subset of fb).
func layout(fb, mb []float64) histLayout {
	if len(mb) > 0 && math.IsInf(mb[0], -1) {
		mb = mb[1:]
	}
	var l histLayout
	// Merged bucket j spans [mb[j], mb[j+1]); its inclusive upper bound is
	// the float just below mb[j+1].
	for j := 0; j+1 < len(mb); j++ {
		if math.IsInf(mb[j+1], 1) {
			break
		}
		l.upper = append(l.upper, math.Nextafter(mb[j+1], math.Inf(-1)))
	}
	l.fine = make([]int, len(fb)-1)
	j := 0
	for i := range l.fine {
		// Fine bucket i spans [fb[i], fb[i+1]).
		for j < len(l.upper) && fb[i+1] > mb[j+1] {
			j++
		}
		l.fine[i] = j
	}
	return l
}

// midpoint is the value a fine bucket's observations are assumed to have
// when no exact sum exists.
func midpoint(lo, hi float64) float64 {
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
