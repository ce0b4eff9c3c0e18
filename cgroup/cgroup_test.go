package cgroup

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const mib = 1 << 20

func layout(name string) string { return filepath.Join("testdata", "layouts", name) }

// denyRead is a read seam that fails with EACCES for files ending in suffix,
// as a chmod 000 file would for a non-root process.
func denyRead(suffix string) Option {
	return withReadFile(func(name string) ([]byte, error) {
		if strings.HasSuffix(filepath.ToSlash(name), suffix) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		return os.ReadFile(name)
	})
}

func TestReadLayouts(t *testing.T) {
	const (
		v1cpu = "/sys/fs/cgroup/cpu,cpuacct"
		v1mem = "/sys/fs/cgroup/memory"
		v2    = "/sys/fs/cgroup"
	)
	v2ns := func(cpu CPU, mem Memory) Limits {
		return Limits{Version: V2, CPUPath: v2, MemoryPath: v2, CPU: cpu, Memory: mem}
	}
	v1ns := func(cpu CPU, mem Memory) Limits {
		return Limits{Version: V1, CPUPath: v1cpu, MemoryPath: v1mem, CPU: cpu, Memory: mem}
	}
	tests := []struct {
		name   string
		root   string   // defaults to testdata/layouts/<name>
		opts   []Option // beyond WithRoot
		want   Limits
		warns  []string // each must be a substring of one warning, in order
		effect float64  // CPU.Effective()
	}{
		{
			name: "v1-no-namespace",
			want: v1ns(
				CPU{Limited: true, Quota: 2, QuotaPath: v1cpu + "/cpu.cfs_quota_us", Affinity: 4},
				Memory{Limited: true, Max: 512 * mib, MaxPath: v1mem + "/memory.limit_in_bytes"}),
			effect: 2,
		},
		{
			name: "v1-namespace", // hierarchical_memory_limit sees above the namespace
			want: v1ns(
				CPU{Limited: true, Quota: 0.5, QuotaPath: v1cpu + "/cpu.cfs_quota_us", Affinity: 8},
				Memory{Limited: true, Max: 256 * mib, MaxPath: v1mem + "/memory.stat"}),
			effect: 0.5,
		},
		{
			name: "v1-quota-1.5",
			want: v1ns(
				CPU{Limited: true, Quota: 1.5, QuotaPath: v1cpu + "/cpu.cfs_quota_us", Affinity: 8},
				Memory{Limited: true, Max: 300 * mib, MaxPath: v1mem + "/memory.limit_in_bytes"}),
			effect: 1.5,
		},
		{
			name: "v1-cpuset-smaller-than-quota", // effective_cpus wins over cpuset.cpus
			want: v1ns(CPU{Limited: true, Quota: 4, QuotaPath: v1cpu + "/cpu.cfs_quota_us", Affinity: 2},
				Memory{Limited: true, Max: mib, MaxPath: v1mem + "/memory.limit_in_bytes"}),
			effect: 2,
		},
		{
			name:   "v1-unlimited", // quota -1, 4 KiB page sentinel
			want:   v1ns(CPU{Affinity: 8}, Memory{}),
			effect: 8,
		},
		{
			name:   "v1-unlimited-mem-64k",
			want:   v1ns(CPU{Affinity: 8}, Memory{}),
			effect: 8,
		},
		{
			name: "v1-parent-lower",
			want: Limits{
				Version:    V1,
				CPUPath:    v1cpu + "/kubepods/burstable/pod1/ctr",
				MemoryPath: v1mem + "/kubepods/burstable/pod1/ctr",
				CPU:        CPU{Limited: true, Quota: 1, QuotaPath: v1cpu + "/kubepods/burstable/pod1/cpu.cfs_quota_us"},
				Memory:     Memory{Limited: true, Max: 200 * mib, MaxPath: v1mem + "/kubepods/burstable/pod1/memory.limit_in_bytes"},
			},
			effect: 1,
		},
		{
			name: "hybrid", // v1 cpu wins over the unified cpu.max of 0.1
			want: Limits{
				Version:    Hybrid,
				CPUPath:    v1cpu + "/system.slice/app.service",
				MemoryPath: v1mem + "/system.slice/app.service",
				CPU:        CPU{Limited: true, Quota: 3, QuotaPath: v1cpu + "/system.slice/app.service/cpu.cfs_quota_us", Affinity: 16},
				Memory:     Memory{Limited: true, Max: 2048 * mib, MaxPath: v1mem + "/system.slice/app.service/memory.limit_in_bytes"},
			},
			effect: 3,
		},
		{
			name: "v2-namespace",
			want: v2ns(CPU{}, Memory{Limited: true, Max: 768 * mib, MaxPath: v2 + "/memory.max"}),
		},
		{
			name: "v2-unlimited",
			want: v2ns(CPU{}, Memory{}),
		},
		{
			name: "v2-host-root", // no limit files by design: unlimited, not unknown
			want: v2ns(CPU{}, Memory{}),
		},
		{
			name: "v2-systemd",
			want: Limits{
				Version:    V2,
				CPUPath:    v2 + "/system.slice/app.service",
				MemoryPath: v2 + "/system.slice/app.service",
				CPU:        CPU{Limited: true, Quota: 1.5, QuotaPath: v2 + "/system.slice/app.service/cpu.max"},
				Memory:     Memory{Limited: true, Max: 1024 * mib, MaxPath: v2 + "/system.slice/app.service/memory.max"},
			},
			effect: 1.5,
		},
		{
			name: "v2-high-below-max",
			want: v2ns(CPU{Limited: true, Quota: 2, QuotaPath: v2 + "/cpu.max"},
				Memory{Limited: true, Max: 1024 * mib, MaxPath: v2 + "/memory.max", High: 800 * mib, HighPath: v2 + "/memory.high"}),
			effect: 2,
		},
		{
			name: "v2-parent-lower",
			want: Limits{
				Version:    V2,
				CPUPath:    v2 + "/kubepods.slice/pod1.slice/ctr.scope",
				MemoryPath: v2 + "/kubepods.slice/pod1.slice/ctr.scope",
				CPU:        CPU{Limited: true, Quota: 0.75, QuotaPath: v2 + "/kubepods.slice/pod1.slice/cpu.max"},
				Memory: Memory{Limited: true, Max: 256 * mib, MaxPath: v2 + "/kubepods.slice/pod1.slice/memory.max",
					High: 3000 * mib, HighPath: v2 + "/kubepods.slice/memory.high"},
			},
			effect: 0.75,
		},
		{
			name:   "v2-cpuset-smaller-than-quota",
			want:   v2ns(CPU{Limited: true, Quota: 4, QuotaPath: v2 + "/cpu.max", Affinity: 2}, Memory{}),
			effect: 2,
		},
		{
			name: "v2-missing-controller-files",
			want: v2ns(CPU{Unknown: "cgroup: no cpu.max in /sys/fs/cgroup or its visible ancestors (controller not enabled?)"},
				Memory{Unknown: "cgroup: no memory.max in /sys/fs/cgroup or its visible ancestors (controller not enabled?)"}),
		},
		{
			name: "v2-outside-namespace",
			want: Limits{
				CPU:    CPU{Unknown: "cgroup: cpu cgroup /../../init.scope is outside this cgroup namespace; no mount reaches it"},
				Memory: Memory{Unknown: "cgroup: memory cgroup /../../init.scope is outside this cgroup namespace; no mount reaches it"},
			},
			warns: []string{"cpu cgroup /../../init.scope is outside", "memory cgroup /../../init.scope is outside"},
		},
		{
			name: "v2-outside-namespace-reachable",
			want: Limits{
				Version:    V2,
				CPUPath:    "/host/cgroup/init.scope",
				MemoryPath: "/host/cgroup/init.scope",
				CPU:        CPU{Limited: true, Quota: 0.5, QuotaPath: "/host/cgroup/init.scope/cpu.max"},
				Memory:     Memory{Limited: true, Max: 100 * mib, MaxPath: "/host/cgroup/init.scope/memory.max"},
			},
			effect: 0.5,
		},
		{
			name: "escaped-mount-path",
			want: Limits{
				Version:    V2,
				CPUPath:    "/mnt/cgroup root/app",
				MemoryPath: "/mnt/cgroup root/app",
				CPU:        CPU{Limited: true, Quota: 2.5, QuotaPath: "/mnt/cgroup root/app/cpu.max"},
				Memory:     Memory{Limited: true, Max: 64 * mib, MaxPath: "/mnt/cgroup root/app/memory.max"},
			},
			effect: 2.5,
		},
		{
			name: "mountinfo-optional-fields",
			want: Limits{
				Version:    V1,
				CPUPath:    v1cpu + "/svc",
				MemoryPath: v1mem + "/svc",
				CPU:        CPU{Limited: true, Quota: 0.25, QuotaPath: v1cpu + "/svc/cpu.cfs_quota_us"},
				Memory:     Memory{Limited: true, Max: 32 * mib, MaxPath: v1mem + "/svc/memory.limit_in_bytes"},
			},
			effect: 0.25,
		},
		{
			name: "unreadable-eacces", // the seam stands in for chmod 000, which root reads anyway
			root: layout("v2-systemd"),
			opts: []Option{denyRead("/app.service/cpu.max")},
			want: Limits{
				Version:    V2,
				CPUPath:    v2 + "/system.slice/app.service",
				MemoryPath: v2 + "/system.slice/app.service",
				CPU:        CPU{Unknown: "cgroup: read /sys/fs/cgroup/system.slice/app.service/cpu.max: permission denied"},
				Memory:     Memory{Limited: true, Max: 1024 * mib, MaxPath: v2 + "/system.slice/app.service/memory.max"},
			},
			warns: []string{"read /sys/fs/cgroup/system.slice/app.service/cpu.max: permission denied"},
		},
		{
			name: "unreadable-leaf-parent-limit-stands", // the true limit can only be lower
			root: layout("v2-parent-lower"),
			opts: []Option{denyRead("/ctr.scope/cpu.max")},
			want: Limits{
				Version:    V2,
				CPUPath:    v2 + "/kubepods.slice/pod1.slice/ctr.scope",
				MemoryPath: v2 + "/kubepods.slice/pod1.slice/ctr.scope",
				CPU:        CPU{Limited: true, Quota: 0.75, QuotaPath: v2 + "/kubepods.slice/pod1.slice/cpu.max"},
				Memory: Memory{Limited: true, Max: 256 * mib, MaxPath: v2 + "/kubepods.slice/pod1.slice/memory.max",
					High: 3000 * mib, HighPath: v2 + "/kubepods.slice/memory.high"},
			},
			warns:  []string{"read /sys/fs/cgroup/kubepods.slice/pod1.slice/ctr.scope/cpu.max: permission denied"},
			effect: 0.75,
		},
		{
			name: "unreadable-eacces-mountinfo",
			root: layout("v2-systemd"),
			opts: []Option{denyRead("/proc/self/mountinfo")},
			want: Limits{
				CPU:    CPU{Unknown: "cgroup: read /proc/self/mountinfo: permission denied"},
				Memory: Memory{Unknown: "cgroup: read /proc/self/mountinfo: permission denied"},
			},
			warns: []string{"read /proc/self/mountinfo: permission denied"},
		},
		{
			name: "unreadable-dir-as-file",
			want: v2ns(CPU{Limited: true, Quota: 1, QuotaPath: v2 + "/cpu.max"},
				Memory{Unknown: "cgroup: read /sys/fs/cgroup/memory.max: not a regular file"}),
			warns:  []string{"read /sys/fs/cgroup/memory.max: not a regular file"},
			effect: 1,
		},
		{
			name: "no-proc",
			root: "EMPTY",
			want: Limits{
				CPU:    CPU{Unknown: "cgroup: read /proc/self/cgroup: no such file or directory"},
				Memory: Memory{Unknown: "cgroup: read /proc/self/cgroup: no such file or directory"},
			},
			warns: []string{"read /proc/self/cgroup: no such file or directory"},
		},
		{
			name: "garbage-proc-cgroup",
			want: Limits{
				CPU:    CPU{Unknown: `cgroup: /proc/self/cgroup: no usable line: cgroup line "\x00\x01 not a cgroup file": want id:controllers:path`},
				Memory: Memory{Unknown: `cgroup: /proc/self/cgroup: no usable line: cgroup line "\x00\x01 not a cgroup file": want id:controllers:path`},
			},
			warns: []string{"skipped 1 malformed line(s) in /proc/self/cgroup"},
		},
		{
			name: "garbage-mountinfo",
			want: Limits{
				CPU:    CPU{Unknown: "cgroup: no cgroup2 mount in /proc/self/mountinfo contains /"},
				Memory: Memory{Unknown: "cgroup: no cgroup2 mount in /proc/self/mountinfo contains /"},
			},
			warns: []string{`skipped 2 malformed line(s) in /proc/self/mountinfo, first: mountinfo line "this is not mountinfo"`},
		},
		{
			name: "garbage-cpu-max",
			want: v2ns(CPU{Unknown: `cgroup: parse /sys/fs/cgroup/cpu.max: malformed content: bad quota "lots"`},
				Memory{Limited: true, Max: mib, MaxPath: v2 + "/memory.max"}),
			warns: []string{"parse /sys/fs/cgroup/cpu.max"},
		},
		{
			name: "garbage-memory-max",
			want: v2ns(CPU{Limited: true, Quota: 1, QuotaPath: v2 + "/cpu.max"},
				Memory{Unknown: `cgroup: parse /sys/fs/cgroup/memory.max: malformed content: want a byte count or "max", got "-5"`}),
			warns:  []string{"parse /sys/fs/cgroup/memory.max"},
			effect: 1,
		},
		{
			name: "garbage-memory-high", // High is lost, Max stands
			want: v2ns(CPU{Limited: true, Quota: 1, QuotaPath: v2 + "/cpu.max"},
				Memory{Limited: true, Max: mib, MaxPath: v2 + "/memory.max"}),
			warns:  []string{`parse /sys/fs/cgroup/memory.high: malformed content: want a byte count or "max", got "high"`},
			effect: 1,
		},
		{
			name: "garbage-cfs-quota",
			want: v1ns(CPU{Unknown: `cgroup: parse /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us: malformed content: want an integer, got "1.5"`, Affinity: 8},
				Memory{Limited: true, Max: mib, MaxPath: v1mem + "/memory.limit_in_bytes"}),
			warns:  []string{"parse /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"},
			effect: 8,
		},
		{
			name: "garbage-cfs-period",
			want: v1ns(CPU{Unknown: "cgroup: parse /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us: malformed content: period 0", Affinity: 8},
				Memory{Limited: true, Max: mib, MaxPath: v1mem + "/memory.limit_in_bytes"}),
			warns:  []string{"parse /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"},
			effect: 8,
		},
		{
			name: "garbage-limit-in-bytes", // and memory.stat
			want: v1ns(CPU{Limited: true, Quota: 1, QuotaPath: v1cpu + "/cpu.cfs_quota_us", Affinity: 8},
				Memory{Unknown: `cgroup: parse /sys/fs/cgroup/memory/memory.limit_in_bytes: malformed content: want a byte count or "max", got "unlimited"`}),
			warns:  []string{"parse /sys/fs/cgroup/memory/memory.limit_in_bytes", `memory.stat: hierarchical_memory_limit: malformed content: want a byte count or "max", got "banana"`},
			effect: 1,
		},
		{
			name: "garbage-cpuset", // affinity unknown, quota stands
			want: v2ns(CPU{Limited: true, Quota: 4, QuotaPath: v2 + "/cpu.max"},
				Memory{Limited: true, Max: mib, MaxPath: v2 + "/memory.max"}),
			warns:  []string{`parse /sys/fs/cgroup/cpuset.cpus.effective: malformed content: bad cpu list "3-1"`},
			effect: 4,
		},
		{
			name: "empty-files",
			want: v2ns(CPU{Unknown: "cgroup: parse /sys/fs/cgroup/cpu.max: empty file"},
				Memory{Unknown: "cgroup: parse /sys/fs/cgroup/memory.max: empty file"}),
			warns: []string{"cpu.max: empty file", "memory.max: empty file", "memory.high: empty file"},
		},
		{
			name:   "affinity-override",
			root:   layout("v2-cpuset-smaller-than-quota"),
			opts:   []Option{withAffinity(3)},
			want:   v2ns(CPU{Limited: true, Quota: 4, QuotaPath: v2 + "/cpu.max", Affinity: 3}, Memory{}),
			effect: 3,
		},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.root
			switch root {
			case "":
				root = layout(tt.name)
				seen[tt.name] = true
			case "EMPTY":
				root = t.TempDir()
			}
			got := Read(append([]Option{WithRoot(root)}, tt.opts...)...)
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Limits{}, "Warnings")); diff != "" {
				t.Errorf("Read() mismatch (-want +got):\n%s", diff)
			}
			if len(got.Warnings) != len(tt.warns) {
				t.Errorf("got %d warnings, want %d:\n%s", len(got.Warnings), len(tt.warns), strings.Join(got.Warnings, "\n"))
			}
			for i, w := range tt.warns {
				if i < len(got.Warnings) && !strings.Contains(got.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got.Warnings[i], w)
				}
			}
			for _, w := range got.Warnings {
				if !strings.HasPrefix(w, "cgroup: ") || !strings.HasSuffix(w, ".") {
					t.Errorf("warning %q is not a full sentence prefixed with the package", w)
				}
			}
			if e := got.CPU.Effective(); e != tt.effect {
				t.Errorf("CPU.Effective() = %v, want %v", e, tt.effect)
			}
		})
	}
	// Every fixture tree is covered by a case.
	dirs, err := os.ReadDir(filepath.Join("testdata", "layouts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !seen[d.Name()] {
			t.Errorf("fixture %s has no test case", d.Name())
		}
	}
}

