//go:build linux

package startup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/internal/cgrouptest"
)

// childEnv makes the test binary act as the child of TestRealCgroup: the
// value names the options to pass to Setup.
const childEnv = "VITALS_TEST_SETUP_CHILD"

// childResult is what the child prints after one line "VITALS-CHILD".
type childResult struct {
	Report     *Report `json:"report"`
	GOMAXPROCS int     `json:"runtime_gomaxprocs"` // read back after Setup
	GOMEMLIMIT int64   `json:"runtime_gomemlimit"`
}

// TestRealCgroupChild runs Setup in the child process; it does nothing in
// an ordinary test run.
func TestRealCgroupChild(t *testing.T) {
	policy := os.Getenv(childEnv)
	if policy == "" {
		return
	}
	var opts []Option
	if policy == "floor" {
		opts = append(opts, ProcsFloor())
	}
	r, err := Setup(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Undo() // stops the watcher, so a leak check in the child passes
	b, err := json.Marshal(childResult{Report: r, GOMAXPROCS: runtime.GOMAXPROCS(0), GOMEMLIMIT: debug.SetMemoryLimit(-1)})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("VITALS-CHILD\n%s\n", b)
}

// TestRealCgroup creates a real v1 cgroup with a 1.5-CPU quota and a 300MiB
// memory limit, re-executes this test binary inside it and checks what the
// child's Setup read and decided.
func TestRealCgroup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		return
	}
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 1.5, 300<<20)
	aff := runtime.NumCPU()
	runtimeRule := min(aff, 2) // the runtime: ceil(1.5) = 2, capped by the CPUs we have

	run := func(t *testing.T, policy string) childResult {
		t.Helper()
		cmd := g.Command(os.Args[0], "-test.run=^TestRealCgroupChild$", "-test.count=1")
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			switch k {
			case "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GODEBUG", "VITALS_MEMLIMIT_RATIO", childEnv:
				continue
			}
			cmd.Env = append(cmd.Env, kv)
		}
		cmd.Env = append(cmd.Env, childEnv+"="+policy)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.Bytes())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if sc.Text() == "VITALS-CHILD" && sc.Scan() {
				var res childResult
				if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
					t.Fatalf("child output: %v\n%s", err, sc.Bytes())
				}
				return res
			}
		}
		t.Fatalf("no report in the child's output:\n%s", out)
		return childResult{}
	}

	t.Run("default", func(t *testing.T) {
		res := run(t, "default")
		r := res.Report
		if r.Cgroup.Version != cgroup.V1 && r.Cgroup.Version != cgroup.Hybrid {
			t.Errorf("cgroup version %d, want v1 or hybrid", r.Cgroup.Version)
		}
		if c := r.Cgroup.CPU; !c.Limited || c.Quota != 1.5 || !strings.HasSuffix(c.QuotaPath, g.Name()+"/cpu.cfs_quota_us") {
			t.Errorf("child read CPU %+v, want quota 1.5 from %s", c, g.Name())
		}
		if m := r.Cgroup.Memory; !m.Limited || m.Max != 300<<20 {
			t.Errorf("child read memory %+v, want max %d", m, 300<<20)
		}
		d, _ := r.Decision(SettingGOMAXPROCS)
		if d.Changed || d.Source != SourceRuntime || d.New != fmt.Sprint(runtimeRule) || res.GOMAXPROCS != runtimeRule {
			t.Errorf("GOMAXPROCS decision %+v, runtime %d; want the runtime's own %d left alone", d, res.GOMAXPROCS, runtimeRule)
		}
		m, _ := r.Decision(SettingGOMEMLIMIT)
		const want = 283115520 // 0.9 × 300MiB
		if res.GOMEMLIMIT != want || r.GOMEMLIMIT != want || !m.Changed || m.Source != SourceCgroupV1 || !strings.Contains(m.Path, g.Name()) {
			t.Errorf("GOMEMLIMIT decision %+v, runtime %d; want %d from cgroup v1 %s", m, res.GOMEMLIMIT, want, g.Name())
		}
	})
	t.Run("floor", func(t *testing.T) {
		res := run(t, "floor")
		d, _ := res.Report.Decision(SettingGOMAXPROCS)
		if res.GOMAXPROCS != 1 || d.New != "1" || d.Source != SourcePolicy || d.Changed != (runtimeRule != 1) {
			t.Errorf("floor: decision %+v, runtime GOMAXPROCS %d; want 1", d, res.GOMAXPROCS)
		}
	})
}
