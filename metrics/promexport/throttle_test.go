package promexport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/cgrouptest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const childEnv = "VITALS_PROMEXPORT_THROTTLE_CHILD"

// TestThrottledInRealCgroup runs a child process in a real cgroup v1 CPU
// controller limited to 0.1 cores, lets it spin on two goroutines and checks
// that its exposition shows the limit and the throttling.
func TestThrottledInRealCgroup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	const root = "/sys/fs/cgroup/cpu"
	cgrouptest.Require(t) // skips without root and writable v1 controllers; fails under CI=true
	dir := filepath.Join(root, fmt.Sprintf("vitals-promexport-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The child has exited; the directory is empty of tasks now.
		for range 50 {
			if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("could not remove %s", dir)
	})
	write := func(file, v string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			t.Fatalf("write %s: %v", file, err)
		}
	}
	write("cpu.cfs_period_us", "100000")
	write("cpu.cfs_quota_us", "10000")

	cmd := exec.Command(os.Args[0], "-test.run=^TestThrottleChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	write("cgroup.procs", strconv.Itoa(cmd.Process.Pid))
	fmt.Fprintln(stdin, "go")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out.String(), errb.String())
	}
	expo, _, found := strings.Cut(out.String(), "=== END")
	_, expo, found2 := strings.Cut(expo, "=== EXPOSITION\n")
	if !found || !found2 {
		t.Fatalf("child printed no exposition:\n%s", out.String())
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(expo))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	get := func(name string) float64 {
		t.Helper()
		mf, ok := mfs[name]
		if !ok || len(mf.Metric) != 1 {
			t.Fatalf("%s missing from the child's exposition", name)
		}
		return value(mf.Metric[0])
	}
	if got := get("vitals_cgroup_cpu_limit_cores"); got != 0.1 {
		t.Errorf("vitals_cgroup_cpu_limit_cores = %v, want 0.1", got)
	}
	periods, throttled := get("vitals_cgroup_cpu_periods_total"), get("vitals_cgroup_cpu_throttled_periods_total")
	secs := get("vitals_cgroup_cpu_throttled_seconds_total")
	t.Logf("periods %v, throttled %v, throttled for %vs", periods, throttled, secs)
	if throttled < 2 || throttled > periods || secs <= 0 {
		t.Errorf("a process spinning on two goroutines under a 0.1-core quota shows %v of %v periods throttled for %vs", throttled, periods, secs)
	}
}

// TestThrottleChild is the child of TestThrottledInRealCgroup: it waits until
// it has been moved into the cgroup, burns CPU, and prints its exposition.
func TestThrottleChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("only runs as the child of TestThrottledInRealCgroup")
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stop := time.Now().Add(600 * time.Millisecond)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			n := 0
			for time.Now().Before(stop) {
				n++
			}
			done <- n
		}()
	}
	<-done
	<-done
	c := newTestCollector(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fmt.Printf("=== EXPOSITION\n%s=== END\n", exposition(t, reg))
}
