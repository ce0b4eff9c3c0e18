package incident

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	rtm "runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/govitals/vitals/stacks"
	"github.com/govitals/vitals/tracecap"
)

// capture writes ev's bundle. It never panics (a panic becomes the
// incident's error); done cuts a CPU profile short.
func (m *Monitor) capture(done <-chan struct{}, ev event) (inc Incident) {
	inc = Incident{Trigger: ev.trigger, Reason: ev.reason, Time: ev.at, Values: ev.values}
	defer func() {
		if r := recover(); r != nil {
			inc.Err = fmt.Sprintf("incident: capture panicked: %v", r)
			inc.Path = ""
		}
		inc.Took = time.Since(ev.at)
	}()
	f, err := m.dir.Create("incident-" + ev.trigger.String())
	if err != nil {
		inc.Err = err.Error()
		return inc
	}
	ok := false
	defer func() {
		if !ok {
			f.Abort()
		}
	}()

	man := m.manifest(ev)
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	text := zip.Deflate
	if ev.light {
		text = zip.Store // no compressor state near the memory limit
	}
	var werr error // a write to the file failed: nothing more can be added
	part := func(name string, method uint16, write func(io.Writer) error) {
		if werr != nil {
			man.Parts = append(man.Parts, Part{Name: name, Skipped: "an earlier part could not be written"})
			return
		}
		t0 := time.Now()
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: t0})
		cw := &countWriter{w: w}
		if err == nil {
			err = write(cw)
		}
		p := Part{Name: name, Bytes: cw.n, Took: time.Since(t0)}
		if err != nil {
			p.Error = err.Error()
			if cw.err != nil {
				werr = cw.err
			}
		}
		man.Parts = append(man.Parts, p)
	}
	skip := func(name, why string) { man.Parts = append(man.Parts, Part{Name: name, Skipped: why}) }

	// The ring moves on: the trace of the seconds before comes first.
	m.lifeMu.Lock() // Start sets them
	rec, recErr := m.rec, m.recErr
	m.lifeMu.Unlock()
	switch {
	case rec != nil:
		var note string
		if c, ok := rec.(interface{ CheckGoroutines() }); ok {
			c.CheckGoroutines() // over the ceiling, pause before this capture's stop-the-worlds
		}
		if st, ok := rec.(interface{ Status() tracecap.Status }); ok {
			switch s := st.Status(); {
			case s.Recording:
			case s.HeldBytes == 0:
				skip(PartTrace, "flight recorder paused, no trace held: "+s.Paused)
				rec = nil
			case s.PausedAt.After(ev.at): // paused by this capture: the trace reaches it
				note = fmt.Sprintf("held since the flight recorder paused at %s, as this capture began (%s): the trace ends there",
					s.PausedAt.Format(time.RFC3339), s.Paused)
			default:
				note = fmt.Sprintf("held since the flight recorder paused at %s, %v before the trigger (%s): the trace ends there",
					s.PausedAt.Format(time.RFC3339), ev.at.Sub(s.PausedAt).Round(time.Millisecond), s.Paused)
			}
		}
		if rec == nil {
			break
		}
		part(PartTrace, text, func(w io.Writer) error {
			_, err := rec.SnapshotTo(w, "incident: "+ev.trigger.String())
			return err
		})
		man.Parts[len(man.Parts)-1].Note = note
	case recErr != "":
		skip(PartTrace, "no flight recorder: "+recErr)
	default:
		skip(PartTrace, "no flight recorder (NoFlightRecorder)")
	}
	part(PartHeap, zip.Store, func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) })
	n := runtime.NumGoroutine()
	man.Goroutines = n
	// One goroutine profile per bundle: each stops the world twice and, at
	// 100k goroutines, allocates ~25 MB. The text part is derived from the
	// protobuf (kept aside as it is written: one compressed sample per
	// distinct stack and label set, kilobytes for a leak of one stack).
	var gproto bytes.Buffer
	part(PartGoroutine, zip.Store, func(w io.Writer) error {
		return pprof.Lookup("goroutine").WriteTo(io.MultiWriter(w, &gproto), 0)
	})
	part(PartGoroutines, text, func(w io.Writer) error {
		d, err := stacks.Parse(bytes.NewReader(gproto.Bytes()))
		if err != nil {
			return fmt.Errorf("derive from %s: %w", PartGoroutine, err)
		}
		return stacks.WriteDump(w, d)
	})
	if p := &man.Parts[len(man.Parts)-1]; p.Skipped == "" {
		p.Note = "derived from " + PartGoroutine + " (the same snapshot, debug=1 format)"
	}
	switch {
	case ev.light:
		skip(PartGoroutinesFull, "near the memory limit")
	case m.cfg.budget == 0 || n > m.cfg.budget:
		skip(PartGoroutinesFull, fmt.Sprintf("%d goroutines, over the budget of %d (the full dump stops the world)", n, m.cfg.budget))
	default:
		part(PartGoroutinesFull, text, func(w io.Writer) error { return pprof.Lookup("goroutine").WriteTo(w, 2) })
	}
	switch lp := pprof.Lookup("goroutineleak"); {
	case lp == nil:
		skip(PartGoroutineLeak, "this Go has no goroutineleak profile (Go 1.26 needs GOEXPERIMENT=goroutineleakprofile)")
	case ev.light:
		skip(PartGoroutineLeak, "near the memory limit (it runs a GC cycle)")
	default:
		part(PartGoroutineLeak, zip.Store, func(w io.Writer) error { return lp.WriteTo(w, 0) })
	}
	if ev.cpu {
		part(PartCPU, zip.Store, func(w io.Writer) error { return cpuProfile(w, m.cfg.cpuProfile, done) })
	}
	man.Runtime = runtimeSnapshot()
	man.Finished = time.Now()
	part(PartManifest, text, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(man)
	})
	if werr == nil {
		werr = zw.Close()
	}
	if werr != nil {
		inc.Err = fmt.Sprintf("incident: write %s: %v", f.Name(), werr)
		return inc
	}
	if err := f.Close(); err != nil {
		inc.Err = fmt.Sprintf("incident: %v", err)
		return inc
	}
	ok = true
	inc.Path, inc.Bytes = f.Name(), f.Size()
	var failed []string
	for _, p := range man.Parts {
		if p.Error != "" {
			failed = append(failed, p.Name+": "+p.Error)
		}
	}
	if len(failed) > 0 {
		inc.Err = fmt.Sprintf("incident: incomplete bundle: %v", failed)
	}
	return inc
}

