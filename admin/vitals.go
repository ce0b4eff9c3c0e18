package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/stacks"
	"github.com/govitals/vitals/tracecap"
)

// healthz answers "ok": no locks, no runtime calls, safe for frequent probes.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// liveSamples are read with runtime/metrics: no stop-the-world.
var liveSamples = []struct{ key, name string }{
	// With the runtime's system goroutines; "goroutines" (NumGoroutine,
	// the count of go_goroutines and of the dump) leaves them out.
	{"goroutines_with_system", "/sched/goroutines:goroutines"},
	{"gomaxprocs", "/sched/gomaxprocs:threads"},
	{"heap_objects_bytes", "/memory/classes/heap/objects:bytes"},
	{"total_memory_bytes", "/memory/classes/total:bytes"},
	{"heap_goal_bytes", "/gc/heap/goal:bytes"},
	{"gc_cycles", "/gc/cycles/total:gc-cycles"},
	{"memory_limit_bytes", "/gc/gomemlimit:bytes"},
	{"gogc_percent", "/gc/gogc:percent"},
}

// liveState is the process's state now, from runtime/metrics (cheap: no
// stop-the-world) plus the admin server's own.
func (s *Server) liveState() map[string]any {
	samples := make([]metrics.Sample, len(liveSamples))
	for i, l := range liveSamples {
		samples[i].Name = l.name
	}
	metrics.Read(samples)
	st := map[string]any{
		"time":           time.Now().UTC(),
		"uptime_seconds": time.Since(s.started).Seconds(),
		"go_version":     runtime.Version(),
		"pid":            os.Getpid(),
		"goroutines":     runtime.NumGoroutine(),
	}
	for i, l := range liveSamples {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			st[l.key] = samples[i].Value.Uint64()
		}
	}
	if rec := s.cfg.recorder; rec != nil {
		fs := rec.Status()
		m := map[string]any{"running": fs.Recording, "goroutine_ceiling": fs.Ceiling}
		if fs.Paused != "" {
			m["paused"], m["paused_at"], m["held_bytes"] = fs.Paused, fs.PausedAt, fs.HeldBytes
		}
		st["flight_recorder"] = m
	}
	if d := s.cfg.traceDir; d != nil {
		files, bytes := d.Usage()
		st["trace_dir"] = map[string]any{"path": d.Path(), "files": files, "bytes": bytes}
	}
	st["admin_limits"] = s.limitsState()
	for _, n := range s.cfg.state {
		st[n.name] = safeCall(n.f)
	}
	return st
}

// limitsState says how the server's own limits are doing: the expensive
// slot and the two budgets. Cheap: counters and one lock each.
func (s *Server) limitsState() map[string]any {
	sl := s.guards[guardProfile].slot
	sl.mu.Lock()
	waiting := sl.waiting
	sl.mu.Unlock()
	budget := func(b *budget) map[string]any {
		return map[string]any{
			"writes":              b.writes.Load(),
			"cpu_seconds":         time.Duration(b.spent.Load()).Seconds(),
			"refused":             b.refused.Load(),
			"in_flight":           b.inflight.Load(),
			"budget_per_second_s": b.perSecond.Seconds(),
			"allocated_bytes":     b.allocated.Load(),
		}
	}
	out := map[string]any{
		"expensive": map[string]any{
			"running": sl.active.Load(),
			"waiting": waiting,
			"waited":  sl.waited.Load(),
			"refused": sl.refused.Load(),
		},
		"profile_writes": budget(s.writes),
		"shared_answers": map[string]any{
			"reused":  s.reuse.hits.Load(),
			"written": s.reuse.misses.Load(),
		},
		"metrics": budget(s.scrapes),
	}
	if p := s.answers; p != nil {
		out["profile_answers"] = map[string]any{"per_second": p.rate, "paced": p.paced.Load(), "refused": p.refused.Load()}
	}
	return out
}

