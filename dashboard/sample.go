package dashboard

import (
	"math"
	rtm "runtime/metrics"
	"strconv"
	"time"

	"github.com/govitals/vitals/metrics"
)

// Fields are the values of one sample, in the order the event stream sends
// them. The page learns this list from the stream's first event.
var fields = []string{
	"t",               // unix seconds
	"heap_live",       // /gc/heap/live:bytes
	"heap_goal",       // /gc/heap/goal:bytes
	"gomemlimit",      // /gc/gomemlimit:bytes, null when off
	"mem_limit",       // cgroup memory.max, null when unlimited
	"mem_usage",       // cgroup memory.current
	"gc_pause_p50",    // seconds, over the sample's interval, null without a GC
	"gc_pause_p99",    // seconds
	"gc_pause_max",    // seconds
	"gc_cpu",          // share of available CPU spent in GC over the last GC cycles
	"goroutines",      // /sched/goroutines:goroutines
	"wd_baseline",     // leak watchdog baseline
	"wd_threshold",    // leak watchdog threshold
	"wd_suspected",    // goroutines when a leak is suspected, else null
	"gomaxprocs",      // /sched/gomaxprocs:threads
	"cpu_limit",       // cgroup CPU quota in cores, null when unlimited
	"cpu_affinity",    // CPUs in the affinity mask
	"cpu_used",        // cores used by the process (getrusage)
	"throttled_share", // throttled periods / periods over the interval
	"throttled_sps",   // throttled seconds per second
	"sched_p50",       // scheduler latency, seconds
	"sched_p90",
	"sched_p99",
	"alloc_bps",  // heap bytes allocated per second
	"alloc_ops",  // heap objects allocated per second
	"gc_per_min", // GC cycles per minute
}

const (
	fT = iota
	fHeapLive
	fHeapGoal
	fGOMEMLIMIT
	fMemLimit
	fMemUsage
	fPauseP50
	fPauseP99
	fPauseMax
	fGCCPU
	fGoroutines
	fWDBaseline
	fWDThreshold
	fWDSuspected
	fGOMAXPROCS
	fCPULimit
	fCPUAffinity
	fCPUUsed
	fThrottledShare
	fThrottledSPS
	fSchedP50
	fSchedP90
	fSchedP99
	fAllocBPS
	fAllocOPS
	fGCPerMin
	nFields
)

// Runtime metric names the sampler reads.
const (
	mHeapLive   = "/gc/heap/live:bytes"
	mHeapGoal   = "/gc/heap/goal:bytes"
	mMemLimit   = "/gc/gomemlimit:bytes"
	mGoroutines = "/sched/goroutines:goroutines"
	mGOMAXPROCS = "/sched/gomaxprocs:threads"
	mPauses     = "/sched/pauses/total/gc:seconds"
	mSched      = "/sched/latencies:seconds"
	mCPUGC      = "/cpu/classes/gc/total:cpu-seconds"
	mCPUTotal   = "/cpu/classes/total:cpu-seconds"
	mAllocBytes = "/gc/heap/allocs:bytes"
	mAllocObjs  = "/gc/heap/allocs:objects"
	mGCCycles   = "/gc/cycles/total:gc-cycles"
)

// point is one sample; NaN encodes as null.
type point [nFields]float64

// indexes are positions in the sampler's snapshot, -1 for a metric this Go
// does not have.
type indexes struct {
	heapLive, heapGoal, memLimit, goroutines, gomaxprocs, pauses, sched,
	cpuGC, cpuTotal, allocBytes, allocObjs, gcCycles int
}

func newIndexes(s *metrics.Sampler) indexes {
	return indexes{
		heapLive: s.Index(mHeapLive), heapGoal: s.Index(mHeapGoal), memLimit: s.Index(mMemLimit),
		goroutines: s.Index(mGoroutines), gomaxprocs: s.Index(mGOMAXPROCS),
		pauses: s.Index(mPauses), sched: s.Index(mSched),
		cpuGC: s.Index(mCPUGC), cpuTotal: s.Index(mCPUTotal),
		allocBytes: s.Index(mAllocBytes), allocObjs: s.Index(mAllocObjs), gcCycles: s.Index(mGCCycles),
	}
}

