//go:build linux

package startup

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/internal/cgrouptest"
)

// runtimeRule is what one Go release's runtime does by itself in a
// container, read from that release's source. Setup's decisions rest on it:
// it leaves GOMAXPROCS to the runtime when the runtime's rule already gives
// the effective limit, and sets GOMEMLIMIT because the runtime does not.
type runtimeRule struct {
	// procs is the runtime's default GOMAXPROCS for a cgroup CPU quota
	// (0 = none) and ncpu CPUs in the affinity mask.
	procs func(quota float64, ncpu int) int
	// memLimitFromCgroup: the runtime derives GOMEMLIMIT from a cgroup
	// memory limit.
	memLimitFromCgroup bool
	// source is where the rule was read.
	source string
}

// ceilMin2 is the runtime's container-aware GOMAXPROCS (Go 1.25 and later):
// the quota rounded up, at least 2, never above the CPUs of the affinity mask.
func ceilMin2(quota float64, ncpu int) int {
	if quota <= 0 {
		return ncpu
	}
	return min(ncpu, max(int(math.Ceil(quota)), 2))
}

// runtimeRules is keyed by Go release. Go 1.26.8 and 1.27.3 were compared
// file by file: runtime/cgroup_linux.go (defaultGOMAXPROCS,
// adjustCgroupGOMAXPROCS), internal/runtime/cgroup, sysmonUpdateGOMAXPROCS
// in runtime/proc.go and readGOMEMLIMIT in runtime/mgcpacer.go are the same
// in both; the containermaxprocs and updatemaxprocs GODEBUGs default to on
// since go 1.25 in both internal/godebugs tables. A new release fails
// TestRuntimeRuleKnown until its source has been read the same way.
var runtimeRules = map[string]runtimeRule{
	"go1.26": {ceilMin2, false, "go1.26.8 runtime/cgroup_linux.go adjustCgroupGOMAXPROCS; runtime/mgcpacer.go readGOMEMLIMIT reads only $GOMEMLIMIT"},
	"go1.27": {ceilMin2, false, "go1.27.3 runtime/cgroup_linux.go adjustCgroupGOMAXPROCS; runtime/mgcpacer.go readGOMEMLIMIT reads only $GOMEMLIMIT"},
}

// runningRelease is "go1.N" for the running toolchain, "" for a development
// build.
func runningRelease() string {
	v := runtime.Version()
	if !strings.HasPrefix(v, "go1.") {
		return ""
	}
	parts := strings.SplitN(strings.TrimPrefix(v, "go"), ".", 3)
	minor, _, _ := strings.Cut(parts[1], "rc")
	minor, _, _ = strings.Cut(minor, "beta")
	minor, _, _ = strings.Cut(minor, "-")
	return "go1." + minor
}

func ruleForRunning(t *testing.T) runtimeRule {
	t.Helper()
	rel := runningRelease()
	if rel == "" {
		t.Skipf("development toolchain %s: no release rule", runtime.Version())
	}
	r, ok := runtimeRules[rel]
	if !ok {
		t.Fatalf("no runtime rule for %s (%s): read its runtime/cgroup_linux.go, internal/runtime/cgroup and readGOMEMLIMIT, compare with %v, and add an entry to runtimeRules",
			rel, runtime.Version(), keys(runtimeRules))
	}
	return r
}

func keys(m map[string]runtimeRule) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestRuntimeRuleKnown: the running release has a rule, and Setup's model of
// the runtime (procsFor with the default policy) gives the same GOMAXPROCS
// for every quota and CPU count.
func TestRuntimeRuleKnown(t *testing.T) {
	rule := ruleForRunning(t)
	t.Logf("%s: %s", runtime.Version(), rule.source)
	for _, q := range []float64{0, 0.1, 0.5, 1, 2.0000000001, 1.5, 2, 2.5, 3, 7.9, 8, 64} {
		for _, ncpu := range []int{1, 2, 3, 4, 8, 96} {
			cpu := cgroup.CPU{Limited: q > 0, Quota: q}
			// Setup strips quota/period noise (1e-9); the runtime's ceil
			// would round 2.0000000001 up. Such a quota cannot come from
			// whole-microsecond quota and period values of a real cgroup.
			wantQ := q
			if q == 2.0000000001 {
				wantQ = 2
			}
			if got, want := procsFor(cpu, ncpu, procsPolicy{}), rule.procs(wantQ, ncpu); got != want {
				t.Errorf("quota %v, %d CPUs: Setup's model gives %d, the %s runtime %d", q, ncpu, got, runningRelease(), want)
			}
		}
	}
}

const runtimeChildEnv = "VITALS_TEST_RUNTIME_CHILD"

// TestRuntimeRuleChild prints the runtime's own settings, without Setup; it
// does nothing in an ordinary test run.
func TestRuntimeRuleChild(t *testing.T) {
	if os.Getenv(runtimeChildEnv) == "" {
		return
	}
	fmt.Printf("VITALS-RUNTIME %d %d\n", runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1))
}

// TestRuntimeRuleRealCgroup checks the running release's rule against its
// runtime in real v1 cgroups: a child started inside each reports the
// GOMAXPROCS and GOMEMLIMIT the runtime chose by itself.
func TestRuntimeRuleRealCgroup(t *testing.T) {
	if os.Getenv(runtimeChildEnv) != "" {
		return
	}
	rule := ruleForRunning(t)
	cgrouptest.Require(t)
	ncpu := runtime.NumCPU()
	for _, q := range []float64{0.5, 1.5, 2.5} {
		t.Run(fmt.Sprint(q), func(t *testing.T) {
			g := cgrouptest.New(t, q, 256<<20)
			cmd := g.Command(os.Args[0], "-test.run=^TestRuntimeRuleChild$", "-test.count=1")
			for _, kv := range os.Environ() {
				switch k, _, _ := strings.Cut(kv, "="); k {
				case "GOMAXPROCS", "GOMEMLIMIT", "GODEBUG", runtimeChildEnv:
					continue
				}
				cmd.Env = append(cmd.Env, kv)
			}
			cmd.Env = append(cmd.Env, runtimeChildEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s%s", err, out, stderr.Bytes())
			}
			var procs int
			var mem int64
			i := bytes.Index(out, []byte("VITALS-RUNTIME "))
			if i < 0 {
				t.Fatalf("no result in the child's output:\n%s", out)
			}
			if _, err := fmt.Sscanf(string(out[i:]), "VITALS-RUNTIME %d %d", &procs, &mem); err != nil {
				t.Fatalf("child output %q: %v", out[i:], err)
			}
			if want := rule.procs(q, ncpu); procs != want {
				t.Errorf("quota %v, %d CPUs: the runtime chose GOMAXPROCS %d, the %s rule says %d", q, ncpu, procs, runningRelease(), want)
			}
			if got := procsFor(cgroup.CPU{Limited: true, Quota: q}, ncpu, procsPolicy{}); got != procs {
				t.Errorf("quota %v: Setup's model gives %d, the runtime chose %d", q, got, procs)
			}
			if fromCgroup := mem != math.MaxInt64; fromCgroup != rule.memLimitFromCgroup {
				t.Errorf("the runtime's GOMEMLIMIT under a 256MiB cgroup limit is %d; the %s rule says from cgroup = %v", mem, runningRelease(), rule.memLimitFromCgroup)
			}
		})
	}
}
