package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/govitals/vitals/tracecap"
)

// The pprof routes are written against runtime/pprof and runtime/trace
// directly: importing net/http/pprof would register its handlers on
// http.DefaultServeMux as a side effect, which is the exposure this package
// exists to prevent. The wire formats are the ones go tool pprof and go tool
// trace read.

// minDuration is the shortest duration ?seconds= may ask for: anything
// shorter would truncate to nothing.
const minDuration = time.Millisecond

// seconds parses ?seconds= (whole or fractional), defaulting to def and
// clamping to the server's maximum, which the X-Vitals-Duration-Capped
// header then names. A value that is not a finite number of at least a
// millisecond (NaN, Inf, 0, 1e-10, 4.9e-324) is an error.
func (s *Server) seconds(w http.ResponseWriter, r *http.Request, def time.Duration) (time.Duration, error) {
	v := r.FormValue("seconds")
	if v == "" {
		return min(def, s.cfg.maxDuration), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f*float64(time.Second) < float64(minDuration) {
		return 0, fmt.Errorf("admin: seconds must be a finite number of at least %g; longer than %g is capped to %g",
			minDuration.Seconds(), s.cfg.maxDuration.Seconds(), s.cfg.maxDuration.Seconds())
	}
	// Compare as floats: a huge value would overflow a Duration.
	if f >= s.cfg.maxDuration.Seconds() {
		if f > s.cfg.maxDuration.Seconds() {
			w.Header().Set("X-Vitals-Duration-Capped", "1")
		}
		return s.cfg.maxDuration, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

// admitTimed parses ?seconds= (default def, capped) and admits the request
// through the guard of kind: on success the caller defers release; on
// failure the 400 or the 429 has been written and ok is false.
func (s *Server) admitTimed(w http.ResponseWriter, r *http.Request, kind string, def time.Duration) (d time.Duration, release func(), ok bool) {
	d, err := s.seconds(w, r, def)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return 0, nil, false
	}
	release, ref := s.guards[kind].acquire(r.Context(), d)
	if ref != nil {
		ref.busy(w)
		return 0, nil, false
	}
	return d, release, true
}

// sleep waits for d or until the client goes away or the server shuts down.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func attachment(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
}

// pprofProfile serves a CPU profile of ?seconds= (default 30, capped). Cost:
// the profiler's sampling (about 1% CPU) for the duration, one at a time.
func (s *Server) pprofProfile(w http.ResponseWriter, r *http.Request) {
	d, release, ok := s.admitTimed(w, r, guardProfile, 30*time.Second)
	if !ok {
		return
	}
	defer release()
	attachment(w, "profile")
	// The profile is written only at Stop, so a start failure can still
	// send an error status.
	if err := pprof.StartCPUProfile(w); err != nil {
		httpError(w, http.StatusConflict, "admin: cpu profiling already in use by the process")
		return
	}
	sleep(r.Context(), d)
	pprof.StopCPUProfile()
}

// pprofTrace serves an execution trace of ?seconds= (default 1, capped).
// Cost: a few percent CPU and MBs/s of output for the duration.
func (s *Server) pprofTrace(w http.ResponseWriter, r *http.Request) {
	s.traceTo(w, r, time.Second)
}

func (s *Server) traceTo(w http.ResponseWriter, r *http.Request, def time.Duration) {
	d, release, ok := s.admitTimed(w, r, guardTrace, def)
	if !ok {
		return
	}
	defer release()
	attachment(w, "trace")
	// tracecap starts the tracer before the first write, so ErrTracing
	// arrives before any byte of the body.
	if err := tracecap.Capture(r.Context(), w, d); err != nil {
		if errors.Is(err, tracecap.ErrTracing) {
			httpError(w, http.StatusConflict, "admin: an execution trace is already running in the process")
			return
		}
		s.cfg.logger.Warn("admin: trace", "err", err)
	}
}

// Symbol lookups are bounded: the request body (POST) to maxSymbolBody, the
// distinct addresses to maxSymbols, the answer to maxSymbolAnswer. go tool
// pprof sends every address of a profile in one request; a profile's
// distinct addresses stay far below these.
const (
	maxSymbolBody   = 1 << 20
	maxSymbols      = 1 << 16
	maxSymbolAnswer = 8 << 20
)

// pprofSymbol maps program counters to function names, the protocol
// go tool pprof uses for profiles without symbols: GET answers
// "num_symbols: 1"; POST (or a GET query) holds "+"-separated addresses.
// Each distinct address is answered once. The lookups run in the profile
// budget (one at a time, metered) into a buffer of at most maxSymbolAnswer
// bytes; a request over a limit gets 413 and no partial answer.
func (s *Server) pprofSymbol(w http.ResponseWriter, r *http.Request) {
	// Read the request before taking the budget (a slow upload must not
	// hold it); parse and look up inside it.
	in := []byte(r.URL.RawQuery)
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSymbolBody))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin: symbol request over %d bytes; ask in smaller batches", maxSymbolBody))
			return
		case err != nil:
			httpError(w, http.StatusBadRequest, "admin: reading symbol request failed")
			return
		}
		in = b
	}
	t, ref := s.writes.admit(r.Context())
	if ref != nil {
		ref.busy(w)
		return
	}
	defer t.done()
	var out bytes.Buffer
	tooMany, over := false, false
	t.run(func() {
		out.WriteString("num_symbols: 1\n")
		seen := map[uint64]bool{}
		for word := range bytes.SplitSeq(in, []byte("+")) {
			pc, err := strconv.ParseUint(string(bytes.TrimSpace(word)), 0, 64)
			if err != nil || pc == 0 || seen[pc] {
				continue
			}
			if len(seen) == maxSymbols {
				tooMany = true
				return
			}
			seen[pc] = true
			if f := runtime.FuncForPC(uintptr(pc)); f != nil {
				fmt.Fprintf(&out, "%#x %s\n", pc, f.Name())
				if out.Len() > maxSymbolAnswer {
					over = true
					return
				}
			}
		}
	})
	if tooMany {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin: more than %d distinct addresses; ask in smaller batches", maxSymbols))
		return
	}
	if over {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("admin: symbol answer over %d bytes; ask in smaller batches", maxSymbolAnswer))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out.Bytes())
}