// safeCall calls a user's provider, turning a panic into an error value.
func safeCall(f func() any) (v any) {
	defer func() {
		if p := recover(); p != nil {
			v = map[string]string{"error": fmt.Sprintf("provider panicked: %v", p)}
		}
	}()
	return f()
}

// vitalsState serves {"report": ..., "state": ..., "routes": [...]} as JSON.
// Cost: one runtime/metrics read plus the providers.
func (s *Server) vitalsState(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"state": s.liveState(), "routes": s.Routes()}
	if s.cfg.report != nil {
		out["report"] = safeCall(s.cfg.report)
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "admin: encoding json failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// format picks text, json or html from ?format= or the Accept header.
func format(r *http.Request) string {
	switch f := r.FormValue("format"); f {
	case "text", "json", "html":
		return f
	}
	acc := r.Header.Get("Accept")
	switch {
	case strings.Contains(acc, "text/html"):
		return "html"
	case strings.Contains(acc, "application/json"):
		return "json"
	}
	return "text"
}

// goroutines serves every goroutine grouped by stack. Up to the goroutine
// budget (or with force=1) it reads a full dump (debug=2: IDs, states, wait
// times, created-by frames; a stop-the-world of about 50 ms per 10,000
// goroutines); above it, the goroutine profile (debug=1), which the runtime
// collects concurrently (a pause well under a millisecond at 100,000
// goroutines): stacks without the runtime's frames at the top, counts and
// labels, no IDs, states or created-by frames. The X-Vitals-Goroutines
// header says which: "full" or "profile".
func (s *Server) goroutines(w http.ResponseWriter, r *http.Request) {
	n := runtime.NumGoroutine()
	debug, source := 2, "full"
	if n > s.cfg.budget && r.FormValue("force") != "1" {
		debug, source = 1, "profile"
	}
	// A dump of few goroutines is cheap: it runs in the profile budget.
	// More need the expensive slot (the profile too: building it costs
	// about 1.5 µs of CPU per goroutine, though the world keeps running).
	var g *guard
	if n > cheapDump {
		g = s.guards[guardGoroutines]
	}
	// The page is shared whole, not only the dump under it: grouping
	// 10,000 goroutines costs about as much as writing their profile, and a
	// flood of page requests would otherwise pay for it once per request.
	f := format(r)
	got := s.shared(r, "goroutines?debug="+strconv.Itoa(debug)+"&format="+f, g, func(buf *bytes.Buffer) error {
		return s.groupedPage(buf, debug, source, f)
	})
	if got.ref != nil {
		got.ref.busy(w)
		return
	}
	w.Header().Set("X-Vitals-Goroutines", source)
	if got.err != nil {
		s.cfg.logger.Warn("admin: goroutines page", "err", got.err)
		if r.Context().Err() == nil {
			httpError(w, http.StatusInternalServerError, "admin: goroutine dump failed")
		}
		return
	}
	ageHeaders(w.Header(), got)
	switch f {
	case "json":
		w.Header().Set("Content-Type", "application/json")
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Write(got.body)
}

// groupedPage writes the goroutine dump at debug (2 full, 1 profile),
// grouped by stack, into buf in format f (text, json or html).
func (s *Server) groupedPage(buf *bytes.Buffer, debug int, source, f string) error {
	var dump bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&dump, debug); err != nil {
		return fmt.Errorf("goroutine dump: %w", err)
	}
	groups, st, err := stacks.GroupReaderStats(&dump)
	if err != nil && len(groups) == 0 {
		return fmt.Errorf("parse goroutine dump: %w", err)
	}
	// What could not be parsed is said on the page, not dropped.
	opts := []stacks.RenderOption{stacks.WithStats(st)}
	switch f {
	case "json":
		return stacks.WriteJSON(buf, groups, opts...)
	case "html":
		title := fmt.Sprintf("goroutines of pid %d", os.Getpid())
		if source == "profile" {
			title += fmt.Sprintf(" (goroutine profile: over %d goroutines, no IDs, states or created-by frames; force=1 for a full dump)", s.cfg.budget)
		}
		return stacks.WriteHTML(buf, groups, append(opts, stacks.Title(title))...)
	}
	return stacks.WriteText(buf, groups, opts...)
}

// vitalsTrace captures a bounded execution trace (?seconds=, default 5,
// capped) to the response, or with ?save=1 into the trace directory,
// answering with the file's name and size as JSON.
func (s *Server) vitalsTrace(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("save") != "1" {
		s.traceTo(w, r, 5*time.Second)
		return
	}
	if s.cfg.traceDir == nil {
		httpError(w, http.StatusNotFound, "admin: no trace directory configured (admin.WithTraceDir)")
		return
	}
	d, release, ok := s.admitTimed(w, r, guardTrace, 5*time.Second)
	if !ok {
		return
	}
	defer release()
	path, err := tracecap.CaptureToDir(r.Context(), s.cfg.traceDir, "http", d)
	switch {
	case errors.Is(err, tracecap.ErrTracing):
		httpError(w, http.StatusConflict, "admin: an execution trace is already running in the process")
		return
	case errors.Is(err, tracecap.ErrDirFull):
		httpError(w, http.StatusInsufficientStorage, "admin: the trace outgrew the trace directory's byte cap; use fewer seconds")
		return
	case err != nil:
		s.cfg.logger.Warn("admin: trace to dir", "err", err)
		httpError(w, http.StatusInternalServerError, "admin: writing the trace failed")
		return
	}
	info, err := os.Stat(path)
	size := int64(0)
	if err == nil {
		size = info.Size()
	}
	writeJSON(w, map[string]any{"file": filepath.Base(path), "bytes": size, "seconds": d.Seconds()})
}

// flight snapshots the flight recorder (rate-limited by the recorder) and
// answers with the trace; with a directory configured the snapshot is also
// kept there and its name is in the X-Vitals-Snapshot header.
func (s *Server) flight(w http.ResponseWriter, r *http.Request) {
	rec := s.cfg.recorder
	var fs tracecap.Status
	if rec != nil {
		fs = rec.Status()
	}
	switch {
	case !fs.Started:
		httpError(w, http.StatusNotFound, "admin: flight recorder not running")
		return
	case !fs.Recording && fs.HeldBytes == 0:
		httpError(w, http.StatusNotFound, "admin: flight recorder paused, no trace held: "+fs.Paused)
		return
	case !fs.Recording:
		// The trace held from the pause ends then, not now: say so.
		w.Header().Set("X-Vitals-Flight-Paused", fs.PausedAt.UTC().Format(time.RFC3339)+"; "+fs.Paused)
	}
	release, ref := s.guards[guardFlight].acquire(r.Context(), time.Second)
	if ref != nil {
		ref.busy(w)
		return
	}
	defer release()
	reason := r.FormValue("reason")
	if reason == "" {
		reason = "http"
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	if rec.Dir() == nil {
		var buf bytes.Buffer
		if _, err := rec.SnapshotTo(&buf, reason); err != nil {
			s.snapshotError(w, err)
			return
		}
		attachment(w, "flight.trace")
		_, _ = w.Write(buf.Bytes())
		return
	}
	snap, err := rec.Snapshot(reason)
	if err != nil {
		s.snapshotError(w, err)
		return
	}
	f, err := os.Open(snap.Path)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "admin: snapshot written but rotated away before it could be served")
		return
	}
	defer f.Close()
	w.Header().Set("X-Vitals-Snapshot", filepath.Base(snap.Path))
	attachment(w, filepath.Base(snap.Path))
	_, _ = io.Copy(w, f)
}

func (s *Server) snapshotError(w http.ResponseWriter, err error) {
	var rl *tracecap.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", fmt.Sprint(int((rl.RetryAfter+time.Second-1)/time.Second)))
		httpError(w, http.StatusTooManyRequests, "admin: flight snapshots are rate-limited; retry later")
		return
	}
	s.cfg.logger.Warn("admin: flight snapshot", "err", err)
	httpError(w, http.StatusInternalServerError, "admin: flight snapshot failed")
}
