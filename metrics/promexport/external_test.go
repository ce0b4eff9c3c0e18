package promexport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/govitals/vitals/metrics"
)

// tool finds an external program; missing, the test skips, or fails when
// CI=true.
func tool(t *testing.T, name string) string {
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

func exposition(t *testing.T, g prometheus.Gatherer) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics handler: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// TestPromtoolCheckMetrics lints the exposition, through a registry and
// through the collector's own Gatherer, with promtool check metrics.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := tool(t, "promtool")
	c := newTestCollector(t, hooks()...)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	for name, g := range map[string]prometheus.Gatherer{"registry": reg, "gatherer": c} {
		t.Run(name, func(t *testing.T) {
			body := exposition(t, g)
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = bytes.NewReader(body)
			out, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
			if !bytes.Contains(body, []byte("go_sched_latencies_seconds_bucket")) {
				t.Error("exposition lacks go_sched_latencies_seconds_bucket")
			}
		})
	}
}

// TestRealPrometheus scrapes the collector with a real Prometheus server on
// loopback and queries a vitals cgroup metric and a runtime histogram.
func TestRealPrometheus(t *testing.T) {
	bin := tool(t, "prometheus")
	c := newTestCollector(t, metrics.WithMinInterval(time.Second))
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer target.Close()

	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vitals
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(target.URL, "http://"))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("prometheus exited with %v after SIGTERM\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("prometheus did not stop within 20s of SIGTERM")
		}
	}()

	api := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	waitFor := func(what, query string, ok func(float64) bool) float64 {
		t.Helper()
		var last string
		for {
			v, err := instantQuery(ctx, client, api, query)
			if err == nil && ok(v) {
				return v
			}
			last = fmt.Sprint(v, err)
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %s never became plausible (last: %s)\nprometheus logs:\n%s", what, query, last, logs.String())
			case err := <-done:
				t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	waitFor("target up", `up{job="vitals"}`, func(v float64) bool { return v == 1 })
	mem := waitFor("cgroup memory usage", `vitals_cgroup_memory_usage_bytes{job="vitals"}`, func(v float64) bool { return v > 1<<20 && v < 1<<50 })
	t.Logf("vitals_cgroup_memory_usage_bytes = %.0f", mem)
	waitFor("GOMAXPROCS", `vitals_gomaxprocs{job="vitals"}`, func(v float64) bool { return v >= 1 })
	// Two scrapes at least, so that rate() has something to work on; the
	// median allocation size is between 1 byte and 1 MiB.
	med := waitFor("allocation size median", `histogram_quantile(0.5, rate(go_gc_heap_allocs_by_size_bytes_bucket{job="vitals"}[10s]))`,
		func(v float64) bool { return v >= 1 && v <= 1<<20 })
	t.Logf("median allocation size = %.0f bytes", med)
	waitFor("scheduling latency samples", `go_sched_latencies_seconds_count{job="vitals"}`, func(v float64) bool { return v > 0 })
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// instantQuery runs a PromQL query that must return exactly one sample.
func instantQuery(ctx context.Context, client *http.Client, api, q string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", api+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("query %s: %w: %s", q, err, body)
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %s", q, body)
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}
