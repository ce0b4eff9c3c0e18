package vitals

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/govitals/vitals/admin"
)

// logBuffer is an io.Writer safe for the concurrent writes of a slog handler.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func authAdmin() StartOption {
	return AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBasicAuth("ops", "pw"))
}

// TestStartMetricsWithClientGolangCollectors: the godoc's own example,
// MetricsGatherers(prometheus.DefaultGatherer), and an application registry
// holding client_golang's Go and process collectors serve /metrics with 200,
// every family once, the application's families kept, promtool clean.
func TestStartMetricsWithClientGolangCollectors(t *testing.T) {
	appReg := prometheus.NewRegistry()
	orders := prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_orders_total", Help: "Orders."})
	appReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), orders)
	orders.Add(3)

	deflt := prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_default_total", Help: "On the default registry."})
	prometheus.MustRegister(deflt)
	t.Cleanup(func() { prometheus.Unregister(deflt) })
	deflt.Add(4)

	promtool := lookTool(t, "promtool")
	for _, tt := range []struct {
		name string
		g    prometheus.Gatherer
		want string
	}{
		{"registry with Go and process collectors", appReg, "shop_orders_total 3"},
		{"prometheus.DefaultGatherer", prometheus.DefaultGatherer, "shop_default_total 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			svc, err := Start(context.Background(), quiet(), authAdmin(), NoWatchdog(),
				MetricsGatherers(tt.g), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			code, body := fetch(t, svc.Admin().Addr(), "/metrics")
			if code != 200 {
				t.Fatalf("/metrics: %d\n%s", code, body)
			}
			for _, want := range []string{tt.want, "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ", "vitals_gomaxprocs{"} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			for _, fam := range []string{"go_goroutines", "go_gc_duration_seconds", "go_info", "process_cpu_seconds_total"} {
				if n := strings.Count(body, "# TYPE "+fam+" "); n != 1 {
					t.Errorf("%s served %d times", fam, n)
				}
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
			if strings.Contains(logs.String(), "/metrics") {
				t.Errorf("problems logged for a clean merge:\n%s", logs.String())
			}
		})
	}
}

// failingCollector fails every collection.
type failingCollector struct{ desc *prometheus.Desc }

func (f failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

func (f failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("backend unreachable"))
}

// TestStartMetricsServedAround: a collision vitals cannot resolve and a
// failing collector leave out only their part; the rest of /metrics answers
// 200, each problem is logged once however often it recurs, and
// /debug/vitals lists it with its count.
func TestStartMetricsServedAround(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	a.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_mode", Help: "A gauge."}))
	b.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_mode", Help: "A counter."}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_fine", Help: "Unaffected."}),
		failingCollector{prometheus.NewDesc("shop_backend_up", "Fails.", nil, nil)})
	var logs logBuffer
	svc, err := Start(context.Background(), quiet(), authAdmin(), NoWatchdog(),
		MetricsGatherers(a, b), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	addr := svc.Admin().Addr()
	for range 3 {
		code, body := fetch(t, addr, "/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d\n%s", code, body)
		}
		for _, want := range []string{"# TYPE shop_mode gauge", "shop_fine 0", "go_goroutines "} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	}
	l := logs.String()
	for _, want := range []string{"shop_mode served by two gatherers", "backend unreachable"} {
		if n := strings.Count(l, want); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", want, n, l)
		}
	}
	_, body := fetch(t, addr, "/debug/vitals")
	var v struct {
		State struct {
			Metrics struct {
				Problems []metricsProblem `json:"problems"`
			} `json:"metrics"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.State.Metrics.Problems) != 2 {
		t.Fatalf("/debug/vitals metrics problems = %+v, want 2", v.State.Metrics.Problems)
	}
	for _, p := range v.State.Metrics.Problems {
		if p.Count != 3 {
			t.Errorf("problem %q counted %d times, want 3 (one per scrape)", p.Error, p.Count)
		}
	}
}
