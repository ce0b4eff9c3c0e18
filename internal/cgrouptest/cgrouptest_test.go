package cgrouptest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	Require(t)
	var g *Group
	t.Run("create", func(t *testing.T) {
		g = New(t, 1.5, 300<<20)
		for file, want := range map[string]string{
			filepath.Join(g.CPUDir(), "cpu.cfs_quota_us"):         "150000",
			filepath.Join(g.CPUDir(), "cpu.cfs_period_us"):        "100000",
			filepath.Join(g.MemoryDir(), "memory.limit_in_bytes"): "314572800",
		} {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != want {
				t.Errorf("%s = %q, want %q", file, got, want)
			}
		}
		out, err := g.Command("cat", "/proc/self/cgroup").Output()
		if err != nil {
			t.Fatalf("Command: %v", err)
		}
		var cpu, mem bool
		for _, line := range strings.Split(string(out), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || parts[2] != g.Path() {
				continue
			}
			for _, c := range strings.Split(parts[1], ",") {
				cpu = cpu || c == "cpu"
				mem = mem || c == "memory"
			}
		}
		if !cpu || !mem {
			t.Errorf("child is not in %s for cpu and memory:\n%s", g.Path(), out)
		}
	})
	for _, d := range []string{g.CPUDir(), g.MemoryDir()} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after cleanup (err %v)", d, err)
		}
	}
}

// TestCleanupKillsLeftovers leaves a process running in the group: cleanup
// must kill it and still remove the group.
func TestCleanupKillsLeftovers(t *testing.T) {
	Require(t)
	var g *Group
	var wait func() error
	t.Run("leave", func(t *testing.T) {
		g = New(t, 0, 64<<20)
		cmd := g.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait = cmd.Wait
		// Leave only once sleep is in the group (the shell joins, then execs).
		for deadline := time.Now().Add(10 * time.Second); ; {
			if time.Now().After(deadline) {
				t.Fatal("sleep never joined the group")
			}
			b, err := os.ReadFile(filepath.Join(g.MemoryDir(), "cgroup.procs"))
			if err != nil {
				t.Fatal(err)
			}
			if pid := strings.TrimSpace(string(b)); pid != "" {
				if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	if err := wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("leftover sleep ended with %v, want killed", err)
	}
	if _, err := os.Stat(g.MemoryDir()); !os.IsNotExist(err) {
		t.Errorf("%s still exists (err %v)", g.MemoryDir(), err)
	}
}
