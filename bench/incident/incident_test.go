// Package incident_test compares vitals' incident capture with
// mosn.io/holmes v1.0.2, which dumps profiles when a rule on CPU, memory,
// goroutines or threads matches:
//
//	cd bench && go test -run '^$' -bench . -benchtime 1x ./incident
//
// Armed cost per second runs each variant for -benchtime seconds at its
// defaults (vitals: a check a second while far from the thresholds; holmes:
// every 5 s plus its 1 s CPU sampling, all dumps enabled); subtract the
// "idle" line. Numbers from a shared machine: record
// the load average next to them.
package incident_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	rtm "runtime/metrics"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"mosn.io/holmes"

	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/tracecap"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAllocs() uint64 {
	s := []rtm.Sample{{Name: "/gc/heap/allocs:objects"}}
	rtm.Read(s)
	return s[0].Value.Uint64()
}

// armedFor measures b.N seconds of an otherwise idle process with arm's
// watcher running, and reports CPU µs and heap allocations per second.
func armedFor(b *testing.B, arm func(b *testing.B) func()) {
	stop := arm(b)
	defer stop()
	time.Sleep(200 * time.Millisecond) // past start-up work
	runtime.GC()
	c0, a0 := cpuTime(), heapAllocs()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	secs := float64(b.N)
	cpu := float64(cpuTime()-c0) / 1e3 / secs
	b.ReportMetric(cpu, "cpu-µs/s")
	b.ReportMetric(cpu/1e6*100, "%cpu")
	b.ReportMetric(float64(heapAllocs()-a0)/secs, "allocs/s")
	b.ReportMetric(0, "ns/op")
}

func vitalsArm(opts ...incident.Option) func(b *testing.B) func() {
	return func(b *testing.B) func() {
		m, err := incident.New(b.TempDir(), opts...)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		return func() { _ = m.Close() }
	}
}

func holmesArm(interval string) func(b *testing.B) func() {
	return func(b *testing.B) func() {
		h, err := holmes.New(
			holmes.WithCollectInterval(interval),
			holmes.WithDumpPath(b.TempDir()),
			holmes.WithCGroup(true),
			holmes.WithLogger(holmes.NewFileLog(filepath.Join(b.TempDir(), "holmes.log"), 0)),
		)
		if err != nil {
			b.Fatal(err)
		}
		h.EnableCPUDump().EnableMemDump().EnableGoroutineDump().EnableGCHeapDump().EnableThreadDump()
		h.Start()
		return h.Stop
	}
}

// BenchmarkArmed is the cost of being armed, per second of wall time, with
// nothing firing.
func BenchmarkArmed(b *testing.B) {
	b.Run("idle", func(b *testing.B) { armedFor(b, func(*testing.B) func() { return func() {} }) })
	b.Run("vitals", func(b *testing.B) { armedFor(b, vitalsArm(incident.NoFlightRecorder())) })
	b.Run("vitals+flight-recorder", func(b *testing.B) { armedFor(b, vitalsArm()) })
	b.Run("holmes-5s", func(b *testing.B) { armedFor(b, holmesArm("5s")) })
	b.Run("holmes-100ms", func(b *testing.B) { armedFor(b, holmesArm("100ms")) })
}

//go:noinline
func parked(ch chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-ch
}

func spawn(n int) func() {
	ch := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go parked(ch, &wg)
	}
	return func() { close(ch); wg.Wait() }
}

// BenchmarkTriggerToBundle is from a goroutine spike (12000 parked
// goroutines started at once) to the bundle or dump on disk. vitals checks
// every 100 ms near a memory threshold and every second otherwise; holmes
// is set to a 100 ms interval (default 5 s), but each of its checks also
// sleeps one second to measure CPU percent (gopsutil Percent(time.Second)),
// and it must collect 10 cycles before its first dump.
func BenchmarkTriggerToBundle(b *testing.B) {
	const spike = 12000
	b.Run("vitals", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			got := make(chan incident.Incident, 1)
			m, err := incident.New(b.TempDir(), incident.OnIncident(func(i incident.Incident) { got <- i }),
				incident.FlightRecorderOptions(tracecap.WithMaxBytes(4<<20)))
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond) // history for the spike rule
			b.StartTimer()
			t0 := time.Now()
			release := spawn(spike)
			inc := <-got
			d := time.Since(t0)
			b.StopTimer()
			if inc.Err != "" || inc.Trigger != incident.Goroutines {
				b.Fatalf("incident %+v", inc)
			}
			b.ReportMetric(float64(d.Milliseconds()), "ms-to-bundle")
			b.ReportMetric(float64(inc.Took.Milliseconds()), "ms-writing")
			release()
			_ = m.Close()
		}
	})
	b.Run("holmes-100ms", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			dir := b.TempDir()
			h, err := holmes.New(holmes.WithCollectInterval("100ms"), holmes.WithDumpPath(dir),
				holmes.WithLogger(holmes.NewFileLog(filepath.Join(b.TempDir(), "holmes.log"), 0)))
			if err != nil {
				b.Fatal(err)
			}
			h.EnableGoroutineDump()
			h.Start()
			time.Sleep(12 * time.Second) // its 10 warm-up cycles of 1.1 s
			b.StartTimer()
			t0 := time.Now()
			release := spawn(spike)
			var d time.Duration
			for {
				if ms, _ := filepath.Glob(filepath.Join(dir, "*goroutine*")); len(ms) > 0 {
					if st, err := os.Stat(ms[0]); err == nil && st.Size() > 0 {
						d = time.Since(t0)
						break
					}
				}
				if time.Since(t0) > 30*time.Second {
					b.Fatal("holmes wrote no goroutine dump within 30 s")
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(d.Milliseconds()), "ms-to-bundle")
			release()
			h.Stop()
		}
	})
}

