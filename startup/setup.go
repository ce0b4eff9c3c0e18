// Package startup applies the production start-up checklist to a Go
// process and reports what it did: it is the lean core of vitals.Setup and
// of the blank import github.com/govitals/vitals/auto, and it imports
// nothing but the standard library and the cgroup package (no HTTP server,
// no metrics library, no expvar), so linking it costs a service almost
// nothing.
//
// [Setup] applies the checklist: GOMAXPROCS that
// matches the CPU limit the process really has (the minimum over every
// cgroup ancestor and the affinity mask), GOMEMLIMIT at a share of the
// memory limit, GOTRACEBACK=all, and optionally a crash file. Explicit
// environment variables always win. Every change can be undone with
// [Report.Undo], and [Plan] computes the same report without changing
// anything (it is what "vitals doctor" prints).
//
// Services that want the defaults import the side-effect package instead:
//
//	import _ "github.com/govitals/vitals/auto"
//
// # GOMAXPROCS
//
// Since Go 1.25 the runtime derives GOMAXPROCS from the CPU quota of the
// process's own (leaf) cgroup, rounded up with a minimum of 2, and updates
// it once a second — until anyone calls [runtime.GOMAXPROCS], which freezes
// it. By default Setup leaves the runtime alone when its value is already
// right and never calls runtime.GOMAXPROCS then. When the effective limit is
// lower (a parent cgroup's quota, or the runtime's container support turned
// off by GODEBUG), Setup sets the runtime's rule applied to the effective
// limit and keeps it current once a second, as the runtime would have.
// [ProcsFloor], [ProcsCeil], [ProcsReserve] and [ProcsMinimum] choose other
// rules; with any of them Setup owns GOMAXPROCS.
//
// # GOMEMLIMIT
//
// Setup sets the soft memory limit to 0.9 × the effective memory limit
// ([MemoryLimitRatio], VITALS_MEMLIMIT_RATIO), optionally based on
// memory.high ([MemoryHigh]) or the machine's memory
// ([MemoryFallbackSystem]), optionally refreshed ([MemoryRefresh]).
package startup

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govitals/vitals/cgroup"
)

// Setup applies the start-up checklist to this process and returns what it
// did. It never stops a service from starting: the error is non-nil only
// for invalid options (and then nothing was changed); everything else it
// cannot do becomes a warning in the report. Call [Report.Undo] to restore
// the previous settings and stop any background goroutine.
//
// Cost: one cgroup read (a few small files, tens of microseconds), at most
// one stop-the-world to change GOMAXPROCS, and — only when GOMAXPROCS must
// be kept current or [MemoryRefresh] is given — one goroutine that re-reads
// the cgroup limits once per period.
func Setup(opts ...Option) (*Report, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	r := plan(c)
	r.apply(c)
	return r, nil
}

// Plan computes the report [Setup] would return with the same options,
// without changing any setting, touching any file or starting anything.
// Report.DryRun is true and Report.Undo does nothing.
func Plan(opts ...Option) (*Report, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	r := plan(c)
	r.DryRun = true
	return r, nil
}

// actions is what plan decided; apply carries it out.
type actions struct {
	setProcs   bool
	procs      int
	watchProcs bool

	setMem   bool
	mem      int64
	watchMem bool
	ratio    float64

	traceback string // "" = none

	crash       bool
	crashRotate bool
}

func plan(c *config) (r *Report) {
	r = &Report{Schema: ReportSchema, GoVersion: runtime.Version()}
	defer func() {
		if p := recover(); p != nil {
			r.act = actions{}
			r.warnf("vitals: internal error while planning, nothing will be changed: %v", p)
		}
	}()
	lim := c.limits()
	r.Cgroup = lim
	r.Warnings = append(r.Warnings, lim.Warnings...)
	r.planProcs(c, lim)
	r.planMemLimit(c, lim)
	r.planTraceback(c)
	r.planCrash(c)
	return r
}

// procsFor applies policy p to a CPU limit: the quota when there is one,
// capped by the aff CPUs of the affinity mask.
func procsFor(cpu cgroup.CPU, aff int, p procsPolicy) int {
	const eps = 1e-9 // quota/period noise must not move a whole number
	limit := float64(aff)
	if cpu.Limited && cpu.Quota > 0 && cpu.Quota < limit {
		limit = cpu.Quota
	}
	limit -= p.reserve
	var n int
	switch p.round {
	case roundFloor:
		n = max(int(math.Floor(limit+eps)), 1)
	case roundCeil:
		n = max(int(math.Ceil(limit-eps)), 1)
	default:
		// The runtime: ceil, at least 2 unless fewer CPUs are usable.
		n = min(max(int(math.Ceil(limit-eps)), 2), max(aff, 1))
	}
	return max(n, p.minimum)
}