// pprofCmdline serves the NUL-separated command line (only with WithCmdline).
func (s *Server) pprofCmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, strings.Join(os.Args, "\x00"))
}

// pprofNamed serves /debug/pprof/ (the index) and /debug/pprof/{name}.
func (s *Server) pprofNamed(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutPrefix(r.URL.Path, "/debug/pprof/")
	if name == "" {
		s.pprofIndex(w, r)
		return
	}
	if name == "cmdline" && !s.cfg.cmdline {
		httpError(w, http.StatusNotFound, "admin: cmdline is disabled (it may hold secrets); enable it with admin.WithCmdline")
		return
	}
	p := pprof.Lookup(name)
	if p == nil {
		httpError(w, http.StatusNotFound, "admin: unknown profile")
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if r.FormValue("seconds") != "" {
		s.deltaProfile(w, r, p, debug)
		return
	}
	gc := r.FormValue("gc") != "" && r.FormValue("gc") != "0" && (name == "heap" || name == "allocs")
	full := (name == "goroutine" || name == "goroutineleak") && debug >= 2
	if full {
		if n := runtime.NumGoroutine(); n > s.cfg.budget && r.FormValue("force") != "1" {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
				"admin: %d goroutines exceed the dump budget of %d (a full dump stops the world about 50 ms per 10,000); add force=1, or use debug=1", n, s.cfg.budget))
			return
		}
	}
	var g *guard
	switch {
	case name == "goroutineleak":
		g = s.guards[guardLeak] // runs a leak-detecting GC, and with debug=2 a full dump
	case full && runtime.NumGoroutine() > cheapDump:
		g = s.guards[guardGoroutines]
	case gc:
		g = s.guards[guardHeapGC]
	}
	if g != nil && (gc || name == "goroutineleak") {
		// Not shared: a forced GC or a leak-detecting cycle is what the
		// request asks for.
		release, ref := g.acquire(r.Context(), time.Second)
		if ref != nil {
			ref.busy(w)
			return
		}
		defer release()
		if gc && !s.heapGC(w) {
			return
		}
		s.writeProfile(w, p, debug)
		return
	}
	// Every other profile is shared by the requests that ask for it while
	// it is written or still fresh (unless one says Cache-Control:
	// no-cache). A full dump of many goroutines waits for the expensive
	// slot; the rest are writes in the profile budget: one at a time,
	// metered, into a buffer.
	debug = textDebug(name, debug)
	got := s.shared(r, name+"?debug="+strconv.Itoa(debug), g, func(buf *bytes.Buffer) error { return p.WriteTo(buf, debug) })
	switch {
	case got.ref != nil:
		got.ref.busy(w)
		return
	case got.err != nil && r.Context().Err() != nil:
		return // the client left
	case got.err != nil:
		s.cfg.logger.Warn("admin: write profile", "profile", name, "err", got.err)
		httpError(w, http.StatusInternalServerError, "admin: writing the profile failed")
		return
	}
	s.profileHeaders(w, name, debug)
	ageHeaders(w.Header(), got)
	_, _ = w.Write(got.body)
}