func TestEffective(t *testing.T) {
	tests := []struct {
		cpu  CPU
		want float64
	}{
		{CPU{}, 0},
		{CPU{Limited: true, Quota: 1.5}, 1.5},
		{CPU{Affinity: 4}, 4},
		{CPU{Limited: true, Quota: 4, Affinity: 2}, 2},
		{CPU{Limited: true, Quota: 0.5, Affinity: 2}, 0.5},
		{CPU{Limited: false, Quota: 3, Affinity: 8}, 8}, // Quota ignored when not Limited
	}
	for _, tt := range tests {
		if got := tt.cpu.Effective(); got != tt.want {
			t.Errorf("%+v.Effective() = %v, want %v", tt.cpu, got, tt.want)
		}
	}
}

// TestReadLive reads the machine's own cgroup: it must not fail, and on
// Linux the affinity must match what the scheduler says.
func TestReadLive(t *testing.T) {
	l := Read()
	n, err := schedAffinity()
	if err == nil && l.CPU.Affinity != n {
		t.Errorf("Affinity = %d, sched_getaffinity says %d", l.CPU.Affinity, n)
	}
	if _, err := os.Stat("/proc/self/cgroup"); err == nil && l.Version == VersionUnknown {
		t.Logf("no cgroup found here: %+v", l)
	}
}

// TestVersionJSON: reports name the hierarchy ("hybrid", not 3) and still
// read the numbers older reports carried.
func TestVersionJSON(t *testing.T) {
	for _, v := range []Version{VersionUnknown, V1, V2, Hybrid} {
		b, err := json.Marshal(v)
		if err != nil || string(b) != `"`+v.String()+`"` {
			t.Errorf("Marshal(%d) = %s, %v", v, b, err)
		}
		var back Version
		if err := json.Unmarshal(b, &back); err != nil || back != v {
			t.Errorf("round trip of %s: %v, %v", b, back, err)
		}
		var old Version
		if err := json.Unmarshal([]byte(strconv.Itoa(int(v))), &old); err != nil || old != v {
			t.Errorf("number %d: %v, %v", v, old, err)
		}
	}
	var v Version
	if err := json.Unmarshal([]byte(`"v9"`), &v); err == nil {
		t.Error("v9 accepted")
	}
}
