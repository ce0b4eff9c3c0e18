package cgroup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/cgrouptest"
)

// childEnv makes the re-executed test binary print what it reads instead
// of running the test.
const childEnv = "VITALS_CGROUP_CHILD"

const childMarker = "VITALS_CGROUP_RESULT "

type childResult struct {
	Limits     Limits
	Stats      Stats
	StatsErr   string
	CPUStat    string
	MemoryFile string
	Effective  float64
}

// TestReadInRealCgroup creates a v1 cgroup with a 1.5-CPU quota and a
// 300 MiB limit, re-executes this test binary inside it and checks what
// Read and StatReader see there.
func TestReadInRealCgroup(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		runChild()
		return
	}
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 1.5, 300<<20)
	got := runInGroup(t, g, "^TestReadInRealCgroup$")
	l := got.Limits
	t.Logf("child read: %+v", l)
	if l.Version != V1 && l.Version != Hybrid {
		t.Errorf("Version = %v, want V1 or Hybrid", l.Version)
	}
	if l.CPUPath != g.CPUDir() || l.MemoryPath != g.MemoryDir() {
		t.Errorf("paths = %q, %q; want %q, %q", l.CPUPath, l.MemoryPath, g.CPUDir(), g.MemoryDir())
	}
	wantCPU := CPU{Limited: true, Quota: 1.5, QuotaPath: filepath.Join(g.CPUDir(), "cpu.cfs_quota_us"), Affinity: l.CPU.Affinity}
	if l.CPU != wantCPU {
		t.Errorf("CPU = %+v, want %+v", l.CPU, wantCPU)
	}
	if l.CPU.Affinity < 1 {
		t.Errorf("Affinity = %d, want the child's sched_getaffinity count", l.CPU.Affinity)
	}
	if want := min(1.5, float64(l.CPU.Affinity)); got.Effective != want {
		t.Errorf("Effective = %v, want %v", got.Effective, want)
	}
	wantMem := Memory{Limited: true, Max: 300 << 20, MaxPath: filepath.Join(g.MemoryDir(), "memory.limit_in_bytes")}
	if l.Memory != wantMem {
		t.Errorf("Memory = %+v, want %+v", l.Memory, wantMem)
	}
	if got.CPUStat != filepath.Join(g.CPUDir(), "cpu.stat") || got.MemoryFile != filepath.Join(g.MemoryDir(), "memory.usage_in_bytes") {
		t.Errorf("StatReader files = %q, %q", got.CPUStat, got.MemoryFile)
	}
	if got.StatsErr != "" || !got.Stats.HaveCPU || !got.Stats.HaveMemory || got.Stats.MemoryUsage == 0 {
		t.Errorf("StatReader.Read = %+v, %q; want both parts and a non-zero usage", got.Stats, got.StatsErr)
	}
	// The child ran for 200 ms under a quota: CFS periods elapsed.
	if got.Stats.Periods == 0 || got.Stats.ThrottledPeriods > got.Stats.Periods {
		t.Errorf("CFS counters %+v: want periods > 0 and throttled <= periods", got.Stats)
	}
}

// TestReadInRealNestedCgroup puts the child in a leaf with no CPU quota
// and 1 GiB below a parent allowing 1 CPU and 200 MiB: the parent's limits
// are the effective ones. (The Go runtime reads only the leaf's CPU quota
// and would see no limit; v1 refuses a leaf quota above the parent's.)
func TestReadInRealNestedCgroup(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		runChild()
		return
	}
	cgrouptest.Require(t)
	parent := cgrouptest.New(t, 1, 200<<20)
	leaf := parent.Sub(t, 0, 1<<30)
	got := runInGroup(t, leaf, "^TestReadInRealNestedCgroup$")
	l := got.Limits
	if l.CPUPath != leaf.CPUDir() || l.MemoryPath != leaf.MemoryDir() {
		t.Errorf("paths = %q, %q; want the leaf's %q, %q", l.CPUPath, l.MemoryPath, leaf.CPUDir(), leaf.MemoryDir())
	}
	if want := filepath.Join(parent.CPUDir(), "cpu.cfs_quota_us"); l.CPU.Quota != 1 || l.CPU.QuotaPath != want {
		t.Errorf("CPU = %+v, want quota 1 from %s", l.CPU, want)
	}
	if want := filepath.Join(parent.MemoryDir(), "memory.limit_in_bytes"); l.Memory.Max != 200<<20 || l.Memory.MaxPath != want {
		t.Errorf("Memory = %+v, want 200 MiB from %s", l.Memory, want)
	}
}

// runInGroup re-executes this test binary inside g, running only the test
// matching run, with childEnv set, and returns what the child read.
func runInGroup(t *testing.T, g *cgrouptest.Group, run string) childResult {
	t.Helper()
	cmd := g.Command(os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.Bytes())
	}
	var got childResult
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), childMarker); ok {
			if err := json.Unmarshal([]byte(rest), &got); err != nil {
				t.Fatalf("child output: %v: %s", err, rest)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("child printed no result:\n%s", out)
	}
	return got
}

// runChild prints what the child process reads, one marked JSON line.
func runChild() {
	// Run on two threads for a moment so the CFS counters move.
	var wg sync.WaitGroup
	stop := time.Now().Add(200 * time.Millisecond)
	for range 2 {
		wg.Go(func() {
			for time.Now().Before(stop) {
			}
		})
	}
	wg.Wait()
	r := childResult{Limits: Read()}
	r.Effective = r.Limits.CPU.Effective()
	sr, err := NewStatReader()
	if err != nil {
		r.StatsErr = err.Error()
	}
	r.CPUStat, r.MemoryFile = sr.Paths()
	if err := sr.Read(&r.Stats); err != nil {
		r.StatsErr = err.Error()
	}
	sr.Close()
	b, _ := json.Marshal(r)
	fmt.Printf("%s%s\n", childMarker, b)
}