// prev is what the last sample left for computing rates and histogram
// deltas. Its buffers are reused, so a steady run does not allocate.
type prev struct {
	ok                              bool
	t                               time.Time
	cpuGC, cpuTotal                 float64
	allocBytes, allocObjs, gcCycles float64
	periods, throttledPeriods       uint64
	throttled                       time.Duration
	haveCPU                         bool
	gcFrac                          float64 // last GC CPU share; NaN before any
	cpu                             time.Duration
	haveProcCPU                     bool
	pauses, sched                   []uint64
}

// compute fills p from the snapshot and the previous sample, then records
// the snapshot in pv. wd is the watchdog's state, if any.
func compute(p *point, sn *metrics.Snapshot, ix *indexes, pv *prev, wd *Watchdog) {
	nan := math.NaN()
	for i := range p {
		p[i] = nan
	}
	p[fT] = float64(sn.Time.UnixMilli()) / 1000
	p[fHeapLive] = value(sn, ix.heapLive)
	p[fHeapGoal] = value(sn, ix.heapGoal)
	if v := value(sn, ix.memLimit); v < math.MaxInt64 {
		p[fGOMEMLIMIT] = v
	}
	if sn.HaveLimits && sn.Limits.Memory.Limited && sn.Limits.Memory.Max > 0 {
		p[fMemLimit] = float64(sn.Limits.Memory.Max)
	}
	if sn.Cgroup.HaveMemory {
		p[fMemUsage] = float64(sn.Cgroup.MemoryUsage)
	}
	p[fGoroutines] = value(sn, ix.goroutines)
	if wd != nil {
		if wd.Baseline > 0 {
			p[fWDBaseline] = float64(wd.Baseline)
		}
		if wd.Threshold > 0 {
			p[fWDThreshold] = float64(wd.Threshold)
		}
		if wd.Suspected {
			p[fWDSuspected] = p[fGoroutines]
		}
	}
	p[fGOMAXPROCS] = value(sn, ix.gomaxprocs)
	if sn.HaveLimits {
		if sn.Limits.CPU.Limited && sn.Limits.CPU.Quota > 0 {
			p[fCPULimit] = sn.Limits.CPU.Quota
		}
		if sn.Limits.CPU.Affinity > 0 {
			p[fCPUAffinity] = float64(sn.Limits.CPU.Affinity)
		}
	}

	cpuGC, cpuTotal := value(sn, ix.cpuGC), value(sn, ix.cpuTotal)
	allocBytes, allocObjs, gcCycles := value(sn, ix.allocBytes), value(sn, ix.allocObjs), value(sn, ix.gcCycles)
	pauses, sched := sn.Histogram(ix.pauses), sn.Histogram(ix.sched)
	cpu, haveCPU := processCPU()
	if !pv.ok {
		// The runtime's CPU classes move only at each GC: start from the
		// share since the process began, then follow it GC by GC.
		pv.gcFrac = math.NaN()
		if cpuTotal > 0 {
			pv.gcFrac = clamp01(cpuGC / cpuTotal)
		}
	}
	if pv.ok {
		dt := sn.Time.Sub(pv.t).Seconds()
		if dt > 0 {
			if d := cpuTotal - pv.cpuTotal; d > 0 {
				pv.gcFrac = clamp01((cpuGC - pv.cpuGC) / d)
			}
			if haveCPU && pv.haveProcCPU && cpu >= pv.cpu {
				p[fCPUUsed] = (cpu - pv.cpu).Seconds() / dt
			}
			p[fAllocBPS] = math.Max(0, (allocBytes-pv.allocBytes)/dt)
			p[fAllocOPS] = math.Max(0, (allocObjs-pv.allocObjs)/dt)
			p[fGCPerMin] = math.Max(0, (gcCycles-pv.gcCycles)/dt*60)
			if sn.Cgroup.HaveCPU && pv.haveCPU && sn.Cgroup.Periods >= pv.periods &&
				sn.Cgroup.ThrottledPeriods >= pv.throttledPeriods && sn.Cgroup.ThrottledTime >= pv.throttled {
				dp := sn.Cgroup.Periods - pv.periods
				p[fThrottledShare] = 0
				if dp > 0 {
					p[fThrottledShare] = clamp01(float64(sn.Cgroup.ThrottledPeriods-pv.throttledPeriods) / float64(dp))
				}
				p[fThrottledSPS] = (sn.Cgroup.ThrottledTime - pv.throttled).Seconds() / dt
			}
		}
		if pauses != nil && len(pv.pauses) == len(pauses.Counts) {
			p[fPauseP50], p[fPauseP99], p[fPauseMax] = quantiles(pauses, pv.pauses, 0.5, 0.99, 1)
		}
		if sched != nil && len(pv.sched) == len(sched.Counts) {
			p[fSchedP50], p[fSchedP90], p[fSchedP99] = quantiles(sched, pv.sched, 0.5, 0.9, 0.99)
		}
	}
	p[fGCCPU] = pv.gcFrac
	pv.ok, pv.t = true, sn.Time
	pv.cpu, pv.haveProcCPU = cpu, haveCPU
	pv.cpuGC, pv.cpuTotal = cpuGC, cpuTotal
	pv.allocBytes, pv.allocObjs, pv.gcCycles = allocBytes, allocObjs, gcCycles
	pv.periods, pv.throttledPeriods, pv.throttled, pv.haveCPU =
		sn.Cgroup.Periods, sn.Cgroup.ThrottledPeriods, sn.Cgroup.ThrottledTime, sn.Cgroup.HaveCPU
	pv.pauses = copyCounts(pv.pauses, pauses)
	pv.sched = copyCounts(pv.sched, sched)
}