// pauses reads the stop-the-world pause histograms (Go 1.22+).
type pauses struct{ s []rtm.Sample }

func newPauses() *pauses {
	return &pauses{s: []rtm.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/sched/pauses/total/other:seconds"},
		{Name: "/sched/pauses/stopping/gc:seconds"}, {Name: "/sched/pauses/stopping/other:seconds"}}}
}

func (p *pauses) read() [4][]uint64 {
	rtm.Read(p.s)
	var out [4][]uint64
	for i := range p.s {
		out[i] = append([]uint64(nil), p.s[i].Value.Float64Histogram().Counts...)
	}
	return out
}

// max returns the longest pause between two reads (the upper bound of its
// bucket) and how many pauses there were; stopping=true for the part spent
// waiting for every thread to stop (long on a loaded machine).
func (p *pauses) max(a, z [4][]uint64, stopping bool) (time.Duration, uint64) {
	var longest float64
	var n uint64
	lo := 0
	if stopping {
		lo = 2
	}
	for i := lo; i < lo+2; i++ {
		bk := p.s[i].Value.Float64Histogram().Buckets
		for j := range z[i] {
			if d := z[i][j] - a[i][j]; d > 0 {
				n += d
				if hi := bk[j+1]; hi > longest {
					longest = hi
				}
			}
		}
	}
	return time.Duration(longest * 1e9), n
}

// maxOne is the longest pause of histogram i (1: total/other, the pauses
// that are not the GC's own).
func (p *pauses) maxOne(i int, a, z [4][]uint64) time.Duration {
	var longest float64
	bk := p.s[i].Value.Float64Histogram().Buckets
	for j := range z[i] {
		if z[i][j] > a[i][j] && bk[j+1] > longest {
			longest = bk[j+1]
		}
	}
	return time.Duration(longest * 1e9)
}

