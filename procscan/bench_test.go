package procscan_test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/govitals/vitals/internal/testbin"
	"github.com/govitals/vitals/procscan"
)

// startListeners starts n copies of testdata/listener and returns their PIDs.
func startListeners(b *testing.B, n int) []int {
	b.Helper()
	bin := testbin.Build(b, "testdata/listener/main.go")
	pids := make([]int, 0, n)
	for range n {
		cmd := exec.Command(bin)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if !strings.HasPrefix(line, "PORT=") {
			b.Fatalf("listener printed %q, %v", line, err)
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		pids = append(pids, cmd.Process.Pid)
	}
	return pids
}

func benchScan(b *testing.B, n int, opts ...procscan.Option) {
	pids := startListeners(b, n)
	opts = append(opts, procscan.WithPIDs(pids...))
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		rep := procscan.Scan(context.Background(), opts...)
		if len(rep.Processes) != n {
			b.Fatalf("found %d of %d processes; skipped %v, warnings %v", len(rep.Processes), n, rep.Skipped, rep.Warnings)
		}
		for _, p := range rep.Processes {
			if len(p.Listeners) != 1 {
				b.Fatalf("pid %d: listeners %v", p.PID, p.Listeners)
			}
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/process")
	// The scanner's own CPU time, which the machine's load does not inflate.
	b.ReportMetric(cpuMS(before, after)/float64(b.N), "cpu-ms/op")
}

func cpuMS(a, b syscall.Rusage) float64 {
	d := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e3 + float64(t.Usec)/1e3 }
	return d(b.Utime) - d(a.Utime) + d(b.Stime) - d(a.Stime)
}

// BenchmarkScan100 scans 100 real Go processes, each listening on a
// loopback port that is probed.
func BenchmarkScan100(b *testing.B) { benchScan(b, 100) }

// BenchmarkScan100NoProbe is BenchmarkScan100 without the port probes: the
// /proc, binary and cgroup reads alone.
func BenchmarkScan100NoProbe(b *testing.B) { benchScan(b, 100, procscan.WithoutProbe()) }

// BenchmarkScanNode scans every process on this machine, without probes.
func BenchmarkScanNode(b *testing.B) {
	var procs int
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		rep := procscan.Scan(context.Background(), procscan.WithoutProbe())
		procs = rep.Scanned
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	b.ReportMetric(float64(procs), "processes")
	b.ReportMetric(cpuMS(before, after)/float64(b.N), "cpu-ms/op")
}
