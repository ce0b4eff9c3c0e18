package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/govitals/vitals/internal/cgrouptest"
)

// TestWithProcessRealCgroup puts a sleep in a real v1 cgroup with a 0.5-CPU
// quota and a 200 MiB limit and reads its limits from this process, which
// is outside that group.
func TestWithProcessRealCgroup(t *testing.T) {
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 0.5, 200<<20)
	cmd := g.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var l Limits
	// The shell writes its pid into cgroup.procs before it execs sleep.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l = Read(WithProcess(cmd.Process.Pid))
		if l.MemoryPath == g.MemoryDir() && l.CPUPath == g.CPUDir() || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if l.CPUPath != g.CPUDir() || l.MemoryPath != g.MemoryDir() {
		t.Fatalf("paths = %q, %q; want %q, %q", l.CPUPath, l.MemoryPath, g.CPUDir(), g.MemoryDir())
	}
	if !l.CPU.Limited || l.CPU.Quota != 0.5 {
		t.Errorf("CPU = %+v, want a 0.5-core quota", l.CPU)
	}
	if !l.Memory.Limited || l.Memory.Max != 200<<20 {
		t.Errorf("Memory = %+v, want 200 MiB", l.Memory)
	}
	if self := Read(); self.MemoryPath == g.MemoryDir() {
		t.Errorf("this process reads as inside the child's group: %+v", self)
	}
	r, err := NewStatReader(WithProcess(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if cpu, _ := r.Paths(); cpu != filepath.Join(g.CPUDir(), "cpu.stat") {
		t.Errorf("StatReader cpu.stat = %q, want the child's", cpu)
	}
}

// TestWithProcessFixture reads /proc/PID/cgroup from a fixture tree.
func TestWithProcessFixture(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/self/cgroup", "0::/\n")
	write("proc/42/cgroup", "0::/app\n")
	write("proc/self/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw\n")
	write("sys/fs/cgroup/app/memory.max", strconv.Itoa(64<<20)+"\n")
	write("sys/fs/cgroup/app/cpu.max", "150000 100000\n")
	l := Read(WithRoot(root), WithProcess(42))
	if l.MemoryPath != "/sys/fs/cgroup/app" || l.Memory.Max != 64<<20 || l.CPU.Quota != 1.5 {
		t.Errorf("Read(WithProcess(42)) = %+v; want /app's 64 MiB and 1.5 cores", l)
	}
	if l := Read(WithRoot(root)); l.Memory.Limited {
		t.Errorf("Read without WithProcess = %+v; want the root group, unlimited", l)
	}
}
