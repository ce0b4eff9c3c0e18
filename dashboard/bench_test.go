package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/govitals/vitals/metrics"
)

// BenchmarkSample is the fixed cost of one sample, whatever the number of
// pages: a sampler read, the derived values and the JSON encoding.
func BenchmarkSample(b *testing.B) {
	s, err := metrics.New(metrics.WithMinInterval(0))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st := &runState{ix: newIndexes(s)}
	wd := &Watchdog{Baseline: 10, Threshold: 20}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		s.View(func(sn *metrics.Snapshot) { compute(&st.p, sn, &st.ix, &st.pv, wd) })
		buf = appendPoint(buf[:0], &st.p)
	}
	b.ReportMetric(float64(len(buf)), "bytes/sample")
}

// BenchmarkFanout is the server's cost per connected page per sample (one
// sample a second, so also per page per second): pages are real HTTP
// clients on loopback reading the event stream. One op is one sample
// delivered to every page. cpu-ns/client-sample is the process's CPU time
// (getrusage) per page per sample and allocs/client-sample its heap
// allocations; both include the in-process readers' share, so they are an
// upper bound of the server's cost.
func BenchmarkFanout(b *testing.B) {
	for _, clients := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchFanout(b, clients) })
	}
}

func benchFanout(b *testing.B, clients int) {
	d, err := New(WithHistory(0))
	if err != nil {
		b.Fatal(err)
	}
	d.tick = make(chan chan struct{})
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer d.Close()
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	got := make(chan struct{}, clients*4)
	ready := make(chan error, clients)
	for range clients {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
			resp, err := client.Do(req)
			if err != nil {
				ready <- err
				return
			}
			defer resp.Body.Close()
			r := bufio.NewReaderSize(resp.Body, 4096)
			hello := true
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if hello {
					if bytes.HasPrefix(line, []byte("data: ")) {
						hello = false
						ready <- nil
					}
					continue
				}
				if bytes.HasPrefix(line, []byte("data: ")) {
					got <- struct{}{}
				}
			}
		}()
	}
	for range clients {
		if err := <-ready; err != nil {
			b.Fatal(err)
		}
	}
	// The run's first sample was taken when the first page joined; drain it.
	drain := time.After(200 * time.Millisecond)
	for draining := true; draining; {
		select {
		case <-got:
		case <-drain:
			draining = false
		}
	}
	if d.Clients() != clients {
		b.Fatalf("%d clients connected, want %d", d.Clients(), clients)
	}

	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, _ := processCPU()
	b.ResetTimer()
	for b.Loop() {
		ack := make(chan struct{})
		d.tick <- ack
		<-ack
		for range clients {
			<-got
		}
	}
	b.StopTimer()
	cpu1, _ := processCPU()
	runtime.ReadMemStats(&ms1)
	n := float64(b.N) * float64(clients)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/client-sample")
	b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/n, "cpu-ns/client-sample")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/client-sample")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/n, "B/client-sample")
}
