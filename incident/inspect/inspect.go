// Package inspect reads incident bundles (package incident) and summarises
// them: what fired against which limit, the top in-use heap sites, the
// largest goroutine groups, the GC around the trigger, the trace's span, and
// what to look at next. "vitals incident FILE" prints its summary.
//
// Reading a bundle costs its parts' size in memory one part at a time
// (profiles are small; the trace is read as a stream).
package inspect

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"golang.org/x/exp/trace"

	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/stacks"
)

// maxPart bounds what one part may decompress to (a bundle is capped at the
// directory's bytes; a hostile zip is not read without bound).
const maxPart = 1 << 30

// Bundle is an open bundle.
type Bundle struct {
	Path     string
	Manifest incident.Manifest
	zr       *zip.ReadCloser
	parts    map[string]*zip.File
}

// Open opens the bundle at path and decodes its manifest. A bundle whose
// writer died mid-way has no zip directory: Open says so.
func Open(path string) (*Bundle, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("inspect: %s is not a complete bundle (the process may have died while writing it): %w", path, err)
	}
	b := &Bundle{Path: path, zr: zr, parts: map[string]*zip.File{}}
	for _, f := range zr.File {
		b.parts[f.Name] = f
	}
	raw, err := b.Part(incident.PartManifest)
	if err != nil {
		zr.Close()
		return nil, err
	}
	if err := json.Unmarshal(raw, &b.Manifest); err != nil {
		zr.Close()
		return nil, fmt.Errorf("inspect: %s: manifest: %w", path, err)
	}
	if b.Manifest.Schema != incident.Schema {
		zr.Close()
		return nil, fmt.Errorf("inspect: %s: manifest schema %q, want %q", path, b.Manifest.Schema, incident.Schema)
	}
	return b, nil
}

// Close closes the bundle's file.
func (b *Bundle) Close() error { return b.zr.Close() }

// Has reports whether the bundle holds the part name.
func (b *Bundle) Has(name string) bool { return b.parts[name] != nil }

// Part returns the decompressed content of the part name.
func (b *Bundle) Part(name string) ([]byte, error) {
	rc, err := b.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxPart+1))
	if err != nil {
		return nil, fmt.Errorf("inspect: %s: read %s: %w", b.Path, name, err)
	}
	if len(data) > maxPart {
		return nil, fmt.Errorf("inspect: %s: part %s is larger than %d bytes", b.Path, name, maxPart)
	}
	return data, nil
}

