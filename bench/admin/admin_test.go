// Package admin_test measures what an admin surface costs the application
// it lives in: the latency of the application's own handler while 64
// expensive debug requests (CPU profiles, traces, full goroutine dumps,
// heap?gc=1) arrive at once, in a process with 10,000 goroutines.
//
// Two admin surfaces are compared on their own loopback ports:
//
//   - vitals-admin: github.com/govitals/vitals/admin with its defaults
//     (one expensive request of any kind at a time, starts at least 1 s
//     apart, up to 4 waiting their turn for up to 10 s, 429 for the rest;
//     heap?gc=1 forces no GC when a cycle ended in the last second; full
//     goroutine dumps refused above 10,000 goroutines without force=1).
//   - net-http-pprof: the standard library's handlers on
//     http.DefaultServeMux, which run every request.
//
// The application's latency is measured open-loop: a request is sent every
// 2 ms whatever happened to the previous ones, and its latency counts from
// when it was due, so a stop-the-world pause is charged to every request it
// delays (no coordinated omission).
//
// FLOOD_PATHS=path1,path2 replaces the flood's paths, to find which kind of
// request costs the application what. BenchmarkAdminRouteClasses (in
// classes_test.go) floods each class of admin route in turn, cheap ones
// included, next to controls without admin work.
package admin_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	_ "net/http/pprof" // the rival: registers on http.DefaultServeMux (bench module only)
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govitals/vitals/admin"
)

const (
	parkedGoroutines = 10_000
	floodRequests    = 64
	tick             = 2 * time.Millisecond
	idleWindow       = time.Second
	floodWindow      = 1500 * time.Millisecond
)

// floodPaths are the expensive requests of the flood; both surfaces serve
// them under the same paths.
var floodPaths = []string{
	"/debug/pprof/profile?seconds=1",
	"/debug/pprof/trace?seconds=1",
	"/debug/pprof/goroutine?debug=2",
	"/debug/pprof/heap?gc=1",
}

// appHandler stands for a service's ordinary endpoint: a little hashing and
// a small JSON answer, tens of microseconds.
func appHandler(w http.ResponseWriter, r *http.Request) {
	var buf [1024]byte
	sum := sha256.Sum256(buf[:])
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"order": 42, "sum": fmt.Sprintf("%x", sum[:8])})
}

func park(b *testing.B, n int) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		go func() { defer wg.Done(); <-stop }()
	}
	b.Cleanup(func() { close(stop); wg.Wait() })
}

// sample sends one request every tick to url for d and returns the
// latencies, each measured from when its request was due.
func sample(client *http.Client, url string, d time.Duration) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * tick)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(url)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat
}

func pct(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// flood fires every flood request at once and returns the status counts
// when all have answered.
func flood(client *http.Client, base string) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range floodRequests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			resp, err := client.Get(base + floodPaths[i%len(floodPaths)])
			code := -1
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(begin)
	wg.Wait()
	return codes
}

// BenchmarkAppLatencyUnderAdminFlood reports the application's p50 and p99
// latency when idle and during a flood of 64 expensive admin requests, and
// the ratio of the two p99s (the target for vitals-admin is at most 1.5).
func BenchmarkAppLatencyUnderAdminFlood(b *testing.B) {
	if v := os.Getenv("FLOOD_PATHS"); v != "" {
		floodPaths = strings.Split(v, ",")
	}
	surfaces := []struct {
		name  string
		serve func(b *testing.B) string // returns the admin base URL
	}{
		{"vitals-admin", func(b *testing.B) string {
			srv, err := admin.New(admin.WithAddr("127.0.0.1:0"))
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { srv.Close() })
			return "http://" + srv.Addr()
		}},
		{"net-http-pprof", func(b *testing.B) string {
			srv := httptest.NewServer(http.DefaultServeMux)
			b.Cleanup(srv.Close)
			return srv.URL
		}},
	}
	for _, sf := range surfaces {
		b.Run(sf.name, func(b *testing.B) {
			park(b, parkedGoroutines)
			app := httptest.NewServer(http.HandlerFunc(appHandler))
			defer app.Close()
			base := sf.serve(b)
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			sample(client, app.URL, 200*time.Millisecond) // warm connections

			var idle, busy []time.Duration
			var refused atomic.Int64
			b.ResetTimer()
			for range b.N {
				idle = append(idle, sample(client, app.URL, idleWindow)...)
				done := make(chan map[int]int, 1)
				go func() { done <- flood(client, base) }()
				busy = append(busy, sample(client, app.URL, floodWindow)...)
				codes := <-done
				refused.Add(int64(codes[http.StatusTooManyRequests] + codes[http.StatusRequestEntityTooLarge]))
			}
			b.StopTimer()
			b.ReportMetric(pct(idle, 0.50), "idle-p50-ms")
			b.ReportMetric(pct(idle, 0.99), "idle-p99-ms")
			b.ReportMetric(pct(busy, 0.50), "flood-p50-ms")
			b.ReportMetric(pct(busy, 0.99), "flood-p99-ms")
			if p := pct(idle, 0.99); p > 0 {
				b.ReportMetric(pct(busy, 0.99)/p, "p99-ratio")
			}
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
		})
	}
}
