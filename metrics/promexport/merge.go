package promexport

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Merge returns a Gatherer serving the families of all gs on one endpoint,
// for example a [Collector] and the application's registry:
//
//	promhttp.HandlerFor(promexport.Merge(collector, reg), promhttp.HandlerOpts{
//		ErrorHandling: promhttp.ContinueOnError,
//	})
//
// Unlike [prometheus.Gatherers], which re-checks and copies every metric,
// Merge trusts each Gatherer's own result (a registry's is already checked)
// and only interleaves the families by name: one allocation per call on top
// of the gatherers' own while no name repeats.
//
// # Names served by more than one gatherer
//
// Order matters: where gatherers overlap, the earlier one wins.
//
//   - A Go runtime or process family (go_* or process_*) served by several
//     gatherers is taken once, whole, from the first gatherer that serves
//     it. This is the normal case of an application registry that holds
//     client_golang's Go or process collector (prometheus.DefaultGatherer
//     does) next to a [Collector]: the same names with the same meaning,
//     so the copies are not merged point by point (two go_info or two
//     go_goroutines would be duplicates). It is no error unless the copies'
//     types differ.
//   - Any other family served by several gatherers with the same type is
//     merged point by point, as prometheus.Gatherers does; a point whose
//     label set was already served is dropped and reported.
//   - A family whose type differs from the first copy's is dropped and
//     reported.
//
// The returned families are always complete apart from what the error
// reports, so an HTTP handler should serve them even when the error is
// non-nil (promhttp.ContinueOnError). The error joins every collision and
// every gatherer's own error.
func Merge(gs ...prometheus.Gatherer) prometheus.Gatherer { return merged(gs) }

type merged []prometheus.Gatherer

func (m merged) Gather() ([]*dto.MetricFamily, error) {
	var errs []error
	lists := make([][]*dto.MetricFamily, 0, len(m))
	n := 0
	for _, g := range m {
		mfs, err := g.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		if !slices.IsSortedFunc(mfs, byName) {
			mfs = slices.Clone(mfs)
			slices.SortFunc(mfs, byName)
		}
		lists = append(lists, mfs)
		n += len(mfs)
	}
	out := make([]*dto.MetricFamily, 0, n)
	// owned marks families in out that Merge built itself (and so may
	// extend): the gatherers' own are shared and never modified.
	var owned map[*dto.MetricFamily]bool
	for {
		best := -1
		for i, l := range lists {
			if len(l) > 0 && (best < 0 || l[0].GetName() < lists[best][0].GetName()) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		mf := lists[best][0]
		lists[best] = lists[best][1:]
		k := len(out)
		if k == 0 || out[k-1].GetName() != mf.GetName() {
			out = append(out, mf)
			continue
		}
		prev := out[k-1]
		name := mf.GetName()
		switch {
		case prev.GetType() != mf.GetType():
			errs = append(errs, fmt.Errorf("promexport: metric family %s served by two gatherers as %s and %s: kept the %s", name, prev.GetType(), mf.GetType(), prev.GetType()))
		case isRuntimeFamily(name):
			// The same runtime or process family twice: the first copy wins.
		default:
			if owned == nil {
				owned = map[*dto.MetricFamily]bool{}
			}
			if !owned[prev] {
				cp := &dto.MetricFamily{Name: prev.Name, Help: prev.Help, Type: prev.Type, Unit: prev.Unit, Metric: slices.Clone(prev.Metric)}
				owned[cp] = true
				out[k-1], prev = cp, cp
			}
			dups := 0
			seen := make(map[string]bool, len(prev.Metric))
			for _, p := range prev.Metric {
				seen[labelKey(p)] = true
			}
			for _, p := range mf.Metric {
				if key := labelKey(p); seen[key] {
					dups++
				} else {
					seen[key] = true
					prev.Metric = append(prev.Metric, p)
				}
			}
			if dups > 0 {
				errs = append(errs, fmt.Errorf("promexport: metric family %s: %d points served by two gatherers with the same labels: kept the first", name, dups))
			}
		}
	}
	return out, errors.Join(errs...)
}

// isRuntimeFamily reports whether name is one of the families client_golang's
// Go and process collectors, and a [Collector], serve.
func isRuntimeFamily(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// labelKey identifies a point by its label pairs (registries sort them by
// name; the key sorts them again in case a gatherer did not).
func labelKey(m *dto.Metric) string {
	lps := m.GetLabel()
	if !slices.IsSortedFunc(lps, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) }) {
		lps = slices.Clone(lps)
		slices.SortFunc(lps, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
	}
	var sb strings.Builder
	for _, lp := range lps {
		sb.WriteString(lp.GetName())
		sb.WriteByte(0xff)
		sb.WriteString(lp.GetValue())
		sb.WriteByte(0xfe)
	}
	return sb.String()
}

func byName(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) }