// validProcsEnv parses GOMAXPROCS as the runtime does (schedinit).
func validProcsEnv(v string) (int, bool) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int(n), true
}

func (c *config) affinityOf(lim cgroup.Limits) int {
	switch {
	case c.affinity > 0:
		return c.affinity
	case lim.CPU.Affinity > 0:
		return lim.CPU.Affinity
	}
	return c.rt.NumCPU()
}

func (r *Report) planProcs(c *config, lim cgroup.Limits) {
	cur := c.rt.GOMAXPROCS(0)
	r.GOMAXPROCS = cur
	d := Decision{Setting: SettingGOMAXPROCS, Old: strconv.Itoa(cur), New: strconv.Itoa(cur), Source: SourceRuntime}
	defer func() { r.Decisions = append(r.Decisions, d) }()

	r.checkGODEBUG(c)

	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		if _, valid := validProcsEnv(v); valid {
			d.Source = SourceEnv
			d.Reason = fmt.Sprintf("GOMAXPROCS=%s in the environment wins", v)
			return
		}
		if v != "" {
			r.warnf("GOMAXPROCS=%q in the environment is not a positive whole number; the runtime ignored it", v)
		}
	}
	if c.keepProcs {
		d.Reason = "left alone (KeepGOMAXPROCS)"
		return
	}
	aff := c.affinityOf(lim)
	target := procsFor(lim.CPU, aff, c.procs)
	limit := describeCPU(lim, aff)
	fromQuota := lim.CPU.Limited && lim.CPU.Quota > 0 && lim.CPU.Quota < float64(aff)

	if c.procs.explicit {
		d.Source = SourcePolicy
		if fromQuota {
			d.Path = lim.CPU.QuotaPath
		}
		d.New = strconv.Itoa(target)
		d.Changed = target != cur
		d.Reason = fmt.Sprintf("policy %s → %d from %s; kept current every %v", c.procs, target, limit, c.interval)
		r.act.setProcs, r.act.procs, r.act.watchProcs = true, target, true
		r.GOMAXPROCS = target
		return
	}
	if lim.CPU.Unknown != "" && !lim.CPU.Limited {
		d.Reason = fmt.Sprintf("left to the runtime: the CPU limit is unknown (%s)", lim.CPU.Unknown)
		return
	}
	switch {
	case cur == target:
		d.Reason = "the runtime's value matches " + limit
	case cur > target:
		d.Source = SourceCgroup
		if fromQuota {
			d.Source = cgroupSource(lim.CPU.QuotaPath)
			d.Path = lim.CPU.QuotaPath
		}
		d.New = strconv.Itoa(target)
		d.Changed = true
		d.Reason = fmt.Sprintf("the runtime used %d but %s allows %d; kept current every %v", cur, limit, target, c.interval)
		r.act.setProcs, r.act.procs, r.act.watchProcs = true, target, true
		r.GOMAXPROCS = target
	default:
		d.Reason = fmt.Sprintf("left alone: %s allows %d, but something in this process set %d", limit, target, cur)
		r.warnf("GOMAXPROCS=%d is below the %d that %s allows; something in this process set it, so vitals leaves it", cur, target, limit)
	}
}

func (p procsPolicy) String() string {
	s := p.round.String()
	if p.reserve > 0 {
		s += fmt.Sprintf(", reserve %g", p.reserve)
	}
	if p.minimum > 0 {
		s += fmt.Sprintf(", minimum %d", p.minimum)
	}
	return s
}

func describeCPU(lim cgroup.Limits, aff int) string {
	if lim.CPU.Limited && lim.CPU.Quota > 0 {
		return fmt.Sprintf("the effective limit (quota %g CPUs, affinity %d)", lim.CPU.Quota, aff)
	}
	return fmt.Sprintf("the effective limit (no CPU quota, affinity %d)", aff)
}

// cgroupSource names the hierarchy a limit file belongs to, by its name.
func cgroupSource(path string) string {
	switch filepath.Base(path) {
	case "cpu.max", "memory.max", "memory.high":
		return SourceCgroupV2
	case "cpu.cfs_quota_us", "cpu.cfs_period_us", "memory.limit_in_bytes", "memory.stat":
		return SourceCgroupV1
	}
	return SourceCgroup
}