// shared returns the answer of write for key: a fresh one from s.reuse, or
// a new one written in the expensive slot g (when g is not nil) or else in
// the profile budget. A request with Cache-Control: no-cache gets a new
// answer, which later requests may share.
func (s *Server) shared(r *http.Request, key string, g *guard, write func(*bytes.Buffer) error) *written {
	if ref := s.answers.take(r.Context()); ref != nil {
		return &written{ref: ref}
	}
	// The write serves everyone who joins it: its wait does not end when
	// the first asker leaves (it is bounded all the same).
	ctx := context.WithoutCancel(r.Context())
	do := func() ([]byte, time.Duration, *refusal, error) {
		var buf bytes.Buffer
		var err error
		var c cost
		if g != nil {
			release, ref := g.acquire(ctx, time.Second)
			if ref != nil {
				return nil, 0, ref, nil
			}
			defer release()
			// Not at a lowered priority: a full dump stops the world.
			c = measureHere(func() { err = write(&buf) })
		} else {
			t, ref := s.writes.admit(ctx)
			if ref != nil {
				return nil, 0, ref, nil
			}
			defer t.done()
			c = t.run(func() { err = write(&buf) })
		}
		return buf.Bytes(), s.writes.reuseFor(c), nil, err
	}
	if noCache(r) {
		return s.reuse.renew(r.Context(), key, do)
	}
	return s.reuse.do(r.Context(), key, do)
}

// noCache reports whether r asks for a new answer (RFC 9111
// Cache-Control: no-cache, or Pragma: no-cache).
func noCache(r *http.Request) bool {
	for _, v := range r.Header.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-cache") {
				return true
			}
		}
	}
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Pragma")), "no-cache")
}

// textDebug maps ?debug= to the values that write different answers, so
// that requests for the same answer share it: 0 (protobuf), 1 (text) and,
// for goroutine profiles, 2 (the full dump). A negative value means text
// to heap and allocs and protobuf to the rest, as in runtime/pprof.
func textDebug(name string, debug int) int {
	switch {
	case debug == 0, debug < 0 && name != "heap" && name != "allocs":
		return 0
	case debug >= 2 && (name == "goroutine" || name == "goroutineleak"):
		return 2
	}
	return 1
}

