package promexport

import (
	"cmp"
	"math"
	rtm "runtime/metrics"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/govitals/vitals/metrics"
)

// point is one metric (a family plus label values) of a frame before the
// frame's protobufs are built.
type point struct {
	fam    int
	val    float64 // gauge or counter value; histogram or summary sum
	count  uint64  // histogram or summary count
	b0, nb int     // histogram: range in builder.cum; summary: range in builder.q
	label  string  // value of the family's single label, if it has one
}

// builder holds the scratch space reused from one frame to the next.
type builder struct {
	pts []point
	cum []uint64
	q   []float64
	// last GC time tracking for go_memstats_last_gc_time_seconds.
	lastCycles uint64
	lastGC     float64
}

// frame is everything derived from one sampler read: immutable once built,
// shared by every gather until the next read.
type frame struct {
	gen     uint64
	metrics []promMetric // one per point, grouped by family in name order
	fams    []int        // family index of each run in metrics
	runs    []int        // end offsets of each run in metrics

	// ptrs are the dto.Metrics of the Gather path, built on its first use
	// under Collector.mu: the Collect path does not need them.
	ptrs []*dto.Metric
}

// promMetric is a prometheus.Metric whose protobuf parts are already built.
type promMetric struct {
	desc      *prometheus.Desc
	label     []*dto.LabelPair
	gauge     *dto.Gauge
	counter   *dto.Counter
	histogram *dto.Histogram
	summary   *dto.Summary
}

func (p *promMetric) Desc() *prometheus.Desc { return p.desc }

// Write shares the prebuilt, immutable protobuf parts: no allocation.
func (p *promMetric) Write(out *dto.Metric) error {
	out.Label = p.label
	out.Gauge = p.gauge
	out.Counter = p.counter
	out.Histogram = p.histogram
	out.Summary = p.summary
	return nil
}

// metricPtrs returns the frame's points as dto.Metrics, building them once.
// The caller holds Collector.mu.
func (fr *frame) metricPtrs() []*dto.Metric {
	if fr.ptrs == nil && len(fr.metrics) > 0 {
		ms := make([]dto.Metric, len(fr.metrics))
		fr.ptrs = make([]*dto.Metric, len(fr.metrics))
		for i := range fr.metrics {
			_ = fr.metrics[i].Write(&ms[i])
			fr.ptrs[i] = &ms[i]
		}
	}
	return fr.ptrs
}

var gcQuantiles = [...]float64{0, 0.25, 0.5, 0.75, 1}

// collect turns a snapshot into points, in family order.
func (b *builder) collect(fams []*family, sn *metrics.Snapshot) {
	b.pts, b.cum, b.q = b.pts[:0], b.cum[:0], b.q[:0]
	lim, st := &sn.Limits, &sn.Cgroup
	for fi, f := range fams {
		add := func(v float64) { b.pts = append(b.pts, point{fam: fi, val: v}) }
		switch f.src {
		case srcRuntime:
			add(sn.Value(f.idx))
		case srcGoroutines:
			add(float64(sn.Goroutines))
		case srcMemStat:
			var v float64
			for _, i := range f.terms {
				v += sn.Value(i)
			}
			add(v)
		case srcRuntimeH:
			h := sn.Histogram(f.idx)
			if h == nil || len(h.Counts) != len(f.hist.Fine) {
				continue
			}
			p := point{fam: fi, b0: len(b.cum), nb: len(f.hist.Upper)}
			for range f.hist.Upper {
				b.cum = append(b.cum, 0)
			}
			cum := b.cum[p.b0:]
			exact := f.idx2 >= 0
			for i, c := range h.Counts {
				if c == 0 {
					continue
				}
				p.count += c
				if j := f.hist.Fine[i]; j < len(cum) {
					cum[j] += c
				}
				if !exact {
					p.val += float64(c) * metrics.Midpoint(h.Buckets[i], h.Buckets[i+1])
				}
			}
			for j := 1; j < len(cum); j++ {
				cum[j] += cum[j-1]
			}
			if exact {
				p.val = sn.Value(f.idx2)
			}
			b.pts = append(b.pts, p)
		case srcGCDuration:
			h := sn.Histogram(f.idx)
			if h == nil {
				continue
			}
			p := point{fam: fi, b0: len(b.q), nb: len(gcQuantiles), count: uint64(sn.Value(f.idx2))}
			var total uint64
			for i, c := range h.Counts {
				total += c
				p.val += float64(c) * metrics.Midpoint(h.Buckets[i], h.Buckets[i+1])
			}
			for _, q := range gcQuantiles {
				b.q = append(b.q, quantile(h, total, q))
			}
			b.pts = append(b.pts, p)
		case srcLastGC:
			cycles := uint64(sn.Value(f.idx))
			if cycles != b.lastCycles {
				b.lastCycles = cycles
				b.lastGC = float64(sn.Time.UnixNano()) / 1e9
			}
			add(b.lastGC)
		case srcGoInfo:
			b.pts = append(b.pts, point{fam: fi, val: 1, label: goVersion})
		case srcCPULimit:
			if sn.HaveLimits && lim.CPU.Unknown == "" {
				add(lim.CPU.Quota)
			}
		case srcMemLimit:
			if sn.HaveLimits && lim.Memory.Unknown == "" {
				add(float64(lim.Memory.Max))
			}
		case srcMemHigh:
			if sn.HaveLimits && lim.Memory.Unknown == "" {
				add(float64(lim.Memory.High))
			}
		case srcMemUsage:
			if st.HaveMemory {
				add(float64(st.MemoryUsage))
			}
		case srcPeriods:
			if st.HaveCPU {
				add(float64(st.Periods))
			}
		case srcThrottled:
			if st.HaveCPU {
				add(float64(st.ThrottledPeriods))
			}
		case srcThrottledSecs:
			if st.HaveCPU {
				add(st.ThrottledTime.Seconds())
			}
		case srcGOMAXPROCS:
			b.pts = append(b.pts, point{fam: fi, val: float64(sn.Settings.GOMAXPROCS), label: sn.Settings.GOMAXPROCSSource})
		case srcGOMEMLIMIT:
			b.pts = append(b.pts, point{fam: fi, val: float64(sn.Settings.GOMEMLIMIT), label: sn.Settings.GOMEMLIMITSource})
		case srcChecks:
			start := len(b.pts)
			for _, c := range sn.Checks {
				if c.Name == "" {
					continue
				}
				v := 0.0
				if c.OK {
					v = 1
				}
				b.pts = append(b.pts, point{fam: fi, val: v, label: c.Name})
			}
			run := b.pts[start:]
			slices.SortStableFunc(run, func(x, y point) int { return cmp.Compare(x.label, y.label) })
			b.pts = b.pts[:start+len(slices.CompactFunc(run, func(x, y point) bool { return x.label == y.label }))]
		case srcLeakSuspected, srcLeakBaseline, srcLeakGoroutines, srcLeakReports:
			if !sn.HaveWatchdog {
				continue
			}
			w := sn.Watchdog
			switch f.src {
			case srcLeakSuspected:
				v := 0.0
				if w.Suspected {
					v = 1
				}
				add(v)
			case srcLeakBaseline:
				add(float64(w.Baseline))
			case srcLeakGoroutines:
				add(float64(w.Goroutines))
			case srcLeakReports:
				add(float64(w.Reports))
			}
		}
	}
}

