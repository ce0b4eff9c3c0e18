package startup

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/govitals/vitals/cgroup"
)

const mib = 1 << 20

// fakeRuntime records what Setup does to process-global state. Its
// "default" GOMAXPROCS is what the runtime would pick on its own.
type fakeRuntime struct {
	mu        sync.Mutex
	procs     int
	defProcs  int
	ncpu      int
	mem       int64
	traceback string
	crash     string
	calls     []string
}

func newFake(procs, ncpu int) *fakeRuntime {
	return &fakeRuntime{procs: procs, defProcs: procs, ncpu: ncpu, mem: math.MaxInt64, traceback: "single"}
}

func (f *fakeRuntime) GOMAXPROCS(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.procs
	if n > 0 {
		f.calls = append(f.calls, fmt.Sprintf("GOMAXPROCS(%d)", n))
		f.procs = n
	}
	return old
}

func (f *fakeRuntime) SetDefaultGOMAXPROCS() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetDefaultGOMAXPROCS")
	f.procs = f.defProcs
}

func (f *fakeRuntime) SetMemoryLimit(n int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.mem
	if n >= 0 {
		f.calls = append(f.calls, fmt.Sprintf("SetMemoryLimit(%d)", n))
		f.mem = n
	}
	return old
}

func (f *fakeRuntime) SetTraceback(level string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetTraceback("+level+")")
	f.traceback = level
}

func (f *fakeRuntime) SetCrashOutput(file *os.File, _ debug.CrashOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := "nil"
	if file != nil {
		name = file.Name()
	}
	f.calls = append(f.calls, "SetCrashOutput("+name+")")
	f.crash = name
	return nil
}

func (f *fakeRuntime) NumCPU() int { return f.ncpu }

func (f *fakeRuntime) procsCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "GOMAXPROCS") || strings.HasPrefix(c, "SetDefault") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeRuntime) get() (int, int64, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs, f.mem, f.traceback
}

// Test seams: unexported options of the same sealed type.
func withRuntime(rt runtimeAPI) Option {
	return optionFunc(func(c *config) { c.rt = rt })
}

func withInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.interval = d })
}

func withBuildInfo(settings ...debug.BuildSetting) Option {
	return optionFunc(func(c *config) {
		c.buildInfo = func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	})
}

func withLimits(f func() cgroup.Limits) Option {
	return optionFunc(func(c *config) { c.limits = f })
}

// cleanEnv unsets every variable Setup reads, for the test's duration.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GODEBUG", "VITALS_MEMLIMIT_RATIO"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// tree writes files (path → content) below a new temporary root.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const mountBase = "100 1 0:90 / / rw,relatime - overlay overlay rw\n" +
	"101 100 0:93 / /proc rw,nosuid - proc proc rw\n"

// v2Tree is a container with a private cgroup v2 namespace at /a/b (the
// mount root is the host's "/", so the parent /a is visible). Empty
// arguments leave a file out.
func v2Tree(t testing.TB, parentCPU, leafCPU, parentMem, leafMem, leafHigh string) string {
	t.Helper()
	f := map[string]string{
		"proc/self/cgroup":                   "0::/a/b\n",
		"proc/self/mountinfo":                mountBase + "110 100 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n",
		"proc/meminfo":                       "MemTotal:       16384000 kB\nMemFree:         1000 kB\n",
		"sys/fs/cgroup/cgroup.controllers":   "cpu memory\n",
		"sys/fs/cgroup/a/cgroup.type":        "domain\n",
		"sys/fs/cgroup/a/b/cgroup.type":      "domain\n",
		"sys/fs/cgroup/a/b/cpu.stat":         "usage_usec 1\n",
		"sys/fs/cgroup/a/b/memory.current":   "1048576\n",
		"sys/fs/cgroup/a/cpu.max":            "max 100000\n",
		"sys/fs/cgroup/a/memory.max":         "max\n",
		"sys/fs/cgroup/a/b/memory.high":      "max\n",
		"sys/fs/cgroup/a/b/cpu.max":          "max 100000\n",
		"sys/fs/cgroup/a/b/memory.max":       "max\n",
		"sys/fs/cgroup/a/memory.high":        "max\n",
		"sys/fs/cgroup/a/b/cgroup.procs":     "1\n",
		"sys/fs/cgroup/a/cgroup.controllers": "cpu memory\n",
	}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("sys/fs/cgroup/a/cpu.max", parentCPU)
	set("sys/fs/cgroup/a/b/cpu.max", leafCPU)
	set("sys/fs/cgroup/a/memory.max", parentMem)
	set("sys/fs/cgroup/a/b/memory.max", leafMem)
	set("sys/fs/cgroup/a/b/memory.high", leafHigh)
	return tree(t, f)
}