// cpuProfile profiles the CPU for d (or until done) into w.
func cpuProfile(w io.Writer, d time.Duration, done <-chan struct{}) error {
	if err := pprof.StartCPUProfile(w); err != nil {
		return fmt.Errorf("start CPU profile: %w", err)
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-done:
		t.Stop()
	}
	pprof.StopCPUProfile()
	return nil
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// manifest fills everything but the parts and the runtime snapshot.
func (m *Monitor) manifest(ev event) *Manifest {
	man := &Manifest{Schema: Schema, Trigger: ev.trigger, Reason: ev.reason, Time: ev.at, Light: ev.light, Values: ev.values}
	man.Settings = Settings{
		MemoryThreshold: m.cfg.memFrac, CgroupMemoryThreshold: m.cfg.cgFrac, GCThreshold: m.cfg.gcShare,
		Window: m.cfg.window, SpikeFactor: m.cfg.spikeFactor, SpikeWithin: m.cfg.spikeWithin, SpikeMin: m.cfg.spikeMin,
		Throttle: m.cfg.throttle, Saturation: m.cfg.saturation, Latency: m.cfg.latency,
		GoroutineBudget: m.cfg.budget, CPUProfile: m.cfg.cpuProfile,
	}
	m.mu.Lock()
	if m.limAt.IsZero() { // never checked (a manual capture before Start)
		m.checkLocked(time.Now())
	}
	man.Readings = m.readingsLocked()
	man.Limits = Limits{GOMEMLIMIT: m.memLimit, CgroupMemory: m.cgMem, EffectiveMemory: m.effective(),
		CPUQuota: m.quota, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if m.haveLim {
		man.Limits.CgroupVersion = m.limits.Version.String()
		man.Limits.MemoryLimitPath = m.limits.MemoryPath
		man.Limits.CPUQuotaLimitPath = m.limits.CPUPath
		man.Cgroup = &CgroupFacts{Limits: m.limits, Stats: m.cg}
	}
	for i := m.filled - 1; i >= 0; i-- {
		p := &m.ring[(m.head-i+ringLen)%ringLen]
		man.History = append(man.History, Point{
			Time: time.Unix(0, p.wall).UTC(), GoMemory: p.used, HeapLive: p.heapLive, HeapGoal: p.heapGoal,
			GCCycles: p.cycles, GCCPUSeconds: p.gcCPU, TotalCPUSecs: p.total, ProcessCPUSecs: float64(p.procCPU) / 1e9,
			GoroutinesMin: p.gMin, GoroutinesMax: p.gMax, Throttled: p.throttled, Periods: p.periods,
		})
	}
	m.mu.Unlock()
	if m.cfg.report != nil {
		func() {
			defer func() { _ = recover() }()
			if b, err := json.Marshal(m.cfg.report()); err == nil {
				man.Report = b
			}
		}()
	}
	man.Versions = Versions{Go: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		man.Versions.Main, man.Versions.MainVersion = bi.Main.Path, bi.Main.Version
		if bi.Main.Path == modulePath {
			man.Versions.Vitals = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				man.Versions.Vitals = d.Version
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" {
				man.Versions.Experiments = s.Value
			}
		}
	}
	host, _ := os.Hostname()
	man.Process = Process{PID: os.Getpid(), Args: os.Args, Hostname: host}
	return man
}

const modulePath = "github.com/govitals/vitals"

// readingsLocked returns every trigger's current reading. m.mu must be held.
func (m *Monitor) readingsLocked() []Value {
	var out []Value
	used := sat(u64(&m.fast[0]), u64(&m.fast[1]))
	if v, thr, lim, ok := m.memoryReading(used); ok {
		out = append(out, Value{Name: "go_memory_bytes", Value: float64(v), Threshold: float64(thr), Limit: float64(lim), Unit: "bytes", Fired: v >= thr})
	} else {
		out = append(out, Value{Name: "go_memory_bytes", Value: float64(used), Unit: "bytes"})
	}
	if v, thr, lim, ok := m.cgroupReading(); ok {
		out = append(out, Value{Name: "cgroup_memory_usage_bytes", Value: float64(v), Threshold: float64(thr), Limit: float64(lim), Unit: "bytes", Fired: v >= thr})
	}
	g := float64(u64(&m.fast[2]))
	if base, ok := m.spikeBase(time.Now()); ok {
		thr := math.Max(float64(m.cfg.spikeMin), m.cfg.spikeFactor*float64(base))
		out = append(out, Value{Name: "goroutines", Value: g, Threshold: thr, Limit: float64(base), Unit: "goroutines", Fired: g >= thr})
	} else {
		out = append(out, Value{Name: "goroutines", Value: g, Unit: "goroutines"})
	}
	if v, ok := m.gcShare(); ok {
		out = append(out, Value{Name: "gc_cpu_share", Value: v, Threshold: m.cfg.gcShare, Unit: "ratio", Fired: v >= m.cfg.gcShare})
	}
	if v, ok := m.throttleRatio(); ok {
		out = append(out, Value{Name: "cpu_throttled_periods_ratio", Value: v, Threshold: m.cfg.throttle, Unit: "ratio", Fired: v >= m.cfg.throttle})
	}
	if v, ok := m.quotaUse(); ok {
		out = append(out, Value{Name: "cpu_used_cpus", Value: v, Threshold: m.cfg.saturation * m.quota, Limit: m.quota, Unit: "cpus", Fired: v >= m.cfg.saturation*m.quota})
	}
	if v, ok := m.latencyP99(); ok {
		out = append(out, Value{Name: "sched_latency_p99_seconds", Value: v, Threshold: m.cfg.latency.Seconds(), Unit: "seconds", Fired: v >= m.cfg.latency.Seconds()})
	}
	return out
}

// runtimeSnapshot reads every runtime metric: scalars as numbers,
// histograms as count, p50, p99 and max (bucket upper bounds).
func runtimeSnapshot() map[string]any {
	descs := rtm.All()
	s := make([]rtm.Sample, len(descs))
	for i := range descs {
		s[i].Name = descs[i].Name
	}
	rtm.Read(s)
	out := make(map[string]any, len(s))
	for _, x := range s {
		switch x.Value.Kind() {
		case rtm.KindUint64:
			out[x.Name] = x.Value.Uint64()
		case rtm.KindFloat64:
			out[x.Name] = finite(x.Value.Float64())
		case rtm.KindFloat64Histogram:
			out[x.Name] = summarize(x.Value.Float64Histogram())
		}
	}
	return out
}

// HistogramSummary is how a runtime histogram appears in a manifest.
type HistogramSummary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func summarize(h *rtm.Float64Histogram) HistogramSummary {
	var s HistogramSummary
	for _, c := range h.Counts {
		s.Count += c
	}
	if s.Count == 0 {
		return s
	}
	upper := func(i int) float64 {
		if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
			return hi
		}
		return h.Buckets[i]
	}
	var acc uint64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		acc += c
		if s.P50 == 0 && float64(acc) >= 0.5*float64(s.Count) {
			s.P50 = upper(i)
		}
		if s.P99 == 0 && float64(acc) >= 0.99*float64(s.Count) {
			s.P99 = upper(i)
		}
		s.Max = upper(i)
	}
	return s
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
