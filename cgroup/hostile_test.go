//go:build linux

package cgroup

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostileTree writes a cgroup v2 fixture whose process lives in cgroup cg
// and returns its root and the cgroup's directory.
func hostileTree(t *testing.T, cg string) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/self/cgroup", "0::"+cg+"\n")
	write("proc/self/mountinfo", "1120 1103 0:1120 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:1120 - cgroup2 cgroup2 rw,nsdelegate\n")
	write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n")
	dir = filepath.Join(root, "sys/fs/cgroup")
	if len(cg) < 1000 {
		dir = filepath.Join(dir, cg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root, dir
}

// readWithin runs f and fails the test if it does not return in time.
func readWithin[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("did not return within %v (blocked on a FIFO?)", d)
		panic("unreachable")
	}
}

// TestHostileFIFO names limit files, counters and /proc/self/cgroup with
// FIFOs nobody writes to: Read and NewStatReader refuse them instead of
// blocking in open(2) forever.
func TestHostileFIFO(t *testing.T) {
	root, dir := hostileTree(t, "/pod")
	for _, p := range []string{filepath.Join(dir, "cpu.max"), filepath.Join(dir, "memory.max"), filepath.Join(dir, "cpu.stat")} {
		if err := unix.Mkfifo(p, 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	l := readWithin(t, 10*time.Second, func() Limits { return Read(WithRoot(root)) })
	if !strings.Contains(strings.Join(l.Warnings, "\n"), "not a regular file") || l.CPU.Limited || l.Memory.Limited {
		t.Errorf("FIFO limit files: %+v", l)
	}
	readWithin(t, 10*time.Second, func() error {
		r, err := NewStatReader(WithRoot(root))
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("NewStatReader on a FIFO cpu.stat: %v", err)
		}
		return r.Close()
	})

	root2, _ := hostileTree(t, "/pod")
	cg := filepath.Join(root2, "proc/self/cgroup")
	os.Remove(cg)
	if err := unix.Mkfifo(cg, 0o644); err != nil {
		t.Fatal(err)
	}
	l = readWithin(t, 10*time.Second, func() Limits { return Read(WithRoot(root2)) })
	if l.Version != VersionUnknown || !strings.Contains(l.CPU.Unknown, "not a regular file") {
		t.Errorf("FIFO /proc/self/cgroup: %+v", l)
	}
}

// TestHostileSymlinks points limit files at files outside the root: the
// values are not used and their contents never reach the warnings.
func TestHostileSymlinks(t *testing.T) {
	outside := t.TempDir()
	secretNum := filepath.Join(outside, "limit")
	secretText := filepath.Join(outside, "environ")
	if err := os.WriteFile(secretNum, []byte("1048576\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretText, []byte("SECRETMARK=hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, dir := hostileTree(t, "/pod")
	rel, err := filepath.Rel(dir, secretText)
	if err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"memory.max":  secretNum,                     // absolute
		"cpu.max":     rel,                           // relative, climbing out
		"memory.high": "/proc/self/environ",          // the real process's environment
		"cgroup.type": "../../../../../../../../etc", // existence probe
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	l := Read(WithRoot(root))
	all := strings.Join(l.Warnings, "\n") + l.CPU.Unknown + l.Memory.Unknown
	if strings.Contains(all, "SECRETMARK") || strings.Contains(all, "hunter2") {
		t.Errorf("the contents of a file outside the root reached the warnings:\n%s", all)
	}
	if env, err := os.ReadFile("/proc/self/environ"); err == nil {
		for kv := range strings.SplitSeq(string(env), "\x00") {
			if len(kv) > 12 && strings.Contains(all, kv[:12]) {
				t.Errorf("/proc/self/environ reached the warnings (%q)", kv[:12])
			}
		}
	}
	if l.Memory.Limited || l.CPU.Limited {
		t.Errorf("a limit was read from outside the root: %+v", l)
	}

	// A link that stays inside the root is still followed (captured trees
	// keep cgroup v1's cpu -> cpu,cpuacct links).
	if err := os.WriteFile(filepath.Join(dir, "real.max"), []byte("536870912\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "memory.max"))
	if err := os.Symlink("/sys/fs/cgroup/pod/real.max", filepath.Join(dir, "memory.max")); err != nil {
		t.Fatal(err)
	}
	if l := Read(WithRoot(root)); !l.Memory.Limited || l.Memory.Max != 512<<20 {
		t.Errorf("a link inside the root was not followed: %+v", l.Memory)
	}
}

// TestHostileDeepPath puts the process 10,000 cgroups deep: Read stays
// cheap and its warnings bounded.
func TestHostileDeepPath(t *testing.T) {
	cg := strings.Repeat("/a", 10000)
	root, _ := hostileTree(t, cg)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	l := readWithin(t, 30*time.Second, func() Limits { return Read(WithRoot(root)) })
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if allocated > 64<<20 {
		t.Errorf("Read allocated %d MiB for a 10k-deep path", allocated>>20)
	}
	if len(l.Warnings) > MaxWarnings+1 {
		t.Errorf("%d warnings, want at most %d", len(l.Warnings), MaxWarnings+1)
	}
	size := 0
	for _, w := range l.Warnings {
		size += len(w)
	}
	if size > (MaxWarnings+1)*(maxWarningLen+8) {
		t.Errorf("%d bytes of warnings", size)
	}
	if !strings.Contains(strings.Join(l.Warnings, "\n"), "levels below") {
		t.Errorf("no warning about the depth: %q", l.Warnings)
	}
	t.Logf("10k-deep path: %d KiB allocated, %d warnings", allocated>>10, len(l.Warnings))
}