// v1Tree is a v1 container with a namespace: quota, period, memory limit.
func v1Tree(t testing.TB, quota, period, limit string) string {
	t.Helper()
	return tree(t, map[string]string{
		"proc/self/cgroup": "5:memory:/\n2:cpu,cpuacct:/\n",
		"proc/self/mountinfo": mountBase +
			"110 100 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
			"111 100 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
		"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  quota,
		"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": period,
		"sys/fs/cgroup/memory/memory.limit_in_bytes":  limit,
		"sys/fs/cgroup/memory/memory.stat":            "rss 1\nhierarchical_memory_limit " + limit,
	})
}

func TestProcsPolicies(t *testing.T) {
	type want struct {
		procs   int
		changed bool
		source  string
		path    string
		calls   []string
		warn    string // substring of one warning; "" = no warnings
	}
	tests := []struct {
		name    string
		root    func(t *testing.T) string
		runtime int // the runtime's current (and default) GOMAXPROCS
		ncpu    int
		opts    []Option
		want    want
	}{
		{
			name: "v2 leaf 1.5 matches runtime", ncpu: 8, runtime: 2,
			root: func(t *testing.T) string { return v2Tree(t, "", "150000 100000\n", "", "", "") },
			want: want{procs: 2, source: SourceRuntime},
		},
		{
			name: "v1 quota 1.5 matches runtime", ncpu: 8, runtime: 2,
			root: func(t *testing.T) string { return v1Tree(t, "150000\n", "100000\n", "314572800\n") },
			want: want{procs: 2, source: SourceRuntime},
		},
		{
			name: "no quota matches affinity", ncpu: 8, runtime: 8,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "", "") },
			want: want{procs: 8, source: SourceRuntime},
		},
		{
			name: "quota above affinity", ncpu: 2, runtime: 2,
			root: func(t *testing.T) string { return v2Tree(t, "", "400000 100000\n", "", "", "") },
			want: want{procs: 2, source: SourceRuntime},
		},
		{
			name: "parent lower than leaf", ncpu: 8, runtime: 6,
			root: func(t *testing.T) string { return v2Tree(t, "250000 100000\n", "600000 100000\n", "", "", "") },
			want: want{procs: 3, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/cpu.max", calls: []string{"GOMAXPROCS(3)"}},
		},
		{
			name: "parent half a CPU gives the runtime's minimum 2", ncpu: 8, runtime: 4,
			root: func(t *testing.T) string { return v2Tree(t, "50000 100000\n", "400000 100000\n", "", "", "") },
			want: want{procs: 2, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/cpu.max", calls: []string{"GOMAXPROCS(2)"}},
		},
		{
			name: "runtime ignored the quota (containermaxprocs=0)", ncpu: 8, runtime: 8,
			root: func(t *testing.T) string { return v1Tree(t, "200000\n", "100000\n", "-1\n") },
			opts: []Option{withBuildInfo(debug.BuildSetting{Key: "DefaultGODEBUG", Value: "containermaxprocs=0,updatemaxprocs=0"})},
			want: want{procs: 2, changed: true, source: SourceCgroupV1, path: "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", calls: []string{"GOMAXPROCS(2)"}, warn: "containermaxprocs=0"},
		},
		{
			name: "something set it lower: left alone", ncpu: 8, runtime: 1,
			root: func(t *testing.T) string { return v2Tree(t, "", "400000 100000\n", "", "", "") },
			want: want{procs: 1, source: SourceRuntime, warn: "something in this process set it"},
		},
		{
			name: "floor 1.5", ncpu: 8, runtime: 2, opts: []Option{ProcsFloor()},
			root: func(t *testing.T) string { return v2Tree(t, "", "150000 100000\n", "", "", "") },
			want: want{procs: 1, changed: true, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(1)"}},
		},
		{
			name: "floor 0.5 is at least 1", ncpu: 8, runtime: 2, opts: []Option{ProcsFloor()},
			root: func(t *testing.T) string { return v2Tree(t, "", "50000 100000\n", "", "", "") },
			want: want{procs: 1, changed: true, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(1)"}},
		},
		{
			name: "ceil 0.5 is 1", ncpu: 8, runtime: 2, opts: []Option{ProcsCeil()},
			root: func(t *testing.T) string { return v2Tree(t, "", "50000 100000\n", "", "", "") },
			want: want{procs: 1, changed: true, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(1)"}},
		},
		{
			name: "ceil 2.5 pins 3", ncpu: 8, runtime: 3, opts: []Option{ProcsCeil()},
			root: func(t *testing.T) string { return v2Tree(t, "", "250000 100000\n", "", "", "") },
			want: want{procs: 3, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(3)"}},
		},
		{
			name: "reserve 1 of 4 with floor", ncpu: 8, runtime: 4, opts: []Option{ProcsReserve(1), ProcsFloor()},
			root: func(t *testing.T) string { return v2Tree(t, "", "400000 100000\n", "", "", "") },
			want: want{procs: 3, changed: true, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(3)"}},
		},
		{
			name: "reserve 0.5 of 8 unlimited CPUs, runtime rounding", ncpu: 8, runtime: 8, opts: []Option{ProcsReserve(0.5)},
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "", "") },
			want: want{procs: 8, source: SourcePolicy, calls: []string{"GOMAXPROCS(8)"}},
		},
		{
			name: "reserve 1.5 of 8 unlimited CPUs", ncpu: 8, runtime: 8, opts: []Option{ProcsReserve(1.5)},
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "", "") },
			want: want{procs: 7, changed: true, source: SourcePolicy, calls: []string{"GOMAXPROCS(7)"}},
		},
		{
			name: "minimum 4 over a 1-CPU quota", ncpu: 8, runtime: 2, opts: []Option{ProcsMinimum(4)},
			root: func(t *testing.T) string { return v2Tree(t, "", "100000 100000\n", "", "", "") },
			want: want{procs: 4, changed: true, source: SourcePolicy, path: "/sys/fs/cgroup/a/b/cpu.max", calls: []string{"GOMAXPROCS(4)"}},
		},
		{
			name: "keep", ncpu: 8, runtime: 8, opts: []Option{KeepGOMAXPROCS(), ProcsFloor()},
			root: func(t *testing.T) string { return v2Tree(t, "", "100000 100000\n", "", "", "") },
			want: want{procs: 8, source: SourceRuntime},
		},
		{
			name: "no cgroup at all", ncpu: 4, runtime: 4,
			root: func(t *testing.T) string { return t.TempDir() },
			want: want{procs: 4, source: SourceRuntime, warn: ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			rt := newFake(tt.runtime, tt.ncpu)
			opts := append([]Option{withRuntime(rt), WithCgroupRoot(tt.root(t)), withBuildInfo()}, tt.opts...)
			r, err := Setup(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Undo()
			d, _ := r.Decision(SettingGOMAXPROCS)
			got := want{procs: r.GOMAXPROCS, changed: d.Changed, source: d.Source, path: d.Path, calls: rt.procsCalls()}
			w := tt.want
			if w.warn != "" {
				for _, s := range r.Warnings {
					if strings.Contains(s, w.warn) {
						got.warn = w.warn
					}
				}
			}
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("GOMAXPROCS decision (-want +got):\n%s\nreport:\n%s", diff, r)
			}
			if p, _, _ := rt.get(); p != w.procs {
				t.Errorf("runtime GOMAXPROCS = %d, want %d", p, w.procs)
			}
			if d.New != fmt.Sprint(w.procs) {
				t.Errorf("decision New = %q, want %d", d.New, w.procs)
			}
		})
	}
}

// TestDefaultPolicyLeavesRuntimeAlone: whenever the runtime's value is what
// its own rule gives for the effective limit, Setup (and Undo) must not call
// runtime.GOMAXPROCS or SetDefaultGOMAXPROCS, which would freeze the
// runtime's own updates.
func TestDefaultPolicyLeavesRuntimeAlone(t *testing.T) {
	cleanEnv(t)
	for _, quota := range []string{"", "50000 100000\n", "100000 100000\n", "150000 100000\n", "200000 100000\n", "350000 100000\n", "1600000 100000\n"} {
		for _, ncpu := range []int{1, 2, 3, 8} {
			root := v2Tree(t, "", quota, "", "", "")
			want := procsFor(cgroup.Read(cgroup.WithRoot(root)).CPU, ncpu, procsPolicy{})
			rt := newFake(want, ncpu)
			r, err := Setup(withRuntime(rt), WithCgroupRoot(root), withBuildInfo())
			if err != nil {
				t.Fatal(err)
			}
			r.Undo()
			if calls := rt.procsCalls(); len(calls) != 0 {
				t.Errorf("quota %q, %d CPUs: runtime value %d is right, but Setup called %v", quota, ncpu, want, calls)
			}
			if r.watchDone != nil {
				t.Errorf("quota %q, %d CPUs: a watcher was started although nothing changed", quota, ncpu)
			}
		}
	}
}

func TestProcsFor(t *testing.T) {
	lim := func(q float64) cgroup.CPU { return cgroup.CPU{Limited: q > 0, Quota: q} }
	tests := []struct {
		cpu  cgroup.CPU
		aff  int
		p    procsPolicy
		want int
	}{
		{lim(0), 1, procsPolicy{}, 1},            // one CPU: the runtime's minimum 2 does not apply
		{lim(0.5), 1, procsPolicy{}, 1},          // likewise
		{lim(0.5), 4, procsPolicy{}, 2},          // minimum 2
		{lim(2.0000000001), 4, procsPolicy{}, 2}, // quota/period noise
		{lim(2.1), 4, procsPolicy{}, 3},
		{lim(64), 4, procsPolicy{}, 4}, // affinity caps
		{lim(2.9999999999), 8, procsPolicy{round: roundFloor}, 3},
		{lim(0.2), 8, procsPolicy{round: roundFloor}, 1},
		{lim(3), 8, procsPolicy{round: roundFloor, reserve: 5}, 1},
		{lim(0), 8, procsPolicy{round: roundCeil, reserve: 0.5}, 8},
		{lim(1), 8, procsPolicy{minimum: 6}, 6},
	}
	for _, tt := range tests {
		if got := procsFor(tt.cpu, tt.aff, tt.p); got != tt.want {
			t.Errorf("procsFor(%+v, %d, %+v) = %d, want %d", tt.cpu, tt.aff, tt.p, got, tt.want)
		}
	}
}

func TestMemLimit(t *testing.T) {
	tests := []struct {
		name    string
		root    func(t *testing.T) string
		env     map[string]string
		opts    []Option
		before  int64
		want    int64
		changed bool
		source  string
		path    string
		warn    string
	}{
		{
			name: "v2 max 300MiB", want: 283115520, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "v1 limit 300MiB", want: 283115520, changed: true, source: SourceCgroupV1,
			root: func(t *testing.T) string { return v1Tree(t, "-1\n", "100000\n", "314572800\n") },
		},
		{
			name: "parent lower", want: 9 * mib * 10, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "104857600\n", "314572800\n", "") },
		},
		{
			name: "high ignored without the option", want: 283115520, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "209715200\n") },
		},
		{
			name: "high used with MemoryHigh", opts: []Option{MemoryHigh()}, want: 188743680, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.high",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "209715200\n") },
		},
		{
			name: "ratio option", opts: []Option{MemoryLimitRatio(0.5)}, want: 150 * mib, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "ratio env beats option", opts: []Option{MemoryLimitRatio(0.5)}, env: map[string]string{"VITALS_MEMLIMIT_RATIO": "0.8"},
			want: 240 * mib, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "invalid ratio env warns", opts: []Option{MemoryLimitRatio(0.5)}, env: map[string]string{"VITALS_MEMLIMIT_RATIO": "1.5"},
			want: 150 * mib, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max", warn: "VITALS_MEMLIMIT_RATIO",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "GOMEMLIMIT env wins", env: map[string]string{"GOMEMLIMIT": "1GiB"}, want: math.MaxInt64, source: SourceEnv,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "GOMEMLIMIT=off wins", env: map[string]string{"GOMEMLIMIT": "off"}, want: math.MaxInt64, source: SourceEnv,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "empty GOMEMLIMIT is unset", env: map[string]string{"GOMEMLIMIT": ""}, want: 283115520, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "unlimited: left alone", want: math.MaxInt64, source: SourceNone,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "", "") },
		},
		{
			name: "unlimited with system fallback", opts: []Option{MemoryFallbackSystem()}, want: 15099494400, changed: true, source: SourceSystem,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "", "") },
		},
		{
			name: "replaces an earlier limit", before: 100 * mib, want: 283115520, changed: true, source: SourceCgroupV2, path: "/sys/fs/cgroup/a/b/memory.max", warn: "set earlier",
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
		{
			name: "keep", opts: []Option{KeepGOMEMLIMIT()}, want: math.MaxInt64, source: SourceRuntime,
			root: func(t *testing.T) string { return v2Tree(t, "", "", "", "314572800\n", "") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rt := newFake(2, 2)
			if tt.before != 0 {
				rt.mem = tt.before
			}
			r, err := Setup(append([]Option{withRuntime(rt), WithCgroupRoot(tt.root(t)), withBuildInfo()}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := r.Decision(SettingGOMEMLIMIT)
			if _, mem, _ := rt.get(); mem != tt.want && !(tt.want == math.MaxInt64 && mem == rt.mem) {
				t.Errorf("runtime memory limit = %d, want %d", mem, tt.want)
			}
			if tt.want != math.MaxInt64 && r.GOMEMLIMIT != tt.want {
				t.Errorf("Report.GOMEMLIMIT = %d, want %d", r.GOMEMLIMIT, tt.want)
			}
			if d.Changed != tt.changed || d.Source != tt.source || (tt.path != "" && d.Path != tt.path) {
				t.Errorf("decision = %+v, want changed %v source %q path %q", d, tt.changed, tt.source, tt.path)
			}
			hasWarn := tt.warn == ""
			for _, w := range r.Warnings {
				hasWarn = hasWarn || strings.Contains(w, tt.warn)
			}
			if !hasWarn {
				t.Errorf("no warning containing %q in %q", tt.warn, r.Warnings)
			}
			r.Undo()
			if _, mem, _ := rt.get(); mem != max(tt.before, 0) && !(tt.before == 0 && mem == math.MaxInt64) {
				t.Errorf("after Undo memory limit = %d, want the old value", mem)
			}
		})
	}
}

func TestEnvPrecedence(t *testing.T) {
	root := func(t *testing.T) string { return v2Tree(t, "100000 100000\n", "400000 100000\n", "", "", "") }
	tests := []struct {
		name       string
		env        map[string]string
		wantProcs  string // Source of the GOMAXPROCS decision
		wantTrace  string // New traceback level
		traceSrc   string
		wantWarn   string
		wantChange bool
	}{
		{name: "nothing set", wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantChange: true},
		{name: "GOMAXPROCS=3 wins", env: map[string]string{"GOMAXPROCS": "3"}, wantProcs: SourceEnv, wantTrace: "all", traceSrc: SourcePolicy},
		{name: "GOMAXPROCS empty is invalid", env: map[string]string{"GOMAXPROCS": ""}, wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantChange: true},
		{name: "GOMAXPROCS=abc is invalid", env: map[string]string{"GOMAXPROCS": "abc"}, wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantWarn: `GOMAXPROCS="abc"`, wantChange: true},
		{name: "GOMAXPROCS=0 is invalid", env: map[string]string{"GOMAXPROCS": "0"}, wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantWarn: `GOMAXPROCS="0"`, wantChange: true},
		{name: "GOMAXPROCS=-2 is invalid", env: map[string]string{"GOMAXPROCS": "-2"}, wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantWarn: `GOMAXPROCS="-2"`, wantChange: true},
		{name: "GOTRACEBACK wins", env: map[string]string{"GOTRACEBACK": "crash"}, wantProcs: SourceCgroupV2, wantTrace: "crash", traceSrc: SourceEnv, wantChange: true},
		{name: "GODEBUG env turns container support off", env: map[string]string{"GODEBUG": "gctrace=0,containermaxprocs=0"}, wantProcs: SourceCgroupV2, wantTrace: "all", traceSrc: SourcePolicy, wantWarn: "containermaxprocs=0 from the GODEBUG environment", wantChange: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rt := newFake(4, 8)
			r, err := Setup(withRuntime(rt), WithCgroupRoot(root(t)), withBuildInfo())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Undo()
			p, _ := r.Decision(SettingGOMAXPROCS)
			tb, _ := r.Decision(SettingGOTRACEBACK)
			if p.Source != tt.wantProcs || p.Changed != tt.wantChange {
				t.Errorf("GOMAXPROCS decision %+v, want source %q changed %v", p, tt.wantProcs, tt.wantChange)
			}
			if tb.New != tt.wantTrace || tb.Source != tt.traceSrc {
				t.Errorf("GOTRACEBACK decision %+v, want %q from %q", tb, tt.wantTrace, tt.traceSrc)
			}
			_, _, level := rt.get()
			if wantLevel := map[bool]string{true: "single", false: "all"}[tt.traceSrc == SourceEnv]; level != wantLevel {
				t.Errorf("runtime traceback = %q, want %q", level, wantLevel)
			}
			var warned bool
			for _, w := range r.Warnings {
				warned = warned || (tt.wantWarn != "" && strings.Contains(w, tt.wantWarn))
			}
			if tt.wantWarn != "" && !warned {
				t.Errorf("no warning containing %q in %q", tt.wantWarn, r.Warnings)
			}
			if tt.wantWarn == "" && len(r.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", r.Warnings)
			}
		})
	}
}

