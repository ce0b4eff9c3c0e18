package admin_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/dashboard"
)

// routeClass is one kind of admin traffic a flood is made of.
type routeClass struct {
	name    string
	parked  int      // goroutines parked in the process during the run
	paths   []string // GET paths the flood clients cycle through
	symbol  bool     // POST symbol lookups instead
	stream  bool     // open dashboard event streams and read them
	noAdmin bool     // control: no flood at all
}

var classes = []routeClass{
	{name: "control-no-admin", parked: 10_000, noAdmin: true},
	{name: "control-healthz", parked: 10_000, paths: []string{"/healthz"}},
	{name: "guarded-kinds", parked: 10_000, paths: []string{
		"/debug/pprof/profile?seconds=1", "/debug/pprof/trace?seconds=1",
		"/debug/pprof/goroutine?debug=2", "/debug/pprof/heap?gc=1", "/debug/vitals/goroutines",
		"/debug/pprof/allocs?seconds=1"}},
	{name: "heap", parked: 10_000, paths: []string{"/debug/pprof/heap"}},
	{name: "allocs-block-mutex", parked: 10_000, paths: []string{"/debug/pprof/allocs", "/debug/pprof/block", "/debug/pprof/mutex"}},
	{name: "goroutine-debug1-10k", parked: 10_000, paths: []string{"/debug/pprof/goroutine?debug=1"}},
	{name: "goroutine-debug0-10k", parked: 10_000, paths: []string{"/debug/pprof/goroutine"}},
	{name: "goroutine-debug1-100k", parked: 100_000, paths: []string{"/debug/pprof/goroutine?debug=1"}},
	{name: "goroutine-debug0-100k", parked: 100_000, paths: []string{"/debug/pprof/goroutine"}},
	{name: "control-no-admin-100k", parked: 100_000, noAdmin: true},
	{name: "symbol", parked: 10_000, symbol: true},
	{name: "metrics", parked: 10_000, paths: []string{"/metrics"}},
	{name: "dashboard-stream", parked: 10_000, stream: true},
}

const (
	classClients = 8                     // flood clients, each sending back to back
	classPause   = 20 * time.Millisecond // between one client's requests
)

// symbolBody is what go tool pprof posts: the addresses of a profile, here
// 2,000 distinct program counters of this binary's functions.
func symbolBody() string {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(0, pcs)
	base := reflect.ValueOf(appHandler).Pointer()
	var b strings.Builder
	for i := range 2000 {
		pc := base + uintptr(i*16)
		if i < n {
			pc = pcs[i]
		}
		fmt.Fprintf(&b, "%#x+", pc)
	}
	return b.String()
}

// floodClass runs classClients clients against base until ctx ends and
// returns the status counts.
func floodClass(ctx context.Context, client *http.Client, base string, c routeClass) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	body := symbolBody()
	var wg sync.WaitGroup
	for i := range classClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				var req *http.Request
				switch {
				case c.symbol:
					req, _ = http.NewRequestWithContext(ctx, "POST", base+"/debug/pprof/symbol", strings.NewReader(body))
				case c.stream:
					req, _ = http.NewRequestWithContext(ctx, "GET", base+"/debug/vitals/events", nil)
				default:
					req, _ = http.NewRequestWithContext(ctx, "GET", base+c.paths[(i+k)%len(c.paths)], nil)
				}
				resp, err := client.Do(req)
				code := -1
				if err == nil {
					if c.stream && resp.StatusCode == 200 {
						br := bufio.NewReader(resp.Body)
						for ctx.Err() == nil {
							if _, err := br.ReadString('\n'); err != nil {
								break
							}
						}
					} else {
						_, _ = io.Copy(io.Discard, resp.Body)
					}
					resp.Body.Close()
					code = resp.StatusCode
				}
				if ctx.Err() != nil && code == -1 {
					return
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(classPause):
				}
			}
		}()
	}
	wg.Wait()
	return codes
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkAdminRouteClasses: for every class of admin traffic, the
// application's p99 while 8 clients flood that class (each sending its next
// request 20 ms after the previous answer, 429s included) against its p99
// just before, in the same process, with the parked goroutines the class
// names. One iteration is one run (1 s idle, 1.5 s flood); the reported
// figures are medians over the iterations, so run it with -benchtime 10x.
// The controls are the same runs with no flood (control-no-admin) and with a
// flood of /healthz, which does no admin work (control-healthz). The goal is
// p99-ratio-median <= 1.5 for every class.
//
// CLASSES=heap,metrics runs only the named classes.
func BenchmarkAdminRouteClasses(b *testing.B) {
	only := map[string]bool{}
	if v := os.Getenv("CLASSES"); v != "" {
		for _, n := range strings.Split(v, ",") {
			only[n] = true
		}
	}
	for _, c := range classes {
		if len(only) > 0 && !only[c.name] {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			park(b, c.parked)
			runtime.GC()
			app := httptest.NewServer(http.HandlerFunc(appHandler))
			defer app.Close()
			dash, err := dashboard.New()
			if err != nil {
				b.Fatal(err)
			}
			defer dash.Close()
			srv, err := admin.New(admin.WithAddr("127.0.0.1:0"), admin.WithHandler("/debug/vitals/", dash))
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			base := "http://" + srv.Addr()
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			sample(client, app.URL, 200*time.Millisecond) // warm connections

			var idleP99, floodP99, ratios, p50s []float64
			var served, refused atomic.Int64
			b.ResetTimer()
			for range b.N {
				idle := sample(client, app.URL, idleWindow)
				ctx, cancel := context.WithTimeout(context.Background(), floodWindow)
				done := make(chan map[int]int, 1)
				if !c.noAdmin {
					go func() { done <- floodClass(ctx, client, base, c) }()
				} else {
					done <- nil
				}
				busy := sample(client, app.URL, floodWindow)
				cancel()
				codes := <-done
				served.Add(int64(codes[200]))
				refused.Add(int64(codes[http.StatusTooManyRequests] + codes[http.StatusRequestEntityTooLarge]))
				ip, fp := pct(idle, 0.99), pct(busy, 0.99)
				idleP99 = append(idleP99, ip)
				floodP99 = append(floodP99, fp)
				p50s = append(p50s, pct(busy, 0.50))
				if ip > 0 {
					ratios = append(ratios, fp/ip)
				}
			}
			b.StopTimer()
			b.ReportMetric(median(idleP99), "idle-p99-ms")
			b.ReportMetric(median(floodP99), "flood-p99-ms")
			b.ReportMetric(median(p50s), "flood-p50-ms")
			b.ReportMetric(median(ratios), "p99-ratio-median")
			b.ReportMetric(float64(served.Load())/float64(b.N), "served/op")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
		})
	}
}