// cheapDump is the goroutine count up to which a full goroutine dump
// (goroutine?debug=2, the grouped page) is not an expensive request: it
// stops the world for well under a few milliseconds, so it runs in the
// profile budget instead of waiting for the expensive slot.
const cheapDump = 1000

func (s *Server) profileHeaders(w http.ResponseWriter, name string, debug int) {
	if debug > 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		attachment(w, name)
	}
}

// writeProfile streams p to w (inside the expensive slot, which already
// runs one at a time).
func (s *Server) writeProfile(w http.ResponseWriter, p *pprof.Profile, debug int) {
	s.profileHeaders(w, p.Name(), debug)
	if err := p.WriteTo(w, debug); err != nil {
		s.cfg.logger.Warn("admin: write profile", "profile", p.Name(), "err", err)
	}
}

// defaultGCFresh is how recent a completed GC cycle must be for heap?gc=1
// to use it instead of forcing one.
const defaultGCFresh = time.Second

// heapGC prepares heap?gc=1 (and allocs?gc=1): the heap profile is as of
// the last completed GC cycle, so when one completed within gcFresh it is
// used as is; otherwise a GC is forced, at most one per gcInterval, else
// the request gets 429 with Retry-After. X-Vitals-GC says which. It reports
// false when it has written the 429.
func (s *Server) heapGC(w http.ResponseWriter) bool {
	var st debug.GCStats // ReadGCStats takes the heap lock, no stop-the-world
	debug.ReadGCStats(&st)
	if age := time.Since(st.LastGC); st.NumGC > 0 && age < s.cfg.gcFresh {
		w.Header().Set("X-Vitals-GC", "skipped: last cycle "+age.Round(time.Millisecond).String()+" ago")
		return true
	}
	now := time.Now()
	if iv := s.cfg.gcInterval; iv > 0 {
		if last := s.lastForcedGC.Load(); last != 0 {
			if wait := time.Unix(0, last).Add(iv).Sub(now); wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				w.Header().Set("X-Vitals-GC", "refused: at most one forced GC per "+iv.String())
				httpError(w, http.StatusTooManyRequests, "admin: a GC was forced less than "+iv.String()+
					" ago; retry later, or leave out gc=1 for the profile as of the last cycle")
				return false
			}
		}
	}
	s.lastForcedGC.Store(now.UnixNano())
	w.Header().Set("X-Vitals-GC", "forced")
	//vitals:ignore gccall ?gc=1 asks for a heap profile of live objects only, as net/http/pprof does; one at a time behind a guard, rate-limited, skipped after a recent cycle
	runtime.GC()
	return true
}

