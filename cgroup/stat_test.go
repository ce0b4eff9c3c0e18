package cgroup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStatReaderLayouts(t *testing.T) {
	tests := []struct {
		layout           string
		want             Stats
		wantCPU, wantMem string
	}{
		{
			layout:  "v2-namespace", // throttled_usec is µs
			want:    Stats{Periods: 500, ThrottledPeriods: 42, ThrottledTime: 1500 * time.Millisecond, MemoryUsage: 100 * mib, HaveCPU: true, HaveMemory: true},
			wantCPU: "/sys/fs/cgroup/cpu.stat", wantMem: "/sys/fs/cgroup/memory.current",
		},
		{
			layout:  "v1-namespace", // throttled_time is ns
			want:    Stats{Periods: 1000, ThrottledPeriods: 10, ThrottledTime: 2500 * time.Millisecond, MemoryUsage: 50 * mib, HaveCPU: true, HaveMemory: true},
			wantCPU: "/sys/fs/cgroup/cpu,cpuacct/cpu.stat", wantMem: "/sys/fs/cgroup/memory/memory.usage_in_bytes",
		},
		{
			layout:  "hybrid",
			want:    Stats{Periods: 7, ThrottledPeriods: 3, ThrottledTime: 1000, MemoryUsage: 64 * mib, HaveCPU: true, HaveMemory: true},
			wantCPU: "/sys/fs/cgroup/cpu,cpuacct/system.slice/app.service/cpu.stat", wantMem: "/sys/fs/cgroup/memory/system.slice/app.service/memory.usage_in_bytes",
		},
		{
			layout:  "v2-systemd",
			want:    Stats{Periods: 20, ThrottledPeriods: 5, ThrottledTime: 30 * time.Microsecond, MemoryUsage: 10 * mib, HaveCPU: true, HaveMemory: true},
			wantCPU: "/sys/fs/cgroup/system.slice/app.service/cpu.stat", wantMem: "/sys/fs/cgroup/system.slice/app.service/memory.current",
		},
		{layout: "v2-outside-namespace"}, // no cgroup reachable: nothing, no error
		{layout: "garbage-proc-cgroup"},  // same
		{
			layout:  "v2-missing-controller-files", // no limit files, counters still there
			want:    Stats{Periods: 500, ThrottledPeriods: 42, ThrottledTime: 1500 * time.Millisecond, MemoryUsage: 100 * mib, HaveCPU: true, HaveMemory: true},
			wantCPU: "/sys/fs/cgroup/cpu.stat", wantMem: "/sys/fs/cgroup/memory.current",
		},
		{layout: "garbage-mountinfo"}, // no mount: nothing, no error
		{
			layout:  "v2-host-root", // cpu.stat without CFS counters, no memory.current: nothing, no error
			wantCPU: "/sys/fs/cgroup/cpu.stat",
		},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			r, err := NewStatReader(WithRoot(layout(tt.layout)))
			if err != nil {
				t.Fatalf("NewStatReader: %v", err)
			}
			defer r.Close()
			cpu, mem := r.Paths()
			if cpu != tt.wantCPU || mem != tt.wantMem {
				t.Errorf("Paths() = %q, %q; want %q, %q", cpu, mem, tt.wantCPU, tt.wantMem)
			}
			var s Stats
			if err := r.Read(&s); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("Stats mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatReaderNoProc(t *testing.T) {
	r, err := NewStatReader(WithRoot(t.TempDir()))
	if err != nil || r == nil {
		t.Fatalf("NewStatReader() = %v, %v; want a reader and no error", r, err)
	}
	s := Stats{Periods: 9, HaveCPU: true}
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if s != (Stats{}) {
		t.Errorf("Read filled %+v, want the zero Stats", s)
	}
	if err := r.Close(); err != nil {
		t.Error(err)
	}
}

// copyLayout copies a fixture tree to a temporary directory the test may change.
func copyLayout(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(layout(name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestStatReaderRereads checks that pread sees new content in the same
// open file, and that a file turning to garbage is an error, not a panic.
func TestStatReaderRereads(t *testing.T) {
	root := copyLayout(t, "v2-namespace")
	r, err := NewStatReader(WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Stats
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if s.Periods != 500 || s.MemoryUsage != 100*mib {
		t.Fatalf("first read: %+v", s)
	}
	cg := filepath.Join(root, "sys", "fs", "cgroup")
	// WriteFile truncates in place: same inode, so the open descriptor sees it.
	if err := os.WriteFile(filepath.Join(cg, "cpu.stat"), []byte("nr_periods 501\nnr_throttled 43\nthrottled_usec 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cg, "memory.current"), []byte("7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	want := Stats{Periods: 501, ThrottledPeriods: 43, ThrottledTime: 2 * time.Microsecond, MemoryUsage: 7, HaveCPU: true, HaveMemory: true}
	if s != want {
		t.Errorf("after rewrite: got %+v, want %+v", s, want)
	}
	if err := os.WriteFile(filepath.Join(cg, "memory.current"), []byte("lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cg, "cpu.stat"), []byte("\x00\xff garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = r.Read(&s)
	if err == nil || s.HaveCPU || s.HaveMemory {
		t.Errorf("garbage: Read() = %v with %+v; want an error and nothing read", err, s)
	}
}

func TestStatReaderClose(t *testing.T) {
	r, err := NewStatReader(WithRoot(layout("v2-namespace")))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	var s Stats
	if err := r.Read(&s); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v, want fs.ErrClosed", err)
	}
}

func TestStatReaderConcurrent(t *testing.T) {
	r, err := NewStatReader(WithRoot(layout("v1-namespace")))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var s Stats
			for range 50 {
				if err := r.Read(&s); err != nil || s.Periods != 1000 {
					t.Errorf("Read() = %v, %+v", err, s)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestStatReaderNoAlloc pins the promise made in the doc comment.
func TestStatReaderNoAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, name := range []string{"v1-namespace", "v2-namespace"} {
		r, err := NewStatReader(WithRoot(layout(name)))
		if err != nil {
			t.Fatal(err)
		}
		var s Stats
		if n := testing.AllocsPerRun(100, func() { _ = r.Read(&s) }); n != 0 {
			t.Errorf("%s: StatReader.Read allocates %v times per call, want 0", name, n)
		}
		r.Close()
	}
}

// BenchmarkStatReaderRead reads the live process's counters (the fixture
// when the machine has no cgroup files).
func BenchmarkStatReaderRead(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"live", nil},
		{"fixture-v2", []Option{WithRoot(layout("v2-namespace"))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := NewStatReader(bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			var s Stats
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Read(&s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures the one-off start-up read of every limit.
func BenchmarkRead(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"live", nil},
		{"fixture-v1-parent-lower", []Option{WithRoot(layout("v1-parent-lower"))}},
		{"fixture-v2-parent-lower", []Option{WithRoot(layout("v2-parent-lower"))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Read(bc.opts...)
			}
		})
	}
}