// checkGODEBUG warns when the runtime's container support is off. The go
// command records the GODEBUG defaults implied by the main module's go line
// (and //go:debug directives) as the DefaultGODEBUG build setting; the
// GODEBUG environment variable overrides them.
func (r *Report) checkGODEBUG(c *config) {
	def := defaultGODEBUG(c.buildInfo)
	env := os.Getenv("GODEBUG")
	for _, key := range []string{"containermaxprocs", "updatemaxprocs"} {
		v, from := godebugValue(env, key), "the GODEBUG environment variable"
		if v == "" {
			v, from = godebugValue(def, key), "the binary's default GODEBUG (set by a go line of 1.24 or lower or a godebug line in the main module's go.mod, or a //go:debug directive)"
		}
		if v != "0" {
			continue
		}
		if key == "containermaxprocs" {
			r.warnf("GODEBUG containermaxprocs=0 from %s: the runtime ignores cgroup CPU limits, so vitals applies them instead", from)
		} else {
			r.warnf("GODEBUG updatemaxprocs=0 from %s: the runtime will not follow CPU limit changes", from)
		}
	}
}

// defaultGODEBUG returns the DefaultGODEBUG build setting. The real build
// information never changes, so it is parsed once per process.
func defaultGODEBUG(read func() (*debug.BuildInfo, bool)) string {
	if read == nil {
		return buildDefaultGODEBUG()
	}
	return defaultGODEBUGOf(read())
}

var buildDefaultGODEBUG = sync.OnceValue(func() string { return defaultGODEBUGOf(debug.ReadBuildInfo()) })

func defaultGODEBUGOf(bi *debug.BuildInfo, ok bool) string {
	var def string
	if ok && bi != nil {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				def = s.Value
			}
		}
	}
	return def
}

// godebugValue returns the last value of key in a GODEBUG-style list
// ("k=v,k=v"), as the runtime lets later entries win; "" if absent.
func godebugValue(list, key string) string {
	v := ""
	for _, kv := range strings.Split(list, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k == key {
			v = val
		}
	}
	return v
}

// parseByteCount parses a GOMEMLIMIT value as the runtime does: a
// non-negative integer with an optional B, KiB, MiB, GiB or TiB suffix, no
// larger than math.MaxInt64. "off" is handled by the caller.
func parseByteCount(s string) (int64, bool) {
	mult := uint64(1)
	for i, suf := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), uint64(1)<<(10*(i+1))
			break
		}
	}
	if mult == 1 {
		s = strings.TrimSuffix(s, "B")
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false // ParseInt would accept a sign
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || uint64(n) > math.MaxInt64/mult {
		return 0, false
	}
	return n * int64(mult), true
}

// parseMemLimitEnv reports whether the runtime accepted GOMEMLIMIT=v.
func parseMemLimitEnv(v string) (int64, bool) {
	if v == "off" {
		return math.MaxInt64, true
	}
	return parseByteCount(v)
}

// memoryBase finds the memory the limit is based on: bytes, the Source,
// the file and a short description; 0 bytes when there is none.
func (c *config) memoryBase(lim cgroup.Limits) (uint64, string, string, string) {
	m := lim.Memory
	var base uint64
	var src, path, what string
	if m.Limited && m.Max > 0 {
		base, src, path, what = m.Max, cgroupSource(m.MaxPath), m.MaxPath, "memory limit"
	}
	if c.memHigh && m.High > 0 && (base == 0 || m.High < base) {
		base, src, path, what = m.High, cgroupSource(m.HighPath), m.HighPath, "memory.high"
	}
	if base == 0 && c.memSystem {
		p := filepath.Join(c.rootDir(), "proc", "meminfo")
		if n, err := memTotal(p); err == nil {
			base, src, path, what = n, SourceSystem, p, "system memory"
		}
	}
	return base, src, path, what
}

func (c *config) rootDir() string {
	if c.root == "" {
		return "/"
	}
	return c.root
}

// memTotal reads MemTotal from a /proc/meminfo file.
func memTotal(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("vitals: read %s: %w", path, err)
	}
	return parseMemTotal(b)
}

func parseMemTotal(b []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[1] != "kB") {
			return 0, fmt.Errorf("vitals: meminfo: malformed MemTotal line %q", sc.Text())
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || n == 0 || n > math.MaxInt64/1024 {
			return 0, fmt.Errorf("vitals: meminfo: malformed MemTotal %q", f[0])
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("vitals: meminfo: no MemTotal line")
}

// scaled returns round(base × ratio), at most math.MaxInt64.
func scaled(base uint64, ratio float64) int64 {
	f := math.Round(float64(base) * ratio)
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f)
}