// deltaProfile serves what a profile gained over ?seconds= (capped): it
// takes the profile, waits, takes it again and subtracts, as
// "go tool pprof -seconds N" expects for heap, allocs, block, mutex and
// goroutine. Cost: two profile reads and a merge; one at a time.
func (s *Server) deltaProfile(w http.ResponseWriter, r *http.Request, p *pprof.Profile, debug int) {
	if debug != 0 {
		httpError(w, http.StatusBadRequest, "admin: seconds= needs the binary format (no debug=)")
		return
	}
	if p.Name() == "goroutineleak" {
		httpError(w, http.StatusBadRequest, "admin: goroutineleak has no delta form")
		return
	}
	d, release, ok := s.admitTimed(w, r, guardDelta, 30*time.Second)
	if !ok {
		return
	}
	defer release()
	// Writing, parsing and merging the two profiles is CPU work at the
	// lowest priority, as the profile budget's writes are (measure).
	read := func() (pr *profile.Profile, err error) {
		measure(func() {
			var b bytes.Buffer
			if err = p.WriteTo(&b, 0); err == nil {
				pr, err = profile.Parse(&b)
			}
		})
		return pr, err
	}
	p0, err := read()
	if err != nil {
		s.cfg.logger.Warn("admin: delta profile", "profile", p.Name(), "err", err)
		httpError(w, http.StatusInternalServerError, "admin: reading the profile failed")
		return
	}
	sleep(r.Context(), d)
	if r.Context().Err() != nil {
		return // the client left or the server is shutting down
	}
	p1, err := read()
	if err != nil {
		s.cfg.logger.Warn("admin: delta profile", "profile", p.Name(), "err", err)
		httpError(w, http.StatusInternalServerError, "admin: reading the profile failed")
		return
	}
	var out bytes.Buffer
	measure(func() {
		p0.Scale(-1)
		var diff *profile.Profile
		if diff, err = profile.Merge([]*profile.Profile{p0, p1}); err != nil {
			return
		}
		diff.TimeNanos = p1.TimeNanos
		diff.DurationNanos = p1.TimeNanos - p0.TimeNanos
		err = diff.Write(&out)
	})
	if err != nil {
		s.cfg.logger.Warn("admin: delta profile", "profile", p.Name(), "err", err)
		httpError(w, http.StatusInternalServerError, "admin: computing the delta failed")
		return
	}
	attachment(w, p.Name()+"-delta")
	_, _ = w.Write(out.Bytes())
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>/debug/pprof/</title>
<style>body{font-family:sans-serif;margin:1.5em}td{padding:.15em .8em}td.n{text-align:right}</style></head>
<body><h1>/debug/pprof/</h1>
<p>Profiles of this process. Append <code>?debug=1</code> for text; heap and allocs take <code>?gc=1</code>.</p>
<table>
<tr><th>count</th><th>profile</th><th></th></tr>
{{range .Profiles}}<tr><td class="n">{{.Count}}</td><td><a href="{{.Href}}">{{.Name}}</a></td><td>{{.Doc}}</td></tr>
{{end}}</table>
<h2>Other routes</h2><ul>
{{range .Routes}}<li><a href="{{.Pattern}}">{{.Pattern}}</a>: {{.Summary}}{{if .Expensive}} (expensive: one expensive request of any kind at a time){{end}}</li>
{{end}}</ul></body></html>
`))

type indexProfile struct {
	Name, Href, Doc string
	Count           int
}

var profileDocs = map[string]string{
	"allocs":        "sampled allocations since start",
	"block":         "stack traces that blocked on synchronization (needs runtime.SetBlockProfileRate)",
	"goroutine":     "stacks of every goroutine; debug=2 is the full dump (stops the world)",
	"goroutineleak": "goroutines the GC proved blocked forever (runs a GC)",
	"heap":          "sampled live objects; gc=1 runs a GC first unless one ended in the last second (at most one forced GC per interval)",
	"mutex":         "holders of contended mutexes (needs runtime.SetMutexProfileFraction)",
	"threadcreate":  "stacks that created OS threads",
}

// pprofIndex lists every profile the runtime has (pprof.Profiles, so
// goroutineleak appears when the toolchain provides it) and the other routes.
// Cost: one count per profile, cheap.
func (s *Server) pprofIndex(w http.ResponseWriter, r *http.Request) {
	var ps []indexProfile
	for _, p := range pprof.Profiles() {
		ps = append(ps, indexProfile{Name: p.Name(), Href: p.Name() + "?debug=1", Doc: profileDocs[p.Name()], Count: p.Count()})
	}
	ps = append(ps,
		indexProfile{Name: "profile", Href: "profile?seconds=30", Doc: "CPU profile; ?seconds=N (capped)"},
		indexProfile{Name: "trace", Href: "trace?seconds=1", Doc: "execution trace; ?seconds=N (capped)"},
	)
	if s.cfg.cmdline {
		ps = append(ps, indexProfile{Name: "cmdline", Href: "cmdline", Doc: "the command line"})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTmpl.Execute(w, struct {
		Profiles []indexProfile
		Routes   []Route
	}{ps, s.Routes()}); err != nil {
		s.cfg.logger.Warn("admin: index", "err", err)
	}
}
