package stacks

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/govitals/vitals/stacks"
	ppstack "github.com/maruel/panicparse/v2/stack"
)

// sizes are the dumps benchmarked: 10k goroutines always, 100k when
// VITALS_BENCH_100K is set (it takes panicparse tens of seconds to group).
func sizes() []int {
	if os.Getenv("VITALS_BENCH_100K") != "" {
		return []int{10_000, 100_000}
	}
	return []int{10_000}
}

var (
	dumpMu sync.Mutex
	dumps  = map[int][]byte{}
)

// dump returns the n-goroutine dump, generated once per run.
func dump(tb testing.TB, n int) []byte {
	dumpMu.Lock()
	defer dumpMu.Unlock()
	if b, ok := dumps[n]; ok {
		return b
	}
	var buf bytes.Buffer
	if err := WriteDump(&buf, n); err != nil {
		tb.Fatal(err)
	}
	dumps[n] = buf.Bytes()
	return buf.Bytes()
}

func name(n int) string { return fmt.Sprintf("%dk", n/1000) }

// BenchmarkParse measures parsing alone: vitals builds its full model
// (every goroutine and frame), panicparse runs ScanSnapshot.
func BenchmarkParse(b *testing.B) {
	for _, n := range sizes() {
		in := dump(b, n)
		b.Run("vitals/"+name(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				d, err := stacks.Parse(bytes.NewReader(in))
				if err != nil || len(d.Goroutines) != n {
					b.Fatalf("parsed %d goroutines: %v", len(d.Goroutines), err)
				}
			}
		})
		b.Run("panicparse/"+name(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				s, _, err := ppstack.ScanSnapshot(bytes.NewReader(in), io.Discard, ppstack.DefaultOpts())
				if err != nil && err != io.EOF || s == nil || len(s.Goroutines) != n {
					b.Fatalf("panicparse: %v", err)
				}
			}
		})
	}
}

// BenchmarkScan measures the streaming parser alone: every goroutine and
// frame is parsed into the model, one goroutine at a time, and nothing is
// kept (what GroupReader and the leak checks build on). Compare with
// panicparse's ScanSnapshot in BenchmarkParse.
func BenchmarkScan(b *testing.B) {
	for _, n := range sizes() {
		in := dump(b, n)
		b.Run("vitals/"+name(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				sc := stacks.NewScanner(bytes.NewReader(in))
				got := 0
				for sc.Next() {
					got++
				}
				if err := sc.Err(); err != nil || got != n {
					b.Fatalf("scanned %d goroutines: %v", got, err)
				}
			}
		})
	}
}

// BenchmarkParseGroup measures parse + pointer-insensitive grouping.
func BenchmarkParseGroup(b *testing.B) {
	for _, n := range sizes() {
		in := dump(b, n)
		b.Run("vitals/"+name(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var groups int
			for b.Loop() {
				gs, err := stacks.GroupReader(bytes.NewReader(in))
				if err != nil {
					b.Fatal(err)
				}
				groups = len(gs)
			}
			b.ReportMetric(float64(groups), "groups")
		})
		b.Run("panicparse/"+name(n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var groups int
			for b.Loop() {
				s, _, err := ppstack.ScanSnapshot(bytes.NewReader(in), io.Discard, ppstack.DefaultOpts())
				if err != nil && err != io.EOF {
					b.Fatal(err)
				}
				groups = len(s.Aggregate(ppstack.AnyPointer).Buckets)
			}
			b.ReportMetric(float64(groups), "groups")
		})
	}
}

// BenchmarkPeakRSS runs parse+group of the largest dump in a fresh child
// process per library and reports the child's peak RSS (getrusage
// maxrss), which includes the Go runtime's own ~few MB.
func BenchmarkPeakRSS(b *testing.B) {
	ns := sizes()
	n := ns[len(ns)-1]
	file := filepath.Join(b.TempDir(), "dump.txt")
	if err := os.WriteFile(file, dump(b, n), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, lib := range []string{"vitals", "panicparse"} {
		b.Run(lib+"/"+name(n), func(b *testing.B) {
			var rss float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
				cmd.Env = append(os.Environ(), "STACKS_RSS_CHILD="+lib, "STACKS_RSS_FILE="+file)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				_, after, ok := strings.Cut(string(out), "maxrss_kb=")
				if !ok {
					b.Fatalf("child printed no maxrss:\n%s", out)
				}
				kb, err := strconv.Atoi(strings.Fields(after)[0])
				if err != nil {
					b.Fatal(err)
				}
				rss = float64(kb) / 1024
			}
			b.ReportMetric(rss, "peak-RSS-MB")
		})
	}
}

// TestRSSChild is the child of BenchmarkPeakRSS; it does nothing unless
// STACKS_RSS_CHILD names a library.
func TestRSSChild(t *testing.T) {
	lib := os.Getenv("STACKS_RSS_CHILD")
	if lib == "" {
		t.Skip("only run as BenchmarkPeakRSS's child")
	}
	f, err := os.Open(os.Getenv("STACKS_RSS_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	groups := 0
	switch lib {
	case "vitals":
		gs, err := stacks.GroupReader(f)
		if err != nil {
			t.Fatal(err)
		}
		groups = len(gs)
	case "panicparse":
		s, _, err := ppstack.ScanSnapshot(f, io.Discard, ppstack.DefaultOpts())
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		groups = len(s.Aggregate(ppstack.AnyPointer).Buckets)
	}
	// VmHWM is this process's own peak RSS; getrusage's maxrss would also
	// count the parent's, inherited through fork and exec.
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	_, after, _ := strings.Cut(string(status), "VmHWM:")
	fmt.Printf("groups=%d maxrss_kb=%s\n", groups, strings.Fields(after)[0])
}

// TestSameGroups checks that both libraries see the same dump: the same
// number of goroutines, and vitals' groups add up to it.
func TestSameGroups(t *testing.T) {
	in := dump(t, 2000)
	gs, err := stacks.GroupReader(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range gs {
		total += g.Count
	}
	s, _, err := ppstack.ScanSnapshot(bytes.NewReader(in), io.Discard, ppstack.DefaultOpts())
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if total != 2000 || len(s.Goroutines) != 2000 {
		t.Fatalf("vitals grouped %d, panicparse scanned %d goroutines, want 2000", total, len(s.Goroutines))
	}
	pp := len(s.Aggregate(ppstack.AnyPointer).Buckets)
	t.Logf("vitals %d groups, panicparse %d buckets", len(gs), pp)
	if len(gs) < pp/2 || len(gs) > pp*2 {
		t.Errorf("vitals %d groups vs panicparse %d buckets: grouping differs too much", len(gs), pp)
	}
}