// BenchmarkCapturePause is the longest stop-the-world pause during one
// capture with 1k, 10k and 100k parked goroutines: vitals' whole bundle
// (flight recorder, heap, goroutine profiles, goroutine budget 1000),
// holmes' goroutine dump call (pprof goroutine profile debug=0 into a
// buffer, its default; debug=2 with WithFullStack), and runtime.Stack(all).
//
// vitals-bundle arms the monitor first and then grows the goroutines, as a
// leak does: above the recorder's goroutine ceiling (20,000 by default) the
// ring has paused and the bundle carries the trace held from the crossing.
// vitals-bundle-no-ceiling keeps the ring recording at any count (the
// behaviour before the ceiling).
func BenchmarkCapturePause(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		release := spawn(n)
		name := map[int]string{1000: "1k", 10000: "10k", 100000: "100k"}[n]
		run := func(b *testing.B, capture func(b *testing.B)) {
			p := newPauses()
			var worst, worstStop, worstOther time.Duration
			var count uint64
			b.ResetTimer()
			verbose := os.Getenv("VERBOSE") != ""
			for i := range b.N {
				a := p.read()
				t0 := time.Now()
				capture(b)
				z := p.read()
				d, c := p.max(a, z, false)
				ds, _ := p.max(a, z, true)
				do := p.maxOne(1, a, z)
				if verbose && d > time.Millisecond {
					b.Logf("op %d at %s took %v: pause %v (stopping %v, non-GC %v)", i, t0.Format("15:04:05.000"), time.Since(t0).Round(time.Millisecond), d, ds, do)
				}
				worst, worstStop, worstOther, count = max(worst, d), max(worstStop, ds), max(worstOther, do), count+c
			}
			b.ReportMetric(float64(worst.Microseconds()), "max-pause-µs")
			b.ReportMetric(float64(worstOther.Microseconds()), "max-nongc-pause-µs")
			b.ReportMetric(float64(worstStop.Microseconds()), "max-stopping-µs")
			b.ReportMetric(float64(count)/float64(b.N), "pauses/op")
		}
		bundle := func(b *testing.B, fopts ...tracecap.Option) {
			release()
			m, err := incident.New(b.TempDir(), incident.ManualInterval(0),
				incident.FlightRecorderOptions(append([]tracecap.Option{tracecap.WithMaxBytes(4 << 20)}, fopts...)...))
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			time.Sleep(500 * time.Millisecond)
			release = spawn(n)
			time.Sleep(1500 * time.Millisecond) // the ring pauses within 500 ms above its ceiling
			if os.Getenv("VERBOSE") != "" {
				defer func() { b.Logf("recorder %+v; incidents %v", m.Recorder().Status(), m.Counts()) }()
			}
			run(b, func(b *testing.B) {
				inc, err := m.Capture(context.Background(), "bench")
				if err != nil {
					b.Fatal(err)
				}
				if inc.Err != "" {
					b.Fatal(inc.Err)
				}
			})
		}
		b.Run(name+"/vitals-bundle", func(b *testing.B) { bundle(b) })
		b.Run(name+"/vitals-bundle-no-ceiling", func(b *testing.B) { bundle(b, tracecap.WithGoroutineCeiling(0)) })
		b.Run(name+"/vitals-bundle-no-fr", func(b *testing.B) {
			m, err := incident.New(b.TempDir(), incident.ManualInterval(0), incident.NoFlightRecorder())
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			run(b, func(b *testing.B) {
				if _, err := m.Capture(context.Background(), "bench"); err != nil {
					b.Fatal(err)
				}
			})
		})
		// The flight recorder alone, running for a second per op with no
		// capture: the pauses of its own generation switches.
		b.Run(name+"/flight-recorder-1s", func(b *testing.B) {
			r, err := tracecap.NewRecorder(tracecap.WithMaxBytes(4<<20), tracecap.WithGoroutineCeiling(0))
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Start(); err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			run(b, func(*testing.B) { time.Sleep(time.Second) })
		})
		// No capture: one collection of the application's own, its two
		// stops as exposed as a capture's to a thread the OS does not run.
		b.Run(name+"/control-gc", func(b *testing.B) {
			run(b, func(*testing.B) { runtime.GC() })
		})
		b.Run(name+"/holmes-goroutine-dump", func(b *testing.B) {
			run(b, func(*testing.B) {
				var buf bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&buf, 0)
			})
		})
		b.Run(name+"/holmes-fullstack-dump", func(b *testing.B) {
			run(b, func(*testing.B) {
				var buf bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
			})
		})
		b.Run(name+"/runtime.Stack-all", func(b *testing.B) {
			buf := make([]byte, 64<<20)
			run(b, func(*testing.B) { runtime.Stack(buf, true) })
		})
		release()
	}
}

// BenchmarkCaptureStepPause is BenchmarkCapturePause for each step of a
// capture alone, at 100k parked goroutines: which step pauses how long.
// The flight-recorder step snapshots a recorder that runs throughout.
func BenchmarkCaptureStepPause(b *testing.B) {
	release := spawn(100000)
	defer release()
	r, err := tracecap.NewRecorder(tracecap.WithMaxBytes(4<<20), tracecap.WithMinInterval(0), tracecap.WithGoroutineCeiling(0))
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	time.Sleep(500 * time.Millisecond)
	all := rtm.All()
	steps := []struct {
		name string
		f    func()
	}{
		{"flight-recorder", func() { var buf bytes.Buffer; _, _ = r.SnapshotTo(&buf, "bench") }},
		{"heap", func() { var buf bytes.Buffer; _ = pprof.Lookup("heap").WriteTo(&buf, 0) }},
		{"goroutine-debug0", func() { var buf bytes.Buffer; _ = pprof.Lookup("goroutine").WriteTo(&buf, 0) }},
		{"goroutine-debug1", func() { var buf bytes.Buffer; _ = pprof.Lookup("goroutine").WriteTo(&buf, 1) }},
		{"runtime-metrics", func() {
			s := make([]rtm.Sample, len(all))
			for i := range all {
				s[i].Name = all[i].Name
			}
			rtm.Read(s)
		}},
		{"nothing-100ms", func() { time.Sleep(100 * time.Millisecond) }},
	}
	for _, st := range steps {
		b.Run(st.name, func(b *testing.B) {
			p := newPauses()
			var gc, other, stopGC, stopOther time.Duration
			for range b.N {
				a := p.read()
				st.f()
				z := p.read()
				gc, other = max(gc, p.maxOne(0, a, z)), max(other, p.maxOne(1, a, z))
				stopGC, stopOther = max(stopGC, p.maxOne(2, a, z)), max(stopOther, p.maxOne(3, a, z))
			}
			b.ReportMetric(float64(gc.Microseconds()), "max-gc-pause-µs")
			b.ReportMetric(float64(other.Microseconds()), "max-nongc-pause-µs")
			b.ReportMetric(float64(stopGC.Microseconds()), "max-gc-stopping-µs")
			b.ReportMetric(float64(stopOther.Microseconds()), "max-nongc-stopping-µs")
		})
	}
}
