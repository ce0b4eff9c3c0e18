package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/govitals/vitals/metrics"
)

//go:embed web/index.html web/app.js web/style.css web/uplot/uPlot.iife.min.js web/uplot/uPlot.min.css web/uplot/LICENSE
var webFS embed.FS

// assets are the files served next to the page, by base name.
var assets = map[string]struct{ file, ctype string }{
	"app.js":            {"web/app.js", "text/javascript; charset=utf-8"},
	"style.css":         {"web/style.css", "text/css; charset=utf-8"},
	"uPlot.iife.min.js": {"web/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
	"uPlot.min.css":     {"web/uplot/uPlot.min.css", "text/css; charset=utf-8"},
	"uPlot.LICENSE":     {"web/uplot/LICENSE", "text/plain; charset=utf-8"},
}

// csp keeps the page to its own origin: no inline script, no third party.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// clientBuffer is how many samples may wait for a slow page before it
// misses some.
const clientBuffer = 16

// writeTimeout bounds one write to a page: a page that stops reading is
// dropped after it.
const writeTimeout = 10 * time.Second

// Dashboard serves the page, its assets and the event stream, and samples
// the runtime only while at least one page is connected. Create it with
// [New]; it is safe for concurrent use.
type Dashboard struct {
	cfg    config
	closed chan struct{} // closed by Close: streams end

	mu       sync.Mutex
	clients  map[*client]struct{}
	stop     chan struct{} // closes to end the current run; nil when none
	done     chan struct{} // closed when the latest run's goroutine has exited
	history  [][]byte      // ring of encoded samples of the current run
	histNext int
	isClosed bool

	running atomic.Int32  // sampling goroutines alive (0 or 1, briefly 2 at a restart)
	samples atomic.Uint64 // samples taken since New

	tick chan chan struct{} // tests and benchmarks: sample now; nil in production
}

type client struct {
	ch      chan []byte
	dropped atomic.Uint64
}

// New returns a dashboard. It starts nothing: sampling begins when the first
// page connects. It fails on invalid options.
func New(opts ...Option) (*Dashboard, error) {
	c := config{interval: DefaultInterval, history: DefaultHistory, maxStreams: DefaultMaxStreams, lifetime: DefaultStreamLifetime}
	for _, o := range opts {
		if o == nil {
			c.errs = append(c.errs, errors.New("dashboard: nil option"))
			continue
		}
		o.apply(&c)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{cfg: c, closed: make(chan struct{}), clients: map[*client]struct{}{}}
	done := make(chan struct{})
	close(done)
	d.done = done
	return d, nil
}

// Handler is [New] for callers that want an [http.Handler] and no error:
// invalid options give a handler that answers 500 with the error.
func Handler(opts ...Option) http.Handler {
	d, err := New(opts...)
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	return d
}

// Summary says what the dashboard serves, for the admin server's route
// table.
func (d *Dashboard) Summary() string {
	return fmt.Sprintf("live dashboard: charts of goroutines, memory, GC and scheduling, sampled every %v only while a page is open; at most %d event streams",
		d.cfg.interval, d.cfg.maxStreams)
}

// ServeHTTP serves the page at any path ending in "/", its assets and the
// event stream ("events") next to it. Mount it at a subtree pattern such as
// "/debug/vitals/".
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "dashboard: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if strings.HasSuffix(p, "/") || p == "" {
		d.servePage(w, r)
		return
	}
	name := path.Base(p)
	if name == "events" {
		d.serveEvents(w, r)
		return
	}
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(webFS, a.file)
	if err != nil {
		http.Error(w, "dashboard: missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

func (d *Dashboard) servePage(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(webFS, "web/index.html")
	if err != nil {
		http.Error(w, "dashboard: missing page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}

// hello is the first event of a stream.
type hello struct {
	Fields     []string        `json:"fields"`
	IntervalMS int64           `json:"interval_ms"`
	Report     *Report         `json:"report,omitempty"`
	ReportErr  string          `json:"report_error,omitempty"`
	Watchdog   bool            `json:"watchdog"`
	History    json.RawMessage `json:"history"`
	Incidents  []incidentMark  `json:"incidents,omitempty"`
}

// incidentMark is an [Incident] on the wire: t in unix seconds, as the
// charts' time axis.
type incidentMark struct {
	T       float64 `json:"t"`
	Trigger string  `json:"trigger"`
	Reason  string  `json:"reason,omitempty"`
}

// incidentsMsg is the stream message that replaces the page's incident
// marks (samples are JSON arrays; this is an object).
type incidentsMsg struct {
	Incidents []incidentMark `json:"incidents"`
}

// incidentMarks calls the provider (recovering a panic: ok false) and
// returns at most the latest MaxIncidentMarks, oldest first, with a
// fingerprint that changes when the list does.
func (d *Dashboard) incidentMarks() (marks []incidentMark, fp [2]int64, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			d.cfg.logger.Warn("dashboard: incidents provider panicked", "panic", fmt.Sprint(p))
			marks, ok = nil, false
		}
	}()
	in := d.cfg.incidents()
	in = slices.Clone(in)
	slices.SortStableFunc(in, func(a, b Incident) int { return a.Time.Compare(b.Time) })
	if len(in) > MaxIncidentMarks {
		in = in[len(in)-MaxIncidentMarks:]
	}
	marks = make([]incidentMark, 0, len(in))
	for _, x := range in {
		marks = append(marks, incidentMark{T: float64(x.Time.UnixMilli()) / 1000, Trigger: x.Trigger, Reason: x.Reason})
	}
	fp[0] = int64(len(in))
	if len(in) > 0 {
		fp[1] = in[len(in)-1].Time.UnixNano()
	}
	return marks, fp, true
}

func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The admin server's read and write timeouts are made for requests that
	// end; a stream does not. Clear the read deadline (when it fires, the
	// server cancels the request) and bound each write instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")

	c := &client{ch: make(chan []byte, clientBuffer)}
	hist, err := d.join(c)
	if errors.Is(err, errTooManyStreams) {
		h.Del("Content-Type")
		h.Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer d.leave(c)
	d.cfg.logger.Debug("dashboard: page connected", "remote", r.RemoteAddr)

	var buf bytes.Buffer
	buf.WriteString("retry: 3000\n\nevent: hello\ndata: ")
	hl := hello{Fields: fields, IntervalMS: d.cfg.interval.Milliseconds(), Watchdog: d.cfg.watchdog != nil}
	if d.cfg.incidents != nil {
		hl.Incidents, _, _ = d.incidentMarks()
	}
	if d.cfg.report != nil {
		rep, err := safeReport(d.cfg.report)
		if err != nil {
			hl.ReportErr = err.Error()
		} else {
			hl.Report = &rep
		}
	}
	var hb []byte
	hb = append(hb, '[')
	for i, s := range hist {
		if i > 0 {
			hb = append(hb, ',')
		}
		hb = append(hb, s...)
	}
	hl.History = append(hb, ']')
	if err := json.NewEncoder(&buf).Encode(hl); err != nil { // ends in '\n'
		http.Error(w, "dashboard: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	buf.WriteString("\n")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		d.cfg.logger.Warn("dashboard: the response writer cannot flush; the page gets no live data", "err", err)
		return
	}
	line := make([]byte, 0, 512)
	end := time.NewTimer(d.cfg.lifetime)
	defer end.Stop()
	for {
		select {
		case <-end.C:
			return // the page reconnects (retry: 3000); a dead client does not
		case <-r.Context().Done():
			return
		case <-d.closed:
			return
		case s := <-c.ch:
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			line = append(append(append(line[:0], "data: "...), s...), "\n\n"...)
			if _, err := w.Write(line); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

func safeReport(f func() Report) (r Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("dashboard: report provider panicked: %v", p)
		}
	}()
	return f(), nil
}

var errTooManyStreams = errors.New("dashboard: too many open event streams; close another page or retry later")

// join adds c and starts sampling if c is the first page. It returns the
// history of the current run, oldest first.
func (d *Dashboard) join(c *client) ([][]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.isClosed {
		return nil, errors.New("dashboard: closed")
	}
	if len(d.clients) >= d.cfg.maxStreams {
		return nil, errTooManyStreams
	}
	d.clients[c] = struct{}{}
	if d.stop == nil {
		stop, done, prevDone := make(chan struct{}), make(chan struct{}), d.done
		d.stop, d.done = stop, done
		d.history, d.histNext = d.history[:0], 0
		d.running.Add(1)
		go d.run(stop, done, prevDone)
	}
	out := make([][]byte, 0, len(d.history))
	if len(d.history) == d.cfg.history {
		out = append(out, d.history[d.histNext:]...)
		out = append(out, d.history[:d.histNext]...)
	} else {
		out = append(out, d.history...)
	}
	return out, nil
}

// leave removes c and stops sampling when it was the last page. It does not
// wait for the sampling goroutine, which exits at once.
func (d *Dashboard) leave(c *client) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.clients, c)
	if len(d.clients) == 0 && d.stop != nil {
		close(d.stop)
		d.stop = nil
		d.history = nil
	}
}

// Clients returns the number of pages connected now.
func (d *Dashboard) Clients() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.clients)
}

// Sampling reports whether the sampling goroutine is running. It becomes
// true when the first page connects and false shortly after the last one
// leaves.
func (d *Dashboard) Sampling() bool { return d.running.Load() > 0 }

// Samples returns the number of samples taken since [New].
func (d *Dashboard) Samples() uint64 { return d.samples.Load() }

// Close ends every event stream, stops sampling and waits for the sampling
// goroutine to exit. Later page loads get the page but no data. It is
// idempotent.
func (d *Dashboard) Close() error {
	d.mu.Lock()
	if !d.isClosed {
		d.isClosed = true
		close(d.closed)
		if d.stop != nil {
			close(d.stop)
			d.stop = nil
		}
	}
	done := d.done
	d.mu.Unlock()
	<-done
	return nil
}

// run samples until stop closes. It waits for the previous run to end so
// that at most one sampler is open.
func (d *Dashboard) run(stop, done, prevDone chan struct{}) {
	defer close(done)
	defer d.running.Add(-1)
	select {
	case <-prevDone:
	case <-stop:
		return
	}
	s, err := metrics.New(metrics.WithMinInterval(0), metrics.WithLogger(d.cfg.logger))
	if err != nil {
		d.cfg.logger.Warn("dashboard: no sampler", "err", err)
		return
	}
	defer func() { _ = s.Close() }()
	st := &runState{ix: newIndexes(s)}
	d.sample(s, st, stop)
	var (
		tc   <-chan time.Time
		tick <-chan chan struct{}
	)
	if d.tick != nil {
		tick = d.tick
	} else {
		t := time.NewTicker(d.cfg.interval)
		defer t.Stop()
		tc = t.C
	}
	for {
		select {
		case <-stop:
			return
		case <-tc:
			d.sample(s, st, stop)
		case ack := <-tick:
			d.sample(s, st, stop)
			close(ack)
		}
	}
}

// runState is what one sampling run carries from sample to sample.
type runState struct {
	ix indexes
	pv prev
	p  point
	// incFP is the fingerprint of the incident list the pages have.
	incFP  [2]int64
	incSet bool
}

// sample reads once (a View on a sampler without minimum interval), encodes once and hands the bytes to every page.
// A panic is logged and costs this sample only.
func (d *Dashboard) sample(s *metrics.Sampler, st *runState, stop chan struct{}) {
	defer func() {
		if p := recover(); p != nil {
			d.cfg.logger.Warn("dashboard: sample failed", "panic", fmt.Sprint(p))
		}
	}()
	var wd *Watchdog
	if d.cfg.watchdog != nil {
		if w, ok := safeWatchdog(d.cfg.watchdog, d.cfg.logger); ok {
			wd = &w
		}
	}
	s.View(func(sn *metrics.Snapshot) { compute(&st.p, sn, &st.ix, &st.pv, wd) })
	d.samples.Add(1)
	enc := appendPoint(make([]byte, 0, 320), &st.p)
	var incEnc []byte // the incident list, when it changed
	if d.cfg.incidents != nil {
		if marks, fp, ok := d.incidentMarks(); ok && (!st.incSet || fp != st.incFP) {
			st.incFP, st.incSet = fp, true
			if b, err := json.Marshal(incidentsMsg{Incidents: marks}); err == nil {
				incEnc = b
			}
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != stop {
		return // the run ended while this sample was taken
	}
	if d.cfg.history > 0 {
		if len(d.history) < d.cfg.history {
			d.history = append(d.history, enc)
		} else {
			d.history[d.histNext] = enc
			d.histNext = (d.histNext + 1) % d.cfg.history
		}
	}
	for c := range d.clients {
		if incEnc != nil {
			select {
			case c.ch <- incEnc:
			default:
				// A slow page misses this list; the page connecting
				// again gets it in its hello.
				c.dropped.Add(1)
			}
		}
		select {
		case c.ch <- enc:
		default:
			c.dropped.Add(1) // a slow page misses this sample
		}
	}
}

func safeWatchdog(f func() Watchdog, l *slog.Logger) (w Watchdog, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			l.Warn("dashboard: watchdog provider panicked", "panic", fmt.Sprint(p))
			ok = false
		}
	}()
	return f(), true
}