func value(sn *metrics.Snapshot, i int) float64 {
	if i < 0 {
		return math.NaN()
	}
	return sn.Value(i)
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

func copyCounts(dst []uint64, h *rtm.Float64Histogram) []uint64 {
	if h == nil {
		return dst[:0]
	}
	return append(dst[:0], h.Counts...)
}

// quantiles returns three quantiles of the events counted in h since the
// counts in before (same length), each as the upper bound of the bucket it
// falls in (the lower bound for the last, unbounded bucket): the runtime's
// buckets are fine enough (a few percent wide) for a chart. All three are
// NaN when nothing was counted. q=1 gives the largest event's bucket.
func quantiles(h *rtm.Float64Histogram, before []uint64, q1, q2, q3 float64) (float64, float64, float64) {
	var total uint64
	for i, c := range h.Counts {
		if c >= before[i] {
			total += c - before[i]
		}
	}
	if total == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	qs := [3]float64{q1, q2, q3}
	var out [3]float64
	var cum uint64
	j := 0
	for i, c := range h.Counts {
		if c < before[i] {
			continue
		}
		cum += c - before[i]
		for j < 3 && float64(cum) >= qs[j]*float64(total) && c > before[i] {
			out[j] = bucketValue(h.Buckets, i)
			j++
		}
		if j == 3 {
			break
		}
	}
	for ; j < 3; j++ { // rounding left one out: it is in the last non-empty bucket
		out[j] = out[max(j-1, 0)]
	}
	return out[0], out[1], out[2]
}

// bucketValue is the upper bound of bucket i, or its lower bound when the
// upper one is infinite; 0 for an underflow bucket.
func bucketValue(b []float64, i int) float64 {
	hi := b[i+1]
	if math.IsInf(hi, 1) {
		hi = b[i]
	}
	if math.IsInf(hi, -1) || hi < 0 {
		return 0
	}
	return hi
}

// appendPoint encodes p as a JSON array, NaN and infinities as null,
// without allocating beyond dst's growth.
func appendPoint(dst []byte, p *point) []byte {
	dst = append(dst, '[')
	for i, v := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			dst = append(dst, "null"...)
		case i == fT:
			dst = strconv.AppendFloat(dst, v, 'f', 3, 64)
		case v == math.Trunc(v) && math.Abs(v) < 1e15:
			dst = strconv.AppendInt(dst, int64(v), 10)
		default:
			dst = strconv.AppendFloat(dst, v, 'g', 5, 64)
		}
	}
	return append(dst, ']')
}
