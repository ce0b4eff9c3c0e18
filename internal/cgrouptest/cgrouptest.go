// Package cgrouptest creates real cgroup v1 groups with a CPU quota and a
// memory limit for tests, and runs commands inside them.
//
// The tests that use it need root and writable v1 cpu and memory
// controllers at /sys/fs/cgroup/cpu and /sys/fs/cgroup/memory (CI has
// them). [Require] skips a test when they are missing; with CI=true in the
// environment it fails the test instead, so CI cannot pass by skipping.
//
// Typical use, re-executing the test binary inside the group:
//
//	cgrouptest.Require(t)
//	g := cgrouptest.New(t, 1.5, 300<<20)
//	cmd := g.Command(os.Args[0], "-test.run=^TestChild$")
//	cmd.Env = append(os.Environ(), "CHILD=1")
//	out, err := cmd.Output()
//
// The group is removed by t.Cleanup: processes still in it are killed
// first. Do not import this package outside tests.
package cgrouptest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Mount points of the v1 controllers this package writes to. Variables so a
// test of this package could point them elsewhere; not for general use.
var (
	cpuRoot    = "/sys/fs/cgroup/cpu"
	memoryRoot = "/sys/fs/cgroup/memory"
)

// Period is the CFS period New writes, in microseconds.
const Period = 100000

// Require skips t unless the process is root and can create groups in the
// v1 cpu and memory hierarchies. With CI=true it calls t.Fatal instead of
// skipping. Cost: one mkdir and rmdir per hierarchy.
func Require(t testing.TB) {
	t.Helper()
	if err := available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cgrouptest: real cgroup v1 needed (CI=true): %v", err)
		}
		t.Skipf("cgrouptest: skipping, needs root and writable cgroup v1 cpu and memory controllers: %v", err)
	}
}

func available() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	for _, f := range []string{
		filepath.Join(cpuRoot, "cpu.cfs_quota_us"),
		filepath.Join(memoryRoot, "memory.limit_in_bytes"),
	} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("no v1 controller file: %w", err)
		}
	}
	probe := "vitals-probe-" + strconv.FormatUint(rand.Uint64(), 36)
	for _, root := range []string{cpuRoot, memoryRoot} {
		d := filepath.Join(root, probe)
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("cannot create a cgroup: %w", err)
		}
		if err := os.Remove(d); err != nil {
			return fmt.Errorf("cannot remove probe cgroup %s: %w", d, err)
		}
	}
	return nil
}

// Group is a v1 cgroup in the cpu and memory hierarchies.
type Group struct {
	rel string // vitals-test-<random>[/sub-<random>...]
}

// New creates /sys/fs/cgroup/{cpu,memory}/vitals-test-<random> with a CFS
// quota of cpus CPUs (period [Period]) and memory.limit_in_bytes set to
// memBytes; cpus <= 0 or memBytes == 0 leaves that limit unset. t.Cleanup
// kills what is left in the group and removes it. Call [Require] first.
func New(t testing.TB, cpus float64, memBytes uint64) *Group {
	t.Helper()
	return create(t, "vitals-test-"+strconv.FormatUint(rand.Uint64(), 36), cpus, memBytes)
}

// Sub creates a child group of g with its own limits (same rules as
// [New]), for tests where a parent's limit is lower than the leaf's. Its
// cleanup runs before g's. v1 rejects a CFS quota above the parent's
// (EINVAL), so give the leaf cpus 0 (no quota) to model "only a parent
// limits CPU"; a larger memory limit is accepted.
func (g *Group) Sub(t testing.TB, cpus float64, memBytes uint64) *Group {
	t.Helper()
	return create(t, g.rel+"/sub-"+strconv.FormatUint(rand.Uint64(), 36), cpus, memBytes)
}

func create(t testing.TB, rel string, cpus float64, memBytes uint64) *Group {
	t.Helper()
	g := &Group{rel: rel}
	for _, d := range []string{g.CPUDir(), g.MemoryDir()} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("cgrouptest: %v", err)
		}
		t.Cleanup(func() {
			if err := remove(d); err != nil {
				t.Errorf("cgrouptest: %v", err)
			}
		})
	}
	if cpus > 0 {
		quota := int64(math.Round(cpus * Period))
		g.write(t, g.CPUDir(), "cpu.cfs_period_us", strconv.Itoa(Period))
		g.write(t, g.CPUDir(), "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
	}
	if memBytes > 0 {
		g.write(t, g.MemoryDir(), "memory.limit_in_bytes", strconv.FormatUint(memBytes, 10))
	}
	return g
}

func (g *Group) write(t testing.TB, dir, file, value string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		t.Fatalf("cgrouptest: write %s: %v", file, err)
	}
}

// Name is the group's directory name, vitals-test-<random> (sub-<random>
// for a [Group.Sub]).
func (g *Group) Name() string { return filepath.Base(g.rel) }

// Path is the group's cgroup path as /proc/<pid>/cgroup shows it for a
// process inside it (without a cgroup namespace), e.g. /vitals-test-x.
func (g *Group) Path() string { return "/" + g.rel }

// CPUDir is the group's directory in the cpu hierarchy.
func (g *Group) CPUDir() string { return filepath.Join(cpuRoot, g.rel) }

// MemoryDir is the group's directory in the memory hierarchy.
func (g *Group) MemoryDir() string { return filepath.Join(memoryRoot, g.rel) }

// Command returns an [exec.Cmd] that runs name with args inside the group:
// a /bin/sh writes its own pid to both groups' cgroup.procs and then execs
// name, so the program is in the group before its first instruction.
func (g *Group) Command(name string, args ...string) *exec.Cmd {
	script := `echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"`
	argv := append([]string{"-c", script, "sh",
		filepath.Join(g.CPUDir(), "cgroup.procs"),
		filepath.Join(g.MemoryDir(), "cgroup.procs"),
		name}, args...)
	return exec.Command("/bin/sh", argv...)
}

// remove kills every process left in dir, then removes it, retrying while
// the kernel still counts exiting tasks (EBUSY) for up to 5 seconds.
func remove(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 && pid != os.Getpid() {
					if p, err := os.FindProcess(pid); err == nil {
						_ = p.Kill()
					}
				}
			}
		}
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
