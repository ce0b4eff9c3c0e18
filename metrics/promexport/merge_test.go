package promexport

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

func TestMerge(t *testing.T) {
	c := newTestCollector(t, hooks()...)
	app := prometheus.NewRegistry()
	app.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}))
	app.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "zzz_last", Help: "Sorts last."}))

	// Same result as prometheus.Gatherers, which checks everything.
	want, err := prometheus.Gatherers{app, c}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Merge(app, c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(text(t, want), text(t, got)); diff != "" {
		t.Errorf("Merge differs from prometheus.Gatherers (-Gatherers +Merge):\n%s", diff)
	}
}

// appRegistry is what a service that adopts vitals typically has: client_golang's
// Go and process collectors and its own metrics.
func appRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounter(prometheus.CounterOpts{Name: "app_requests_total", Help: "Requests."}),
	)
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_errors_total", Help: "Errors."}, []string{"code"})
	cv.WithLabelValues("500").Inc()
	cv.WithLabelValues("503").Add(2)
	reg.MustRegister(cv)
	return reg
}

// TestMergeRuntimeCollectors: an application registry holding client_golang's
// Go and process collectors, or prometheus.DefaultGatherer, served next to a
// Collector: every go_* and process_* family once (the Collector's copy of
// the go_* ones), every application family kept, no error, promtool clean.
func TestMergeRuntimeCollectors(t *testing.T) {
	c := newTestCollector(t, hooks()...)
	ours := gatherMap(t, c)
	for name, app := range map[string]prometheus.Gatherer{
		"registry":        appRegistry(t),
		"DefaultGatherer": prometheus.DefaultGatherer,
	} {
		t.Run(name, func(t *testing.T) {
			appFams := gatherMap(t, app)
			mfs, err := Merge(c, app).Gather()
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			got := map[string]*dto.MetricFamily{}
			for _, mf := range mfs {
				if got[mf.GetName()] != nil {
					t.Errorf("%s served twice", mf.GetName())
				}
				got[mf.GetName()] = mf
			}
			for n, mf := range appFams {
				g := got[n]
				if g == nil {
					t.Errorf("application family %s lost", n)
					continue
				}
				if _, both := ours[n]; both {
					if g.GetHelp() != ours[n].GetHelp() {
						t.Errorf("%s: served client_golang's copy (%q), want the Collector's", n, g.GetHelp())
					}
				} else if len(g.Metric) != len(mf.Metric) {
					t.Errorf("%s: %d points, the application has %d", n, len(g.Metric), len(mf.Metric))
				}
			}
			if name == "registry" {
				for _, n := range []string{"app_requests_total", "app_errors_total", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"} {
					if got[n] == nil {
						t.Errorf("%s missing", n)
					}
				}
			}
			promtool := tool(t, "promtool")
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(exposition(t, Merge(c, app)))
			if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}

// TestMergeCollisions: what cannot be resolved is reported and served around.
func TestMergeCollisions(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	av := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."}, []string{"queue"})
	av.WithLabelValues("fast").Add(1)
	av.WithLabelValues("slow").Add(2)
	bv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."}, []string{"queue"})
	bv.WithLabelValues("slow").Add(20) // same labels as a's: dropped
	bv.WithLabelValues("bulk").Add(3)  // new labels: merged
	a.MustRegister(av, prometheus.NewGauge(prometheus.GaugeOpts{Name: "mode", Help: "A gauge."}))
	b.MustRegister(bv,
		prometheus.NewCounter(prometheus.CounterOpts{Name: "mode", Help: "A counter."}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "only_b", Help: "Unique."}))
	// a's families are served as they are, so Merge must copy before it adds.
	aFams := gatherList(t, a)
	aBefore := text(t, aFams)
	fixedA := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return aFams, nil })

	mfs, err := Merge(fixedA, b).Gather()
	if err == nil {
		t.Fatal("no error for two colliding families")
	}
	for _, want := range []string{"jobs_total: 1 points", "mode served by two gatherers as GAUGE and COUNTER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	got := text(t, mfs)
	for _, want := range []string{`jobs_total{queue="fast"} 1`, `jobs_total{queue="slow"} 2`, `jobs_total{queue="bulk"} 3`, "# TYPE mode gauge", "only_b 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("merged exposition lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "20") {
		t.Errorf("the second copy of jobs_total{queue=\"slow\"} was served:\n%s", got)
	}
	if after := text(t, aFams); after != aBefore {
		t.Errorf("Merge modified a gatherer's families:\n%s", cmp.Diff(aBefore, after))
	}
}

func gatherList(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}