func TestGODEBUGWarnings(t *testing.T) {
	tests := []struct {
		def, env string
		want     []string
	}{
		{"", "", nil},
		{"containermaxprocs=0,updatemaxprocs=0,x509sha1=1", "", []string{"containermaxprocs=0", "updatemaxprocs=0"}},
		{"containermaxprocs=0,updatemaxprocs=0", "containermaxprocs=1", []string{"updatemaxprocs=0"}},
		{"", "updatemaxprocs=1,updatemaxprocs=0", []string{"updatemaxprocs=0"}},
		{"updatemaxprocs=0,updatemaxprocs=1", "", nil},
	}
	for _, tt := range tests {
		cleanEnv(t)
		if tt.env != "" {
			t.Setenv("GODEBUG", tt.env)
		}
		r, err := Plan(withRuntime(newFake(2, 2)), WithCgroupRoot(t.TempDir()),
			withBuildInfo(debug.BuildSetting{Key: "DefaultGODEBUG", Value: tt.def}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range r.Warnings {
			for _, k := range []string{"containermaxprocs=0", "updatemaxprocs=0"} {
				if strings.Contains(w, "GODEBUG "+k) {
					got = append(got, k)
				}
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("DefaultGODEBUG %q, GODEBUG %q: warnings about %q, want %q", tt.def, tt.env, got, tt.want)
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	var nilCtx context.Context
	for _, o := range []Option{
		nil, ProcsReserve(-1), ProcsReserve(math.NaN()), ProcsReserve(math.Inf(1)), ProcsMinimum(0),
		MemoryLimitRatio(0), MemoryLimitRatio(1.01), MemoryLimitRatio(math.NaN()), MemoryRefresh(0),
		Traceback("loud"), CrashOutput("", 0), WithCgroupRoot(""), WithLogger(nil), WithContext(nilCtx),
	} {
		rt := newFake(2, 2)
		r, err := Setup(withRuntime(rt), o)
		if err == nil || r != nil {
			t.Errorf("Setup with an invalid option: report %v, error %v; want an error", r, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "vitals: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
		if len(rt.calls) != 0 {
			t.Errorf("Setup changed %v despite the invalid option %v", rt.calls, err)
		}
	}
}

// TestUndoRealRuntime changes the real process settings and checks Undo
// restores them.
func TestUndoRealRuntime(t *testing.T) {
	cleanEnv(t)
	procs0, mem0 := runtimeGOMAXPROCS(), debug.SetMemoryLimit(-1)
	crash := filepath.Join(t.TempDir(), "crash.log")
	root := v2Tree(t, "", "", "", "314572800\n", "")
	r, err := Setup(WithCgroupRoot(root), ProcsMinimum(procs0+1), CrashOutput(crash, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := runtimeGOMAXPROCS(); got != procs0+1 {
		t.Errorf("GOMAXPROCS = %d after Setup, want %d", got, procs0+1)
	}
	if got := debug.SetMemoryLimit(-1); got != 283115520 {
		t.Errorf("memory limit = %d after Setup, want 283115520", got)
	}
	if _, err := os.Stat(crash); err != nil {
		t.Errorf("crash file not created: %v", err)
	}
	r.Undo()
	r.Undo() // idempotent
	if got := runtimeGOMAXPROCS(); got != procs0 {
		t.Errorf("GOMAXPROCS = %d after Undo, want %d", got, procs0)
	}
	if got := debug.SetMemoryLimit(-1); got != mem0 {
		t.Errorf("memory limit = %d after Undo, want %d", got, mem0)
	}
}

func TestCrashOutputRotation(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	crash := filepath.Join(dir, "crash.log")
	old := strings.Repeat("old crash\n", 20)
	if err := os.WriteFile(crash, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	rt := newFake(2, 2)
	p, err := Plan(withRuntime(rt), WithCgroupRoot(dir), CrashOutput(crash, 100))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Decision(SettingCrashOutput); !strings.Contains(d.Reason, crash+".1") {
		t.Errorf("plan does not mention the rotation: %+v", d)
	}
	if _, err := os.Stat(crash + ".1"); !os.IsNotExist(err) {
		t.Fatalf("Plan rotated the file (stat: %v)", err)
	}
	r, err := Setup(withRuntime(rt), WithCgroupRoot(dir), CrashOutput(crash, 100))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(crash + ".1"); err != nil || string(b) != old {
		t.Errorf("rotated file: %q, %v; want the old content", b, err)
	}
	if fi, err := os.Stat(crash); err != nil || fi.Size() != 0 {
		t.Errorf("new crash file: %v, %v; want an empty file", fi, err)
	}
	if rt.crash != crash {
		t.Errorf("SetCrashOutput got %q, want %q", rt.crash, crash)
	}
	r.Undo()
	if rt.crash != "nil" {
		t.Errorf("Undo left crash output at %q", rt.crash)
	}

	// A small file is kept and appended to.
	r, err = Setup(withRuntime(rt), WithCgroupRoot(dir), CrashOutput(crash+".1", 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	r.Undo()
	if _, err := os.Stat(crash + ".1.1"); !os.IsNotExist(err) {
		t.Errorf("a file under the cap was rotated")
	}

	// An unwritable path is a warning, not an error.
	r, err = Setup(withRuntime(rt), WithCgroupRoot(dir), CrashOutput(filepath.Join(dir, "no", "such", "dir", "c.log"), 0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Undo()
	d, _ := r.Decision(SettingCrashOutput)
	if d.Changed || len(r.Warnings) == 0 {
		t.Errorf("unwritable crash file: decision %+v, warnings %q; want unchanged with a warning", d, r.Warnings)
	}
}

func TestPlanChangesNothing(t *testing.T) {
	cleanEnv(t)
	rt := newFake(8, 8)
	r, err := Plan(withRuntime(rt), WithCgroupRoot(v2Tree(t, "100000 100000\n", "", "", "314572800\n", "")), MemoryRefresh(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !r.DryRun || r.GOMAXPROCS != 2 || r.GOMEMLIMIT != 283115520 {
		t.Errorf("plan: DryRun %v, GOMAXPROCS %d, GOMEMLIMIT %d; want true, 2, 283115520 (the planned values)", r.DryRun, r.GOMAXPROCS, r.GOMEMLIMIT)
	}
	if d, _ := r.Decision(SettingGOMAXPROCS); !d.Changed || d.New != "2" {
		t.Errorf("plan decision %+v, want a change to 2", d)
	}
	r.Undo()
	if len(rt.calls) != 0 || r.watchDone != nil {
		t.Errorf("Plan changed state: %v", rt.calls)
	}
	// And on the real process, against the real cgroup.
	procs, mem := runtimeGOMAXPROCS(), debug.SetMemoryLimit(-1)
	if _, err := Plan(CrashOutput(filepath.Join(t.TempDir(), "c"), 0)); err != nil {
		t.Fatal(err)
	}
	if runtimeGOMAXPROCS() != procs || debug.SetMemoryLimit(-1) != mem {
		t.Error("Plan changed the real process's settings")
	}
}

// switchable serves limits a test can change while the watcher runs.
type switchable struct{ v atomic.Pointer[cgroup.Limits] }

func (s *switchable) set(cpu float64, mem uint64) {
	l := cgroup.Limits{Version: cgroup.V2,
		CPU:    cgroup.CPU{Limited: true, Quota: cpu, QuotaPath: "/sys/fs/cgroup/cpu.max"},
		Memory: cgroup.Memory{Limited: true, Max: mem, MaxPath: "/sys/fs/cgroup/memory.max"}}
	s.v.Store(&l)
}

func (s *switchable) read() cgroup.Limits { return *s.v.Load() }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWatcherFollowsLimits(t *testing.T) {
	cleanEnv(t)
	var lim switchable
	lim.set(1, 100*mib)
	rt := newFake(8, 8) // the runtime missed the limit
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := Setup(withRuntime(rt), withLimits(lim.read), withInterval(time.Millisecond),
		MemoryRefresh(time.Millisecond), WithContext(ctx), withBuildInfo())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Undo()
	if p, m, _ := rt.get(); p != 2 || m != 90*mib {
		t.Fatalf("after Setup: GOMAXPROCS %d, limit %d; want 2, %d", p, m, 90*mib)
	}
	lim.set(5, 200*mib) // an in-place resize
	waitFor(t, "GOMAXPROCS 5 and limit 180MiB", func() bool {
		p, m, _ := rt.get()
		return p == 5 && m == 180*mib
	})
	cancel()
	<-r.watchDone
	lim.set(3, 300*mib)
	r.Undo()
	if p, m, level := rt.get(); p != 8 || m != math.MaxInt64 || level != "single" {
		t.Errorf("after cancel and Undo: GOMAXPROCS %d, limit %d, traceback %q; want 8, off, single", p, m, level)
	}
}

func TestWithLogger(t *testing.T) {
	cleanEnv(t)
	var b bytes.Buffer
	l := slog.New(slog.NewTextHandler(&b, nil))
	rt := newFake(8, 8)
	r, err := Setup(withRuntime(rt), WithLogger(l), withBuildInfo(),
		WithCgroupRoot(v2Tree(t, "100000 100000\n", "", "", "", "")), MemoryLimitRatio(0.5))
	if err != nil {
		t.Fatal(err)
	}
	r.Undo()
	out := b.String()
	for _, want := range []string{`msg="vitals: GOMAXPROCS" old=8 new=2 source="cgroup v2"`, `msg="vitals: GOTRACEBACK" old=single new=all`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "GOMEMLIMIT") {
		t.Errorf("logged an unchanged GOMEMLIMIT:\n%s", out)
	}
}

func TestParseByteCount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"123", 123, true}, {"123B", 123, true}, {"1KiB", 1024, true},
		{"300MiB", 300 * mib, true}, {"2GiB", 2 << 30, true}, {"1TiB", 1 << 40, true},
		{"9223372036854775807", math.MaxInt64, true}, {"9223372036854775808", 0, false},
		{"8388608TiB", 0, false}, {"8388607TiB", 8388607 << 40, true},
		{"", 0, false}, {"B", 0, false}, {"KiB", 0, false}, {"1K", 0, false}, {"1KB", 0, false},
		{"1kiB", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.5GiB", 0, false}, {" 1", 0, false},
		{"off", 0, false}, {"1iB", 0, false}, {"1BB", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseByteCount(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseByteCount(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseByteCount(f *testing.F) {
	for _, s := range []string{"0", "1B", "64KiB", "300MiB", "1GiB", "9TiB", "off", "-1", "1.5GiB", "9223372036854775807"} {
		f.Add(s)
	}
	// The runtime's grammar, ^[0-9]+(([KMGT]i)?B)?$, as an oracle.
	grammar := regexp.MustCompile(`^([0-9]+)((([KMGT])i)?B)?$`)
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseByteCount(s)
		if m := grammar.FindStringSubmatch(s); m != nil {
			v, _ := new(big.Int).SetString(m[1], 10)
			if m[4] != "" {
				v.Lsh(v, uint(10*strings.Index("_KMGT", m[4])))
			}
			fits := v.IsInt64()
			if ok != fits || (ok && v.Int64() != n) {
				t.Fatalf("parseByteCount(%q) = %d, %v; the grammar says %v (fits: %v)", s, n, ok, v, fits)
			}
		} else if ok {
			t.Fatalf("parseByteCount(%q) accepted what the grammar rejects", s)
		}
		if !ok {
			return
		}
		if n < 0 {
			t.Fatalf("parseByteCount(%q) = %d < 0", s, n)
		}
		// The plain decimal form of the result must parse to itself.
		if m, ok := parseByteCount(fmt.Sprint(n)); !ok || m != n {
			t.Fatalf("round trip of %d from %q gave %d, %v", n, s, m, ok)
		}
	})
}

func FuzzParseMemTotal(f *testing.F) {
	f.Add([]byte("MemTotal:       16384000 kB\nMemFree: 1 kB\n"))
	f.Add([]byte("MemFree: 1 kB\nMemTotal: 1\n"))
	f.Add([]byte("MemTotal: 99999999999999999999 kB\n"))
	f.Add([]byte("MemTotal:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseMemTotal(b)
		if err == nil && (n == 0 || n%1024 != 0 || n > math.MaxInt64) {
			t.Fatalf("parseMemTotal(%q) = %d without error", b, n)
		}
	})
}

func FuzzGODEBUGValue(f *testing.F) {
	f.Add("containermaxprocs=0,updatemaxprocs=0", "containermaxprocs")
	f.Add("a=1,,=,b", "b")
	f.Fuzz(func(t *testing.T, list, key string) {
		v := godebugValue(list, key)
		if v != "" && !strings.Contains(list, key+"="+v) {
			t.Fatalf("godebugValue(%q, %q) = %q, not in the list", list, key, v)
		}
	})
}

func runtimeGOMAXPROCS() int { return runtime.GOMAXPROCS(0) }

// TestPlanOverCgroupFixtures runs Plan over every fixture tree of the
// cgroup package: whatever the layout (garbage, missing files, paths
// outside the namespace), the report is complete and sane.
func TestPlanOverCgroupFixtures(t *testing.T) {
	cleanEnv(t)
	dirs, err := filepath.Glob(filepath.Join("..", "cgroup", "testdata", "layouts", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cgroup fixture layouts (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			rt := newFake(8, 8)
			r, err := Plan(withRuntime(rt), WithCgroupRoot(dir), withBuildInfo())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Decisions) != 4 {
				t.Fatalf("%d decisions, want 4:\n%s", len(r.Decisions), r)
			}
			if r.GOMAXPROCS < 1 || r.GOMAXPROCS > 8 {
				t.Errorf("GOMAXPROCS %d outside [1, 8]", r.GOMAXPROCS)
			}
			if q := r.Cgroup.CPU; q.Limited && q.Quota >= 2 && float64(r.GOMAXPROCS) > math.Ceil(q.Quota) {
				t.Errorf("GOMAXPROCS %d above the quota %g", r.GOMAXPROCS, q.Quota)
			}
			if m := r.Cgroup.Memory; m.Limited && uint64(r.GOMEMLIMIT) > m.Max {
				t.Errorf("GOMEMLIMIT %d above memory max %d", r.GOMEMLIMIT, m.Max)
			}
			if !r.Cgroup.Memory.Limited && r.GOMEMLIMIT != math.MaxInt64 {
				t.Errorf("GOMEMLIMIT %d without a memory limit", r.GOMEMLIMIT)
			}
			if len(rt.calls) != 0 {
				t.Errorf("Plan called %v", rt.calls)
			}
			if s := r.String(); !strings.Contains(s, "GOMAXPROCS") {
				t.Errorf("text report lacks GOMAXPROCS:\n%s", s)
			}
		})
	}
}