// quantile estimates the q-quantile of a runtime histogram holding total
// observations, interpolating linearly inside the bucket it falls in.
func quantile(h *rtm.Float64Histogram, total uint64, q float64) float64 {
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if seen+float64(c) >= rank {
			if math.IsInf(lo, -1) {
				return math.Max(hi, 0)
			}
			if math.IsInf(hi, 1) {
				return lo
			}
			return lo + (hi-lo)*math.Max(0, rank-seen)/float64(c)
		}
		seen += float64(c)
	}
	return 0
}

// build turns the collected points into an immutable frame: a fixed number
// of allocations (one per kind of protobuf part), whatever the point count.
func (b *builder) build(fams []*family, gen uint64) *frame {
	n := len(b.pts)
	var ng, nc, nh, ns, nl int
	for _, p := range b.pts {
		f := fams[p.fam]
		switch f.typ {
		case gauge:
			ng++
		case counter:
			nc++
		case histogram:
			nh++
		case summary:
			ns++
		}
		nl += len(f.labels)
	}
	fr := &frame{gen: gen, metrics: make([]promMetric, n),
		fams: make([]int, 0, len(fams)), runs: make([]int, 0, len(fams))}
	vals := make([]float64, n)
	counts := make([]uint64, nh+ns)
	gauges := make([]dto.Gauge, ng)
	counters := make([]dto.Counter, nc)
	hists := make([]dto.Histogram, nh)
	buckets := make([]dto.Bucket, len(b.cum))
	bptrs := make([]*dto.Bucket, len(b.cum))
	cum := slices.Clone(b.cum)
	labels := make([]dto.LabelPair, nl)
	lptrs := make([]*dto.LabelPair, nl)
	lvals := make([]string, nl)
	var sums []dto.Summary
	var qs []dto.Quantile
	var qps []*dto.Quantile
	var qv []float64
	if ns > 0 {
		sums = make([]dto.Summary, ns)
		qs = make([]dto.Quantile, len(b.q))
		qps = make([]*dto.Quantile, len(b.q))
		qv = slices.Clone(b.q)
	}
	for i, p := range b.pts {
		f := fams[p.fam]
		m := &fr.metrics[i]
		m.desc = f.desc
		vals[i] = p.val
		if len(f.labels) > 0 {
			nl--
			lvals[nl] = p.label
			labels[nl].Name, labels[nl].Value = &f.labels[0], &lvals[nl]
			lptrs[nl] = &labels[nl]
			m.label = lptrs[nl : nl+1 : nl+1]
		}
		switch f.typ {
		case gauge:
			ng--
			gauges[ng].Value = &vals[i]
			m.gauge = &gauges[ng]
		case counter:
			nc--
			counters[nc].Value = &vals[i]
			m.counter = &counters[nc]
		case histogram:
			nh--
			h := &hists[nh]
			counts[nh] = p.count
			h.SampleCount, h.SampleSum = &counts[nh], &vals[i]
			for k := range p.nb {
				j := p.b0 + k
				buckets[j].CumulativeCount, buckets[j].UpperBound = &cum[j], &f.hist.Upper[k]
				bptrs[j] = &buckets[j]
			}
			h.Bucket = bptrs[p.b0 : p.b0+p.nb : p.b0+p.nb]
			m.histogram = h
		case summary:
			ns--
			sm := &sums[ns]
			counts[len(counts)-1-ns] = p.count
			sm.SampleCount, sm.SampleSum = &counts[len(counts)-1-ns], &vals[i]
			for k := range p.nb {
				j := p.b0 + k
				qs[j].Quantile, qs[j].Value = &gcQuantiles[k], &qv[j]
				qps[j] = &qs[j]
			}
			sm.Quantile = qps[p.b0 : p.b0+p.nb : p.b0+p.nb]
			m.summary = sm
		}
		if k := len(fr.fams); k == 0 || fr.fams[k-1] != p.fam {
			fr.fams = append(fr.fams, p.fam)
			fr.runs = append(fr.runs, i+1)
		} else {
			fr.runs[k-1] = i + 1
		}
	}
	return fr
}
