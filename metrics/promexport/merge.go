package promexport

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Merge returns a Gatherer serving the families of all gs on one endpoint,
// for example the application's registry and a [Collector]:
//
//	promhttp.HandlerFor(promexport.Merge(reg, collector), promhttp.HandlerOpts{})
//
// Unlike [prometheus.Gatherers], which re-checks and copies every metric,
// Merge trusts each Gatherer's own result (a registry's is already checked)
// and only interleaves the families by name: one allocation per call on top
// of the gatherers' own. A family name served by two gatherers is an error;
// the first one's family is kept, as with prometheus.Gatherers.
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
		if k := len(out); k > 0 && out[k-1].GetName() == mf.GetName() {
			errs = append(errs, fmt.Errorf("promexport: metric family %s served by two gatherers", mf.GetName()))
			continue
		}
		out = append(out, mf)
	}
	return out, errors.Join(errs...)
}

func byName(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) }
