package doctor

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/startup"
)

func (c *config) local() Audit {
	start := time.Now()
	t := Target{Kind: KindLocal}
	var opts []startup.Option
	var copts []cgroup.Option
	if c.root != "" {
		opts = append(opts, startup.WithCgroupRoot(c.root))
		copts = append(copts, cgroup.WithRoot(c.root))
	}
	r, err := startup.Plan(opts...)
	if err != nil {
		return failed(t, start, "doctor: %v", err)
	}
	a := Audit{Target: t, Report: r, Facts: FactsFromReport(r)}
	// The runtime read GOMAXPROCS when this process started, so the plan
	// carries this process's value; a service started now would get the
	// variable's.
	if d, ok := r.Decision(startup.SettingGOMAXPROCS); ok && d.Source == startup.SourceEnv {
		if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("GOMAXPROCS"))); err == nil && n > 0 {
			a.Facts.GOMAXPROCS = n
		}
	}
	// This cgroup's counters: a service started here shares them.
	sr, _ := cgroup.NewStatReader(copts...)
	var st cgroup.Stats
	_ = sr.Read(&st)
	_ = sr.Close()
	if st.HaveCPU && a.Facts.CPULimit > 0 {
		a.Facts.ThrottleKnown = true
		a.Facts.Periods, a.Facts.ThrottledPeriods = st.Periods, st.ThrottledPeriods
	}
	a.Notes = append(a.Notes, "rules about a running service (pprof, metrics, trace, finalizers, heap, goroutines) need its admin endpoint: vitals doctor URL")
	a.finish(start)
	return a
}

// FactsFromReport returns the facts a start-up report (of [startup.Setup] or
// [startup.Plan]) tells: GOMAXPROCS and GOMEMLIMIT with their sources, the
// traceback level, and the cgroup's CPU and memory limits. It allocates
// nothing.
func FactsFromReport(r *startup.Report) checklist.Facts {
	var f checklist.Facts
	if r == nil {
		return f
	}
	f.GOMAXPROCS = r.GOMAXPROCS
	f.GOMEMLIMIT = r.GOMEMLIMIT
	cpu, mem := r.Cgroup.CPU, r.Cgroup.Memory
	f.CPULimitKnown = cpu.Unknown == "" && r.Cgroup.Version != cgroup.VersionUnknown
	f.CPULimitSource = cpu.QuotaPath
	f.Affinity = cpu.Affinity
	if cpu.Limited {
		f.CPULimit = cpu.Quota
	}
	f.MemoryLimitKnown = mem.Unknown == "" && r.Cgroup.Version != cgroup.VersionUnknown
	f.MemoryLimitSource = mem.MaxPath
	if mem.Limited {
		f.MemoryLimit = mem.Max
	}
	if d, ok := r.Decision(startup.SettingGOMAXPROCS); ok {
		f.GOMAXPROCSSource = d.Source
	}
	if d, ok := r.Decision(startup.SettingGOTRACEBACK); ok {
		f.GOTRACEBACK = d.New
	}
	return f
}
