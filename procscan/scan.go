package procscan

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// vitalsModule is the module whose presence in a binary's build
// information means vitals is linked.
const vitalsModule = "github.com/govitals/vitals"

// Process is one Go process and its audit.
type Process struct {
	PID int `json:"pid"`
	// Command is the command line (arguments joined by spaces), or the
	// kernel's command name when the command line is empty.
	Command string `json:"command"`
	// Exe is the binary's path as /proc/PID/exe names it.
	Exe string `json:"exe"`
	// GoVersion is the toolchain that built the binary ("go1.19.8").
	GoVersion string `json:"go_version"`
	// Path is the main package's import path; Module and Version its
	// module ("(devel)" for a build from a work tree; empty for builds
	// without module information, such as Debian's).
	Path    string `json:"path,omitempty"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
	// Vitals is true when the binary links a vitals package.
	Vitals bool `json:"vitals"`
	// Uptime is how long the process has run.
	Uptime time.Duration `json:"uptime_ns"`
	// RSS is the resident set size in bytes, Threads the thread count.
	RSS     uint64 `json:"rss_bytes"`
	Threads int    `json:"threads"`
	// Cgroup holds the effective limits of the process's cgroup.
	Cgroup cgroup.Limits `json:"cgroup"`
	// Env holds GOMAXPROCS, GOMEMLIMIT, GOTRACEBACK, GODEBUG and GOGC as
	// set in the environment (absent when unset); nil when unreadable.
	Env map[string]string `json:"env"`
	// DefaultGODEBUG is the GODEBUG default built into the binary.
	DefaultGODEBUG string `json:"default_godebug,omitempty"`
	// Settings is what the runtime (or vitals) does with all that.
	Settings Settings `json:"settings"`
	// Listeners are the process's listening TCP sockets.
	Listeners []Listener `json:"listeners,omitempty"`
	// Facts are what the checklist rules read; Results their verdicts.
	Facts   checklist.Facts    `json:"facts"`
	Results []checklist.Result `json:"results"`
	// Status is the worst result; skip when no rule could be judged (the
	// environment and sockets were unreadable).
	Status checklist.Status `json:"status"`
	// Unreadable lists what could not be read and why ("environ: permission
	// denied").
	Unreadable []string `json:"unreadable,omitempty"`
	// Notes are further remarks (what the rules cannot see).
	Notes []string `json:"notes,omitempty"`
}

// Listener is one listening TCP socket and what the loopback probe found.
type Listener struct {
	// Addr is the bound address ("0.0.0.0:9090", "[::]:8080").
	Addr string `json:"addr"`
	// Probed is the URL the probe used; empty when not probed.
	Probed string `json:"probed,omitempty"`
	// NotProbed says why the port was not probed.
	NotProbed string `json:"not_probed,omitempty"`
	// Debug lists the debug paths that answered without auth.
	Debug []string `json:"debug,omitempty"`
	// VitalsAdmin is true when the port answers /debug/vitals with a 401
	// asking for credentials: a vitals admin server with auth.
	VitalsAdmin bool `json:"vitals_admin,omitempty"`
	// Metrics is true when /metrics serves Go runtime metrics to anyone.
	Metrics bool `json:"metrics,omitempty"`
	// Error is set when the probe failed.
	Error string `json:"error,omitempty"`
}

// Skipped is a process that could not be audited.
type Skipped struct {
	PID     int    `json:"pid"`
	Command string `json:"command,omitempty"`
	// Reason says what could not be read and why.
	Reason string `json:"reason"`
}

// Report is what [Scan] found.
type Report struct {
	// Schema is [JSONSchema].
	Schema int `json:"schema"`
	// Status is the worst status over Processes; ExitCode its exit code.
	Status   checklist.Status `json:"status"`
	ExitCode int              `json:"exit_code"`
	// Processes are the Go processes, by PID.
	Processes []Process `json:"processes"`
	// Scanned is the number of processes looked at; NotGo how many of them
	// run a binary that is not Go; Gone how many exited during the scan;
	// Kernel how many are kernel threads (no binary).
	Scanned int `json:"scanned"`
	NotGo   int `json:"not_go"`
	Gone    int `json:"gone"`
	Kernel  int `json:"kernel"`
	// Skipped are processes whose binary could not be read.
	Skipped []Skipped `json:"skipped,omitempty"`
	// Warnings are problems with the scan as a whole (a malformed /proc
	// table, counted lines).
	Warnings []string `json:"warnings,omitempty"`
	// Elapsed is how long the scan took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// JSONSchema is the version of the Report's JSON layout.
const JSONSchema = 1

// Option configures [Scan].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	pids        []int
	probe       bool
	timeout     time.Duration
	concurrency int
}

// DefaultProbeTimeout bounds the probe of each listening port.
const DefaultProbeTimeout = 3 * time.Second

// WithPIDs limits the scan to these processes (default: every process).
func WithPIDs(pids ...int) Option {
	return optionFunc(func(c *config) { c.pids = append(c.pids, pids...) })
}

// WithoutProbe skips the loopback probe of listening ports: no request is
// sent to any process, and the pprof and metrics rules skip.
func WithoutProbe() Option { return optionFunc(func(c *config) { c.probe = false }) }

// WithProbeTimeout bounds the probe of each port (default
// [DefaultProbeTimeout]).
func WithProbeTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithConcurrency sets how many processes are read, and ports probed, at
// once (default 16).
func WithConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.concurrency = n
		}
	})
}

// binKey identifies a binary file, so each is opened once per scan.
type binKey struct{ dev, ino, size, mtime int64 }

type binInfo struct {
	once                                         sync.Once
	goVersion, path, module, version, defGODEBUG string
	vitals                                       bool
	err                                          error
}

// scanner is the state of one Scan.
type scanner struct {
	c        *config
	bootSecs float64
	pageSize uint64
	selfNet  string

	mu      sync.Mutex
	bins    map[binKey]*binInfo
	cgroups map[string]*cgroupInfo
	nets    map[string]map[uint64]socket // network namespace -> listening sockets
	rep     *Report
}

// Scan finds the Go processes on this machine and audits each. It never
// fails as a whole: what it cannot read is in [Report.Skipped],
// [Process.Unreadable] and [Report.Warnings]. It returns early, with what
// it has, when ctx is done.
func Scan(ctx context.Context, opts ...Option) *Report {
	start := time.Now()
	c := &config{probe: true, timeout: DefaultProbeTimeout, concurrency: 16}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	rep := &Report{Schema: JSONSchema, Processes: []Process{}}
	s := &scanner{c: c, pageSize: uint64(os.Getpagesize()), bins: map[binKey]*binInfo{}, cgroups: map[string]*cgroupInfo{}, nets: map[string]map[uint64]socket{}, rep: rep}
	if b, err := os.ReadFile("/proc/uptime"); err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("procscan: %v: uptimes unknown", err))
	} else if s.bootSecs, err = parseUptime(b); err != nil {
		rep.Warnings = append(rep.Warnings, err.Error()+": uptimes unknown")
	}
	s.selfNet, _ = os.Readlink("/proc/self/ns/net")

	pids := c.pids
	if pids == nil {
		var err error
		if pids, err = listPIDs(); err != nil {
			rep.Warnings = append(rep.Warnings, err.Error())
		}
	}
	self := os.Getpid()
	procs := make([]*Process, len(pids))
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, pid := range pids {
		if pid == self {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			s.count(func(r *Report) {
				r.Warnings = append(r.Warnings, fmt.Sprintf("procscan: stopped after %d of %d processes: %v", i, len(pids), ctx.Err()))
			})
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			procs[i] = s.process(pid)
		}()
	}
	wg.Wait()

	var found []*Process
	for _, p := range procs {
		if p != nil {
			found = append(found, p)
		}
	}
	if c.probe {
		s.probe(ctx, found)
	}
	for _, p := range found {
		p.judge()
		rep.Processes = append(rep.Processes, *p)
	}
	slices.SortFunc(rep.Skipped, func(a, b Skipped) int { return a.PID - b.PID })
	rep.Status, rep.ExitCode = checklist.Pass, 0
	for _, p := range rep.Processes {
		rep.Status = max(rep.Status, p.Status)
	}
	switch rep.Status {
	case checklist.Fail:
		rep.ExitCode = 2
	case checklist.Warn:
		rep.ExitCode = 1
	}
	rep.Elapsed = time.Since(start)
	return rep
}

// listPIDs reads the numeric entries of /proc, in order.
func listPIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("procscan: %w", err)
	}
	var pids []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > 0 {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

func (s *scanner) count(f func(r *Report)) {
	s.mu.Lock()
	f(s.rep)
	s.mu.Unlock()
}

func gone(err error) bool { return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) }

// reason turns a read error into a short reason.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// process reads one process; nil when it is not a Go process (counted).
func (s *scanner) process(pid int) (p *Process) {
	defer func() {
		if r := recover(); r != nil {
			s.count(func(rep *Report) {
				rep.Skipped = append(rep.Skipped, Skipped{PID: pid, Reason: fmt.Sprintf("procscan: internal error: %v", r)})
			})
			p = nil
		}
	}()
	dir := "/proc/" + strconv.Itoa(pid)
	s.count(func(r *Report) { r.Scanned++ })
	exe, err := os.Readlink(dir + "/exe")
	if err != nil {
		comm, cerr := os.ReadFile(dir + "/comm")
		switch {
		case cerr != nil && gone(cerr):
			s.count(func(r *Report) { r.Gone++ })
		case gone(err):
			// A kernel thread has no binary; a zombie neither.
			s.count(func(r *Report) { r.Kernel++ })
		default:
			s.count(func(r *Report) {
				r.Skipped = append(r.Skipped, Skipped{PID: pid, Command: strings.TrimSpace(string(comm)), Reason: "binary unreadable: " + reason(err)})
			})
		}
		return nil
	}
	bi := s.binary(dir + "/exe")
	if bi.err != nil {
		switch {
		case gone(bi.err):
			s.count(func(r *Report) { r.Gone++ })
		case errors.Is(bi.err, errNotGo):
			s.count(func(r *Report) { r.NotGo++ })
		default:
			comm, _ := os.ReadFile(dir + "/comm")
			s.count(func(r *Report) {
				r.Skipped = append(r.Skipped, Skipped{PID: pid, Command: strings.TrimSpace(string(comm)), Reason: "binary unreadable: " + reason(bi.err)})
			})
		}
		return nil
	}
	p = &Process{PID: pid, Exe: exe, GoVersion: bi.goVersion, Path: bi.path, Module: bi.module, Version: bi.version,
		Vitals: bi.vitals, DefaultGODEBUG: bi.defGODEBUG}
	unreadable := func(what string, err error) { p.Unreadable = append(p.Unreadable, what+": "+reason(err)) }

	if b, err := os.ReadFile(dir + "/stat"); err != nil {
		unreadable("stat", err)
	} else if st, err := parseStat(b); err != nil {
		unreadable("stat", err)
	} else {
		p.Command, p.Threads, p.RSS = st.comm, st.threads, st.rssPages*s.pageSize
		if s.bootSecs > 0 {
			// USER_HZ is 100 on every Linux architecture Go supports.
			up := s.bootSecs - float64(st.startTick)/100
			p.Uptime = time.Duration(max(up, 0) * float64(time.Second)).Round(time.Second)
		}
	}
	b, err := os.ReadFile(dir + "/cmdline")
	if err == nil && len(b) == 0 {
		// Just after execve the kernel already shows the new binary but
		// has not yet placed the arguments and environment (both read
		// empty for a moment): wait once for them.
		time.Sleep(10 * time.Millisecond)
		b, err = os.ReadFile(dir + "/cmdline")
	}
	if err != nil {
		unreadable("cmdline", err)
	} else if args := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " "); args != "" {
		p.Command = args
	}
	if b, err := os.ReadFile(dir + "/environ"); err != nil {
		unreadable("environ", err)
	} else {
		var bad int
		p.Env, bad = parseEnviron(b)
		if bad > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%d environment entries without '=' skipped", bad))
		}
	}

	cg := s.cgroup(pid, dir)
	p.Cgroup = cg.limits
	p.Cgroup.Warnings = slices.Clone(cg.limits.Warnings)
	if n, err := affinity(pid); err == nil && n > 0 {
		p.Cgroup.CPU.Affinity = n
	}
	if cg.stats.HaveCPU && p.Cgroup.CPU.Limited {
		p.Facts.ThrottleKnown, p.Facts.Periods, p.Facts.ThrottledPeriods = true, cg.stats.Periods, cg.stats.ThrottledPeriods
	}
	p.Settings = predict(p.GoVersion, p.DefaultGODEBUG, p.Env, p.Cgroup, p.Vitals)
	s.listeners(p, dir)
	return p
}

var errNotGo = errors.New("not a Go binary")

// cgroupInfo is what one cgroup's files said.
type cgroupInfo struct {
	once   sync.Once
	limits cgroup.Limits
	stats  cgroup.Stats
}

// cgroup reads the limits and CFS counters of pid's cgroup, once per
// distinct /proc/PID/cgroup content: processes in the same groups share
// the answer (all but the affinity, which is per process).
func (s *scanner) cgroup(pid int, dir string) *cgroupInfo {
	key, err := os.ReadFile(dir + "/cgroup")
	if err != nil {
		key = []byte("pid " + strconv.Itoa(pid)) // cgroup.Read says why
	}
	s.mu.Lock()
	cg, ok := s.cgroups[string(key)]
	if !ok {
		cg = &cgroupInfo{}
		s.cgroups[string(key)] = cg
	}
	s.mu.Unlock()
	cg.once.Do(func() {
		cg.limits = cgroup.Read(cgroup.WithProcess(pid))
		if r, err := cgroup.NewStatReader(cgroup.WithProcess(pid)); err == nil {
			_ = r.Read(&cg.stats)
			_ = r.Close()
		}
	})
	return cg
}

// binary reads the build information of the binary at exe once per file.
func (s *scanner) binary(exe string) *binInfo {
	fi, err := os.Stat(exe)
	if err != nil {
		return &binInfo{err: err}
	}
	var k binKey
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k = binKey{int64(st.Dev), int64(st.Ino), fi.Size(), fi.ModTime().UnixNano()}
	}
	s.mu.Lock()
	bi, ok := s.bins[k]
	if !ok || k == (binKey{}) {
		bi = &binInfo{}
		s.bins[k] = bi
	}
	s.mu.Unlock()
	// Processes of the same binary wait for the first one's read.
	bi.once.Do(func() { bi.read(exe) })
	return bi
}

func (bi *binInfo) read(exe string) {
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "open" {
			bi.err = err
		} else {
			bi.err = errNotGo
		}
		return
	}
	bi.goVersion = info.GoVersion
	bi.path = info.Path
	bi.module, bi.version = info.Main.Path, info.Main.Version
	bi.vitals = info.Main.Path == vitalsModule
	for _, d := range info.Deps {
		if d.Path == vitalsModule || (d.Replace != nil && d.Replace.Path == vitalsModule) {
			bi.vitals = true
		}
	}
	for _, st := range info.Settings {
		if st.Key == "DefaultGODEBUG" {
			bi.defGODEBUG = st.Value
		}
	}
}

// listeners finds the process's listening TCP sockets: the LISTEN entries
// of its network namespace's tables whose inode is one of its descriptors.
func (s *scanner) listeners(p *Process, dir string) {
	ns, err := os.Readlink(dir + "/ns/net")
	if err != nil {
		p.Unreadable = append(p.Unreadable, "network namespace: "+reason(err))
		return
	}
	table := s.netTable(ns, dir)
	if len(table) == 0 {
		return
	}
	ents, err := os.ReadDir(dir + "/fd")
	if err != nil {
		p.Unreadable = append(p.Unreadable, "file descriptors: "+reason(err))
		return
	}
	otherNS := s.selfNet == "" || ns != s.selfNet
	for _, e := range ents {
		link, err := os.Readlink(dir + "/fd/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		ino, ok := socketInode(link)
		if !ok {
			continue
		}
		so, ok := table[ino]
		if !ok {
			continue
		}
		l := Listener{Addr: net.JoinHostPort(so.addr.String(), strconv.Itoa(so.port))}
		switch {
		case otherNS:
			l.NotProbed = "in another network namespace (" + ns + "); vitals ps probes this namespace's loopback only"
		case so.addr.IsUnspecified() && so.addr.To4() != nil:
			l.Probed = "http://127.0.0.1:" + strconv.Itoa(so.port)
		case so.addr.IsUnspecified() || so.addr.Equal(net.IPv6loopback):
			l.Probed = "http://[::1]:" + strconv.Itoa(so.port)
		case so.addr.IsLoopback():
			l.Probed = "http://" + l.Addr
		default:
			l.NotProbed = "bound to " + so.addr.String() + " only; vitals ps probes loopback only"
		}
		p.Listeners = append(p.Listeners, l)
	}
	slices.SortFunc(p.Listeners, func(a, b Listener) int { return strings.Compare(a.Addr, b.Addr) })
	p.Listeners = slices.CompactFunc(p.Listeners, func(a, b Listener) bool { return a.Addr == b.Addr })
}

// netTable returns the listening sockets of network namespace ns, reading
// them through dir (a process in it) the first time.
func (s *scanner) netTable(ns, dir string) map[uint64]socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.nets[ns]; ok {
		return t
	}
	t := map[uint64]socket{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, "net", f))
		if err != nil {
			if !gone(err) || f == "tcp" {
				s.rep.Warnings = append(s.rep.Warnings, fmt.Sprintf("procscan: %s: %s", ns, reason(err)))
			}
			continue
		}
		if bad := parseTCP(b, t); bad > 0 {
			s.rep.Warnings = append(s.rep.Warnings, fmt.Sprintf("procscan: %s/net/%s: skipped %d malformed lines", dir, f, bad))
		}
	}
	s.nets[ns] = t
	return t
}

// probe runs doctor's public probe on every probed listener, concurrently,
// and asks each port once whether it is a vitals admin server with auth.
func (s *scanner) probe(ctx context.Context, procs []*Process) {
	type ref struct{ p, l int }
	var targets []doctor.Target
	var refs []ref
	for i, p := range procs {
		for j, l := range p.Listeners {
			if l.Probed != "" {
				targets = append(targets, doctor.Target{URL: l.Probed, Kind: doctor.KindPublic})
				refs = append(refs, ref{i, j})
			}
		}
	}
	if len(targets) == 0 {
		return
	}
	// One kept-alive connection per port carries its fifteen requests;
	// the idle ones are closed before returning, so no goroutine stays.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 1
	client := &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer tr.CloseIdleConnections()
	audits := doctor.Run(ctx, targets, doctor.WithTimeout(s.c.timeout), doctor.WithConcurrency(s.c.concurrency), doctor.WithHTTPClient(client))
	admins := vitalsAdmins(ctx, client, targets, s.c)
	for k, a := range audits {
		l := &procs[refs[k].p].Listeners[refs[k].l]
		if a.Error != "" {
			l.Error = a.Error
			continue
		}
		l.Debug = a.Facts.DebugOnPublic
		l.Metrics = a.Facts.MetricsExported
		l.VitalsAdmin = admins[k]
	}
}