func (r *Report) planMemLimit(c *config, lim cgroup.Limits) {
	cur := c.rt.SetMemoryLimit(-1)
	r.GOMEMLIMIT = cur
	d := Decision{Setting: SettingGOMEMLIMIT, Old: memString(cur), New: memString(cur), Source: SourceRuntime}
	defer func() { r.Decisions = append(r.Decisions, d) }()

	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		if _, valid := parseMemLimitEnv(v); valid {
			d.Source = SourceEnv
			d.Reason = fmt.Sprintf("GOMEMLIMIT=%s in the environment wins", v)
			return
		}
		r.warnf("GOMEMLIMIT=%q in the environment is not a valid byte count", v)
	}
	if c.keepMemLimit {
		d.Reason = "left alone (KeepGOMEMLIMIT)"
		return
	}
	ratio, ratioFrom := c.memRatio, ""
	if v, ok := os.LookupEnv("VITALS_MEMLIMIT_RATIO"); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil && validRatio(f) {
			ratio, ratioFrom = f, " (VITALS_MEMLIMIT_RATIO)"
		} else {
			r.warnf("VITALS_MEMLIMIT_RATIO=%q is not a ratio in (0, 1]; using %g", v, ratio)
		}
	}
	base, src, path, what := c.memoryBase(lim)
	if base == 0 {
		d.Source = SourceNone
		why := "no memory limit found"
		if lim.Memory.Unknown != "" {
			why = "the memory limit is unknown (" + lim.Memory.Unknown + ")"
		}
		d.Reason = why + "; left alone"
		return
	}
	target := scaled(base, ratio)
	d.Source, d.Path, d.New = src, path, memString(target)
	d.Changed = target != cur
	d.Reason = fmt.Sprintf("%g%s × %s %s", ratio, ratioFrom, what, formatBytes(int64(min(base, math.MaxInt64))))
	if c.memRefresh > 0 {
		d.Reason += fmt.Sprintf("; refreshed every %v", c.memRefresh)
		r.act.watchMem = true
	}
	r.act.ratio = ratio
	if d.Changed {
		r.act.setMem, r.act.mem = true, target
		r.GOMEMLIMIT = target
		if cur != math.MaxInt64 {
			r.warnf("GOMEMLIMIT was already %s (set earlier in this process); vitals replaces it with %s", memString(cur), memString(target))
		}
	}
}

func memString(n int64) string {
	if n == math.MaxInt64 {
		return "off"
	}
	return strconv.FormatInt(n, 10)
}

// runtimeTraceback is the level in effect when GOTRACEBACK is unset.
const runtimeTraceback = "single"

func (r *Report) planTraceback(c *config) {
	d := Decision{Setting: SettingGOTRACEBACK, Old: runtimeTraceback, New: runtimeTraceback, Source: SourceRuntime}
	switch v, ok := os.LookupEnv("GOTRACEBACK"); {
	case ok && v != "":
		d.Old, d.New, d.Source = v, v, SourceEnv
		d.Reason = fmt.Sprintf("GOTRACEBACK=%s in the environment wins", v)
	case c.traceback == "":
		d.Reason = "left alone (Traceback(\"\"))"
	default:
		d.New, d.Source = c.traceback, SourcePolicy
		d.Changed = c.traceback != runtimeTraceback
		d.Reason = "crash reports show every goroutine"
		if c.traceback != "all" {
			d.Reason = "Traceback option"
		}
		r.act.traceback = c.traceback
	}
	r.Decisions = append(r.Decisions, d)
}

func (r *Report) planCrash(c *config) {
	d := Decision{Setting: SettingCrashOutput, Old: "stderr", New: "stderr", Source: SourceNone,
		Reason: "no crash file (CrashOutput option)"}
	if c.crashPath != "" {
		d.New, d.Path, d.Source, d.Changed = "stderr+file", c.crashPath, SourceOption, true
		d.Reason = "fatal errors are also appended to " + c.crashPath
		r.act.crash = true
		if fi, err := os.Stat(c.crashPath); err == nil && c.crashMax > 0 && fi.Size() > c.crashMax {
			r.act.crashRotate = true
			d.Reason += fmt.Sprintf(" after moving the old one (%s > cap %s) to %s.1",
				formatBytes(fi.Size()), formatBytes(c.crashMax), c.crashPath)
		}
	}
	r.Decisions = append(r.Decisions, d)
}

// undoer runs the restore functions once, last first.
type undoer struct {
	once sync.Once
	mu   sync.Mutex
	fns  []func()
}