func (b *Bundle) open(name string) (io.ReadCloser, error) {
	f := b.parts[name]
	if f == nil {
		return nil, fmt.Errorf("inspect: %s has no %s", b.Path, name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("inspect: %s: open %s: %w", b.Path, name, err)
	}
	return rc, nil
}

// Extract writes every part into dir (created if needed) and returns the
// paths written, so "go tool pprof" and "go tool trace" can open them.
func (b *Bundle) Extract(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	var out []string
	for _, f := range b.zr.File {
		name := filepath.Base(f.Name) // no paths out of dir
		if name != f.Name || name == "." || name == ".." {
			return out, fmt.Errorf("inspect: %s: unexpected part name %q", b.Path, f.Name)
		}
		data, err := b.Part(f.Name)
		if err != nil {
			return out, err
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return out, fmt.Errorf("inspect: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Site is one allocation or CPU site: the innermost function outside the
// runtime, with its share.
type Site struct {
	Func  string  `json:"func"`
	File  string  `json:"file,omitempty"`
	Line  int64   `json:"line,omitempty"`
	Value int64   `json:"value"`
	Share float64 `json:"share"`
}

// GroupLine is one goroutine group.
type GroupLine struct {
	Count     int               `json:"count"`
	State     string            `json:"state"`
	Top       string            `json:"top"`
	Where     string            `json:"where,omitempty"`
	CreatedBy string            `json:"created_by,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// GCFigures are the collector's figures over the history before the trigger.
type GCFigures struct {
	Span          time.Duration `json:"span_ns"`
	Cycles        uint64        `json:"cycles"`
	CPUShare      float64       `json:"cpu_share"`
	HeapLiveFirst uint64        `json:"heap_live_first_bytes"`
	HeapLiveLast  uint64        `json:"heap_live_last_bytes"`
	HeapGoalLast  uint64        `json:"heap_goal_last_bytes"`
	GoMemoryFirst uint64        `json:"go_memory_first_bytes"`
	GoMemoryLast  uint64        `json:"go_memory_last_bytes"`
	// GrowthPerSec is over the last 3 seconds of the history.
	GrowthPerSec float64 `json:"go_memory_growth_bytes_per_second"`
}

// TraceInfo describes the flight-recorder trace.
type TraceInfo struct {
	Bytes   int64         `json:"bytes"`
	Span    time.Duration `json:"span_ns"`
	Events  int           `json:"events"`
	Command string        `json:"command"`
	Error   string        `json:"error,omitempty"`
	// Note is the bundle's note on the trace: one held since the flight
	// recorder paused ends before the trigger.
	Note string `json:"note,omitempty"`
}

// Summary is what "vitals incident" prints.
type Summary struct {
	Path       string           `json:"path"`
	Trigger    string           `json:"trigger"`
	Reason     string           `json:"reason"`
	Time       time.Time        `json:"time"`
	Took       time.Duration    `json:"took_ns"`
	Light      bool             `json:"light,omitempty"`
	Values     []incident.Value `json:"values,omitempty"`
	Readings   []incident.Value `json:"readings,omitempty"`
	Limits     incident.Limits  `json:"limits"`
	Goroutines int              `json:"goroutines"`
	HeapInUse  int64            `json:"heap_inuse_bytes"`
	Heap       []Site           `json:"heap_top,omitempty"`
	CPU        []Site           `json:"cpu_top,omitempty"`
	Groups     []GroupLine      `json:"goroutine_groups,omitempty"`
	GC         *GCFigures       `json:"gc,omitempty"`
	Trace      *TraceInfo       `json:"trace,omitempty"`
	Parts      []incident.Part  `json:"parts"`
	Next       []string         `json:"next"`
	// Problems lists what could not be read; nothing is dropped silently.
	Problems []string `json:"problems,omitempty"`
}

// Summarize reads b's parts and returns its summary with at most top heap
// sites, CPU sites and goroutine groups. It reads the whole trace once to
// find its span.
func Summarize(b *Bundle, top int) *Summary {
	if top < 1 {
		top = 10
	}
	m := &b.Manifest
	s := &Summary{Path: b.Path, Trigger: m.Trigger.String(), Reason: m.Reason, Time: m.Time, Took: m.Finished.Sub(m.Time),
		Light: m.Light, Values: m.Values, Readings: m.Readings, Limits: m.Limits, Goroutines: m.Goroutines, Parts: m.Parts}
	problem := func(err error) { s.Problems = append(s.Problems, err.Error()) }
	for _, p := range m.Parts {
		if p.Error != "" {
			problem(fmt.Errorf("part %s failed when written: %s", p.Name, p.Error))
		}
	}
	if b.Has(incident.PartHeap) {
		sites, total, err := topSites(b, incident.PartHeap, "inuse_space", top)
		if err != nil {
			problem(err)
		}
		s.Heap, s.HeapInUse = sites, total
	}
	if b.Has(incident.PartCPU) {
		sites, _, err := topSites(b, incident.PartCPU, "cpu", top)
		if err != nil {
			problem(err)
		}
		s.CPU = sites
	}
	if b.Has(incident.PartGoroutines) {
		gs, err := groups(b, top)
		if err != nil {
			problem(err)
		}
		s.Groups = gs
	}
	s.GC = gcFigures(m.History)
	if b.Has(incident.PartTrace) {
		s.Trace = traceInfo(b)
		for _, p := range m.Parts {
			if p.Name == incident.PartTrace {
				s.Trace.Note = p.Note
			}
		}
		if s.Trace.Error != "" {
			problem(errors.New("trace: " + s.Trace.Error))
		}
	}
	s.Next = next(s)
	return s
}

// topSites sums a profile's sample_index values by the innermost frame that
// is not in the runtime (so "make" is attributed to its caller).
func topSites(b *Bundle, part, index string, top int) ([]Site, int64, error) {
	data, err := b.Part(part)
	if err != nil {
		return nil, 0, err
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, 0, fmt.Errorf("inspect: %s: %w", part, err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == index {
			idx = i
		}
	}
	if idx < 0 {
		idx = len(p.SampleType) - 1
	}
	if idx < 0 {
		return nil, 0, fmt.Errorf("inspect: %s: no sample types", part)
	}
	type key struct {
		fn, file string
		line     int64
	}
	sum := map[key]int64{}
	var total int64
	for _, smp := range p.Sample {
		v := smp.Value[idx]
		if v == 0 {
			continue
		}
		total += v
		k := key{fn: "(unknown)"}
	found:
		for _, loc := range smp.Location {
			for _, ln := range loc.Line {
				if ln.Function == nil {
					continue
				}
				name := ln.Function.Name
				if strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "runtime/") {
					if k.fn == "(unknown)" {
						k = key{name, ln.Function.Filename, ln.Line}
					}
					continue
				}
				k = key{name, ln.Function.Filename, ln.Line}
				break found
			}
		}
		sum[k] += v
	}
	sites := make([]Site, 0, len(sum))
	for k, v := range sum {
		sh := 0.0
		if total > 0 {
			sh = float64(v) / float64(total)
		}
		sites = append(sites, Site{Func: k.fn, File: k.file, Line: k.line, Value: v, Share: sh})
	}
	sort.Slice(sites, func(i, j int) bool {
		if sites[i].Value != sites[j].Value {
			return sites[i].Value > sites[j].Value
		}
		return sites[i].Func < sites[j].Func
	})
	if len(sites) > top {
		sites = sites[:top]
	}
	return sites, total, nil
}

func groups(b *Bundle, top int) ([]GroupLine, error) {
	rc, err := b.open(incident.PartGoroutines)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	gs, err := stacks.GroupReader(rc)
	if err != nil {
		return nil, fmt.Errorf("inspect: %s: %w", incident.PartGoroutines, err)
	}
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].Count > gs[j].Count })
	if len(gs) > top {
		gs = gs[:top]
	}
	out := make([]GroupLine, 0, len(gs))
	for _, g := range gs {
		l := GroupLine{Count: g.Count, Labels: g.Labels}
		var states []string
		for st := range g.States {
			states = append(states, st)
		}
		sort.Strings(states)
		l.State = strings.Join(states, ", ")
		if fr := firstUser(g.Frames); fr != nil {
			l.Top = fr.Func
			l.Where = fmt.Sprintf("%s:%d", fr.File, fr.Line)
		}
		if l.Top == "" {
			l.Top = "(no frames)"
		}
		if g.CreatedBy != nil {
			l.CreatedBy = g.CreatedBy.Func
		}
		out = append(out, l)
	}
	return out, nil
}

// firstUser is the innermost frame outside the runtime, or the first frame.
func firstUser(fs []stacks.Frame) *stacks.Frame {
	for i := range fs {
		if fs[i].Pkg != "runtime" && !strings.HasPrefix(fs[i].Func, "runtime.") && !strings.HasPrefix(fs[i].Func, "internal/") && !strings.HasPrefix(fs[i].Func, "sync.") {
			return &fs[i]
		}
	}
	if len(fs) > 0 {
		return &fs[0]
	}
	return nil
}

func gcFigures(h []incident.Point) *GCFigures {
	if len(h) < 2 {
		return nil
	}
	a, z := h[0], h[len(h)-1]
	g := &GCFigures{Span: z.Time.Sub(a.Time), Cycles: z.GCCycles - a.GCCycles,
		HeapLiveFirst: a.HeapLive, HeapLiveLast: z.HeapLive, HeapGoalLast: z.HeapGoal,
		GoMemoryFirst: a.GoMemory, GoMemoryLast: z.GoMemory}
	if d := z.TotalCPUSecs - a.TotalCPUSecs; d > 0 {
		g.CPUShare = (z.GCCPUSeconds - a.GCCPUSeconds) / d
	}
	// Growth over the last seconds (up to 3), the pace at the trigger.
	r := h[max(0, len(h)-4)]
	if sec := z.Time.Sub(r.Time).Seconds(); sec > 0 {
		g.GrowthPerSec = (float64(z.GoMemory) - float64(r.GoMemory)) / sec
	}
	return g
}

func traceInfo(b *Bundle) *TraceInfo {
	ti := &TraceInfo{Command: "go tool trace " + incident.PartTrace}
	if f := b.parts[incident.PartTrace]; f != nil {
		ti.Bytes = int64(f.UncompressedSize64)
	}
	rc, err := b.open(incident.PartTrace)
	if err != nil {
		ti.Error = err.Error()
		return ti
	}
	defer rc.Close()
	tr, err := trace.NewReader(rc)
	if err != nil {
		ti.Error = err.Error()
		return ti
	}
	var first, last trace.Time
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			ti.Error = fmt.Sprintf("after %d events: %v", ti.Events, err)
			break
		}
		if ti.Events == 0 {
			first = ev.Time()
		}
		last = ev.Time()
		ti.Events++
	}
	ti.Span = time.Duration(last.Sub(first))
	return ti
}

// next says what to look at next, from what the bundle shows.
func next(s *Summary) []string {
	var out []string
	ex := "vitals incident --extract DIR " + filepath.Base(s.Path)
	switch s.Trigger {
	case "memory", "gc":
		out = append(out, "heap: "+ex+" && go tool pprof -sample_index=inuse_space -top DIR/"+incident.PartHeap+" (what holds memory); -sample_index=alloc_space for what churns")
		if s.GC != nil && s.GC.GrowthPerSec > 1<<20 {
			out = append(out, fmt.Sprintf("Go memory grew %.1f MiB/s before the trigger: look for a cache, queue or buffer without a bound", s.GC.GrowthPerSec/(1<<20)))
		}
		if s.Limits.GOMEMLIMIT == 0 && s.Limits.CgroupMemory > 0 {
			out = append(out, "no GOMEMLIMIT under a container limit: set it (~90% of the limit) so the GC works harder before the kernel kills")
		}
	case "goroutines":
		out = append(out, "goroutines: vitals stacks DIR/"+incident.PartGoroutines+" (groups with labels); the largest group's top frame is where they wait")
	case "cpu":
		out = append(out, "CPU: "+ex+" && go tool pprof -top DIR/"+incident.PartCPU)
		if s.Limits.CPUQuota > 0 {
			out = append(out, fmt.Sprintf("the quota is %.2f CPUs with GOMAXPROCS %d: raise it or cut the work above", s.Limits.CPUQuota, s.Limits.GOMAXPROCS))
		}
	case "latency":
		out = append(out, "scheduler latency: go tool trace DIR/"+incident.PartTrace+" → Goroutine analysis and the scheduler latency profile")
	}
	if s.Trace != nil && s.Trace.Error == "" {
		before := "the trigger"
		if s.Trace.Note != "" {
			before = "the flight recorder paused"
		}
		out = append(out, fmt.Sprintf("the %v before %s: %s && go tool trace DIR/%s", s.Trace.Span.Round(time.Millisecond), before, ex, incident.PartTrace))
	}
	return out
}

// WriteJSON writes s as indented JSON.
func WriteJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes s for people.
func WriteText(w io.Writer, s *Summary) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "incident %s: %s\n", s.Trigger, s.Reason)
	fmt.Fprintf(&buf, "  bundle   %s\n  time     %s (bundle finished %v later)\n", s.Path, s.Time.UTC().Format(time.RFC3339Nano), s.Took.Round(time.Millisecond))
	if s.Light {
		fmt.Fprintln(&buf, "  light    yes (close to the memory limit: no full dump, no leak profile)")
	}
	l := s.Limits
	fmt.Fprintf(&buf, "  limits   effective memory %s (GOMEMLIMIT %s, cgroup %s), CPU quota %s, GOMAXPROCS %d\n",
		bytesStr(l.EffectiveMemory), bytesStr(l.GOMEMLIMIT), bytesStr(l.CgroupMemory), cpus(l.CPUQuota), l.GOMAXPROCS)
	fmt.Fprintln(&buf, "\nreadings (* fired):")
	rs := s.Readings
	if len(rs) == 0 {
		rs = s.Values
	}
	for _, v := range rs {
		mark := " "
		if v.Fired || fired(s.Values, v.Name) {
			mark = "*"
		}
		fmt.Fprintf(&buf, "  %s %-28s %s", mark, v.Name, valueStr(v.Value, v.Unit))
		if v.Threshold != 0 {
			fmt.Fprintf(&buf, "  threshold %s", valueStr(v.Threshold, v.Unit))
		}
		switch {
		case v.Limit != 0 && v.Unit == "goroutines":
			fmt.Fprintf(&buf, "  (lowest in the spike window %s)", valueStr(v.Limit, v.Unit))
		case v.Limit != 0:
			fmt.Fprintf(&buf, "  of %s", valueStr(v.Limit, v.Unit))
		}
		fmt.Fprintln(&buf)
	}
	if len(s.Heap) > 0 {
		fmt.Fprintf(&buf, "\ntop in-use heap sites (%s in use at the last GC):\n", bytesStr(uint64(s.HeapInUse)))
		for _, x := range s.Heap {
			fmt.Fprintf(&buf, "  %10s %5.1f%%  %s\n", bytesStr(uint64(x.Value)), 100*x.Share, x.Func)
		}
	}
	if len(s.CPU) > 0 {
		fmt.Fprintln(&buf, "\ntop CPU sites (the seconds after the trigger):")
		for _, x := range s.CPU {
			fmt.Fprintf(&buf, "  %10v %5.1f%%  %s\n", time.Duration(x.Value).Round(time.Millisecond), 100*x.Share, x.Func)
		}
	}
	if len(s.Groups) > 0 {
		fmt.Fprintf(&buf, "\ntop goroutine groups (%d goroutines):\n", s.Goroutines)
		for _, g := range s.Groups {
			fmt.Fprintf(&buf, "  %7d  %s", g.Count, g.Top)
			if g.State != "" {
				fmt.Fprintf(&buf, " [%s]", g.State)
			}
			if g.CreatedBy != "" {
				fmt.Fprintf(&buf, "  (created by %s)", g.CreatedBy)
			}
			if len(g.Labels) > 0 {
				keys := make([]string, 0, len(g.Labels))
				for k := range g.Labels {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var kv []string
				for _, k := range keys {
					kv = append(kv, k+"="+g.Labels[k])
				}
				fmt.Fprintf(&buf, " {%s}", strings.Join(kv, ", "))
			}
			fmt.Fprintln(&buf)
		}
	}
	if g := s.GC; g != nil {
		fmt.Fprintf(&buf, "\nGC over the %v before the trigger: %d cycles, %.0f%% of CPU; live heap %s → %s (goal %s); Go memory %s → %s (%+.1f MiB/s over the last seconds)\n",
			g.Span.Round(time.Second), g.Cycles, 100*g.CPUShare, size(g.HeapLiveFirst), size(g.HeapLiveLast), size(g.HeapGoalLast),
			size(g.GoMemoryFirst), size(g.GoMemoryLast), g.GrowthPerSec/(1<<20))
	}
	if t := s.Trace; t != nil {
		if t.Note != "" {
			fmt.Fprintf(&buf, "\nflight-recorder trace: %s, %v of execution (%d events), %s: %s\n", bytesStr(uint64(t.Bytes)), t.Span.Round(time.Millisecond), t.Events, t.Note, t.Command)
		} else {
			fmt.Fprintf(&buf, "\nflight-recorder trace: %s, %v of execution before the trigger (%d events): %s\n", bytesStr(uint64(t.Bytes)), t.Span.Round(time.Millisecond), t.Events, t.Command)
		}
	} else {
		fmt.Fprintln(&buf, "\nflight-recorder trace: none")
	}
	fmt.Fprintln(&buf, "\nparts:")
	for _, p := range s.Parts {
		switch {
		case p.Skipped != "":
			fmt.Fprintf(&buf, "  %-22s skipped: %s\n", p.Name, p.Skipped)
		case p.Error != "":
			fmt.Fprintf(&buf, "  %-22s FAILED: %s\n", p.Name, p.Error)
		case p.Note != "":
			fmt.Fprintf(&buf, "  %-22s %s (%s)\n", p.Name, bytesStr(uint64(p.Bytes)), p.Note)
		default:
			fmt.Fprintf(&buf, "  %-22s %s\n", p.Name, bytesStr(uint64(p.Bytes)))
		}
	}
	if len(s.Next) > 0 {
		fmt.Fprintln(&buf, "\nnext:")
		for _, n := range s.Next {
			fmt.Fprintf(&buf, "  - %s\n", n)
		}
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(&buf, "\nproblems:")
		for _, p := range s.Problems {
			fmt.Fprintf(&buf, "  - %s\n", p)
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func fired(vs []incident.Value, name string) bool {
	for _, v := range vs {
		if v.Name == name && v.Fired {
			return true
		}
	}
	return false
}

func bytesStr(b uint64) string {
	switch {
	case b == 0:
		return "none"
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// size is bytesStr with 0 as "0 B" (a measured zero, not an absent limit).
func size(b uint64) string {
	if b == 0 {
		return "0 B"
	}
	return bytesStr(b)
}

func cpus(q float64) string {
	if q == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f", q)
}

func valueStr(v float64, unit string) string {
	switch unit {
	case "bytes":
		return bytesStr(uint64(v))
	case "ratio":
		return fmt.Sprintf("%.1f%%", 100*v)
	case "seconds":
		return time.Duration(v * 1e9).String()
	case "cpus":
		return fmt.Sprintf("%.2f CPUs", v)
	}
	return fmt.Sprintf("%.0f", v)
}