func (u *undoer) push(f func()) {
	u.mu.Lock()
	u.fns = append(u.fns, f)
	u.mu.Unlock()
}

func (u *undoer) run() {
	u.once.Do(func() {
		u.mu.Lock()
		fns := u.fns
		u.fns = nil
		u.mu.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			func() {
				defer func() { _ = recover() }() // a failed restore must not stop the others
				fns[i]()
			}()
		}
	})
}

func (r *Report) apply(c *config) {
	u := &undoer{}
	r.undo = u
	defer func() {
		if p := recover(); p != nil {
			r.warnf("vitals: internal error while applying, some settings may be unchanged: %v", p)
		}
	}()
	a := r.act
	rt := c.rt
	if a.setProcs {
		old := rt.GOMAXPROCS(a.procs)
		u.push(func() { restoreProcs(rt, old) })
	}
	if a.setMem {
		old := rt.SetMemoryLimit(a.mem)
		u.push(func() { rt.SetMemoryLimit(old) })
	}
	if a.traceback != "" {
		rt.SetTraceback(a.traceback)
		u.push(func() { rt.SetTraceback(runtimeTraceback) })
	}
	if a.crash {
		if err := r.openCrash(c); err != nil {
			r.warnf("crash output not set: %v", err)
			r.setDecision(SettingCrashOutput, func(d *Decision) { d.New, d.Changed = d.Old, false })
		} else {
			u.push(func() { _ = rt.SetCrashOutput(nil, debug.CrashOptions{}) })
		}
	}
	if a.watchProcs || a.watchMem {
		ctx, cancel := context.WithCancel(c.ctx)
		done := make(chan struct{})
		r.watchDone = done
		go func() {
			defer close(done)
			c.watch(ctx, a)
		}()
		u.push(func() { cancel(); <-done })
	}
	if c.logger != nil {
		for _, d := range r.Decisions {
			if d.Changed {
				c.logger.Info("vitals: "+d.Setting, "old", d.Old, "new", d.New, "source", d.Source, "reason", d.Reason)
			}
		}
		for _, w := range r.Warnings {
			c.logger.Warn("vitals: " + w)
		}
	}
}

// restoreProcs gives GOMAXPROCS back to the runtime's automatic default
// when that restores the old value, else pins the old value.
func restoreProcs(rt runtimeAPI, old int) {
	rt.SetDefaultGOMAXPROCS()
	if rt.GOMAXPROCS(0) != old {
		rt.GOMAXPROCS(old)
	}
}

func (r *Report) openCrash(c *config) error {
	if r.act.crashRotate {
		if err := os.Rename(c.crashPath, c.crashPath+".1"); err != nil {
			r.warnf("crash output: could not rotate %s: %v", c.crashPath, err)
		}
	}
	f, err := os.OpenFile(c.crashPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("vitals: open crash file: %w", err)
	}
	defer f.Close() // SetCrashOutput keeps its own duplicate
	if err := c.rt.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		return fmt.Errorf("vitals: set crash output %s: %w", c.crashPath, err)
	}
	return nil
}

// watch keeps GOMAXPROCS and GOMEMLIMIT current until ctx is done.
func (c *config) watch(ctx context.Context, a actions) {
	defer func() {
		if p := recover(); p != nil && c.logger != nil {
			c.logger.Error("vitals: watcher stopped", "panic", p)
		}
	}()
	var procsC, memC <-chan time.Time
	if a.watchProcs {
		t := time.NewTicker(c.interval)
		defer t.Stop()
		procsC = t.C
	}
	if a.watchMem {
		t := time.NewTicker(c.memRefresh)
		defer t.Stop()
		memC = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-procsC:
			lim := c.limits()
			if lim.CPU.Unknown != "" && !lim.CPU.Limited {
				continue
			}
			want := procsFor(lim.CPU, c.affinityOf(lim), c.procs)
			if cur := c.rt.GOMAXPROCS(0); cur != want {
				c.rt.GOMAXPROCS(want)
				if c.logger != nil {
					c.logger.Info("vitals: GOMAXPROCS", "old", cur, "new", want, "source", "watch")
				}
			}
		case <-memC:
			base, _, _, _ := c.memoryBase(c.limits())
			if base == 0 {
				continue
			}
			want := scaled(base, a.ratio)
			if cur := c.rt.SetMemoryLimit(-1); cur != want {
				c.rt.SetMemoryLimit(want)
				if c.logger != nil {
					c.logger.Info("vitals: GOMEMLIMIT", "old", memString(cur), "new", memString(want), "source", "refresh")
				}
			}
		}
	}
}
