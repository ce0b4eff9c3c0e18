package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Route describes one registered route, as listed by [Server.Routes].
type Route struct {
	// Pattern is the [http.ServeMux] pattern.
	Pattern string `json:"pattern"`
	// Summary says what the route serves.
	Summary string `json:"summary"`
	// Expensive routes run at most one request at a time, together with
	// every other expensive route; others wait their turn, within bounds,
	// then get 429.
	Expensive bool `json:"expensive,omitempty"`
}

// Server is the admin HTTP server: its own [http.ServeMux] behind
// authentication, never [http.DefaultServeMux]. Create it with [New].
type Server struct {
	cfg     config
	auth    *authenticator
	mux     *http.ServeMux
	handler http.Handler
	started time.Time

	guards map[string]*guard
	// writes meters profile writes and symbol lookups as one class;
	// scrapes meters /metrics.
	writes, scrapes *budget
	// answers paces the profile class's answers, shared ones included.
	answers *pacer
	reuse   *reuse // answers of profile writes, shared while fresh
	// lastForcedGC is when heap?gc=1 last forced a GC (UnixNano, 0 never).
	lastForcedGC atomic.Int64

	routesMu sync.Mutex
	routes   []Route

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	cancel   context.CancelFunc // cancels every request's context
	serveErr chan error
	closed   bool
}

// Guard names: the expensive kinds, which share one slot (one running
// request of any kind at a time).
const (
	guardProfile    = "cpu profile"
	guardTrace      = "trace"
	guardGoroutines = "goroutine dump"
	guardHeapGC     = "heap gc"
	guardFlight     = "flight snapshot"
	guardLeak       = "goroutine leak profile"
	guardDelta      = "delta profile"
)

// New validates the options and builds the server without listening. It
// refuses a non-loopback address without authentication unless
// [WithInsecure] is given. Building costs nothing at run time: no goroutine
// starts until [Server.Start].
func New(opts ...Option) (*Server, error) {
	c := config{
		addr:         DefaultAddr,
		maxDuration:  30 * time.Second,
		gcInterval:   DefaultForcedGCInterval,
		gcFresh:      defaultGCFresh,
		expensiveGap: DefaultExpensiveInterval,
		budget:       10000,
		getenv:       os.Getenv,
		listen:       net.Listen,
		expWait:      DefaultExpensiveWait,
		expQueue:     4,
		writeBudget:  DefaultProfileBudget,
		maxInflight:  8,
		reuseMax:     DefaultProfileReuse,
		answerRate:   DefaultProfileAnswers,
	}
	for _, o := range opts {
		o.apply(&c)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	var err0 error
	switch {
	case c.tokenSet:
		if c.token, err0 = checkToken(c.token, "WithBearerToken"); err0 != nil {
			return nil, err0
		}
	case c.getenv(TokenEnv) != "":
		if c.token, err0 = checkToken(c.getenv(TokenEnv), "$"+TokenEnv); err0 != nil {
			return nil, err0
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return nil, fmt.Errorf("admin: address %q: %w", c.addr, err)
	}
	s := &Server{cfg: c, auth: newAuthenticator(&c), mux: http.NewServeMux(), started: time.Now()}
	if !isLoopback(host) && !s.auth.enabled() && len(c.middleware) == 0 && !c.insecure {
		return nil, fmt.Errorf("admin: refusing to serve on non-loopback address %s without authentication "+
			"(use WithBearerToken, WithBasicAuth, WithMiddleware or %s, or WithInsecure)", c.addr, TokenEnv)
	}
	if c.gatherer == nil {
		reg := prometheus.NewRegistry()
		_ = reg.Register(collectors.NewGoCollector())
		_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		s.cfg.gatherer = reg
	}
	sl := newSlot(c.expensiveGap, c.expWait, c.expQueue)
	s.guards = map[string]*guard{}
	for _, n := range []string{guardProfile, guardTrace, guardGoroutines, guardHeapGC, guardFlight, guardLeak, guardDelta} {
		s.guards[n] = &guard{name: n, slot: sl}
	}
	s.writes = newBudget("profile", c.writeBudget, c.maxInflight)
	s.scrapes = newBudget("metrics", c.writeBudget, c.maxInflight)
	s.reuse = newReuse(c.reuseMax)
	s.answers = newPacer(c.answerRate, c.maxInflight)
	if err := s.register(); err != nil {
		return nil, err
	}
	for _, e := range c.extra {
		if err := s.handle(e.pattern, e.summary, false, e.h); err != nil {
			return nil, err
		}
	}
	var h http.Handler = originCheck(s.mux)
	h = s.auth.wrap(h, !c.healthzAuth)
	if !s.Authenticated() {
		h = hostCheck(c.allowedHosts, h)
	}
	for i := len(c.middleware) - 1; i >= 0; i-- {
		h = c.middleware[i](h)
	}
	s.handler = recoverer(c.logger, h)
	return s, nil
}

// isLoopback reports whether host (from host:port) names a loopback
// address. "localhost" passes here by name; [Server.Start] checks the
// address the listener really bound, whatever the name resolved to.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// register adds the built-in routes.
func (s *Server) register() error {
	metrics := promhttp.HandlerFor(s.cfg.gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelWarn),
	})
	routes := []struct {
		pattern, summary string
		expensive        bool
		h                http.HandlerFunc
	}{
		{"/debug/pprof/", "pprof index and named profiles (heap, allocs, goroutine, block, mutex, threadcreate, goroutineleak when present); ?debug=N for text; plain profiles share the profile budget, and one answer while fresh (Age; Cache-Control: no-cache for a new one); ?gc=1, goroutine?debug=2 above 1,000 goroutines and ?seconds=N (a delta) are expensive", false, s.pprofNamed},
		{"/debug/pprof/profile", "CPU profile for ?seconds=N (default 30, capped); about 1% CPU while it runs", true, s.pprofProfile},
		{"/debug/pprof/trace", "execution trace for ?seconds=N (default 1, capped); a few % CPU and MB/s of output", true, s.pprofTrace},
		{"/debug/pprof/symbol", "function names of program counters, for go tool pprof; POST up to 1 MiB, 65,536 addresses; in the profile budget", false, s.pprofSymbol},
		{"/metrics", "Prometheus metrics, text or OpenMetrics; gathered in a budget of its own", false, s.budgeted(s.scrapes, metrics)},
		{"/healthz", "liveness: \"ok\", no work; open without credentials unless WithHealthzAuth", false, s.healthz},
		{"/debug/vitals", "JSON: start-up report, live state from runtime/metrics (no stop-the-world), routes", false, s.vitalsState},
		{"/debug/vitals/goroutines", "goroutines grouped by stack, ?format=text|json|html; a full dump up to the goroutine budget (stop-the-world, about 50 ms per 10,000 goroutines), the goroutine profile above it (no long pause; no IDs, states or created-by) unless force=1", true, s.goroutines},
		{"/debug/vitals/trace", "bounded execution trace for ?seconds=N (default 5, capped); ?save=1 keeps it in the trace directory and answers its name", true, s.vitalsTrace},
		{"/debug/vitals/flight", "flight-recorder snapshot of the last seconds, rate-limited; ?reason= names it", true, s.flight},
	}
	if s.cfg.cmdline {
		routes = append(routes, struct {
			pattern, summary string
			expensive        bool
			h                http.HandlerFunc
		}{"/debug/pprof/cmdline", "command line of the process, NUL-separated (WithCmdline; may hold secrets)", false, s.pprofCmdline})
	}
	for _, r := range routes {
		if err := s.handle(r.pattern, r.summary, r.expensive, r.h); err != nil {
			return err
		}
	}
	return nil
}

// budgeted serves h inside budget b: h writes into a buffer while it holds
// the budget, and the buffer is sent after.
func (s *Server) budgeted(b *budget, h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ref := b.admit(r.Context())
		if ref != nil {
			ref.busy(w)
			return
		}
		defer t.done()
		bw := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
		t.run(func() { h.ServeHTTP(bw, r) })
		for k, v := range bw.header {
			w.Header()[k] = v
		}
		w.WriteHeader(bw.code)
		_, _ = w.Write(bw.body.Bytes())
	}
}

// bufferedWriter is an http.ResponseWriter into memory.
type bufferedWriter struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// handle registers h; ServeMux panics on conflicting patterns, which becomes
// an error here.
func (s *Server) handle(pattern, summary string, expensive bool, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("admin: register %q: %v", pattern, p)
		}
	}()
	s.mux.Handle(pattern, h)
	s.routesMu.Lock()
	s.routes = append(s.routes, Route{Pattern: pattern, Summary: summary, Expensive: expensive})
	s.routesMu.Unlock()
	return nil
}

// Handle serves h at pattern behind the server's authentication, like
// [WithHandler], after New: this is the hook for mounting a dashboard
// ("/debug/vitals/") on a running server. It fails on a pattern that
// conflicts with a registered one.
func (s *Server) Handle(pattern string, h http.Handler) error {
	if pattern == "" || h == nil {
		return errors.New("admin: handle needs a pattern and a handler")
	}
	return s.handle(pattern, summaryOf(h), false, h)
}

// summaryOf is h's Summary() when it has one (the vitals dashboard does),
// else a summary that says where the route came from.
func summaryOf(h http.Handler) string {
	if sh, ok := h.(interface{ Summary() string }); ok {
		if s := sh.Summary(); s != "" {
			return s
		}
	}
	return fmt.Sprintf("handler mounted by the application (%T)", h)
}

// Routes lists every registered route, sorted by pattern.
func (s *Server) Routes() []Route {
	s.routesMu.Lock()
	out := append([]Route(nil), s.routes...)
	s.routesMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// Handler returns the authenticated handler of every route, for serving the
// admin routes from a server of your own (on a port that is not public).
// Without credentials it answers only requests whose Host is a loopback
// address, "localhost" or a name given to [WithAllowedHosts] (421
// otherwise), wherever it is served.
// Requests are cut short when Shutdown or Close is called only if the server
// was started with Start.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on the configured address and serves in a new goroutine. A
// bind failure (port taken, permission) is returned, so the caller can log
// it and carry on without the admin server. Start after Start or Close
// fails.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("admin: server closed")
	}
	if s.srv != nil {
		return errors.New("admin: server already started")
	}
	ln, err := s.cfg.listen("tcp", s.cfg.addr)
	if err != nil {
		return fmt.Errorf("admin: listen %s: %w", s.cfg.addr, err)
	}
	// Decide loopback-ness on the bound address, not the name: a hosts
	// file can map "localhost" anywhere.
	if !s.Authenticated() && !s.cfg.insecure && !boundLoopback(ln.Addr()) {
		_ = ln.Close()
		return fmt.Errorf("admin: %s resolved to %s, which is not a loopback address; refusing to serve without authentication "+
			"(use WithBearerToken, WithBasicAuth, WithMiddleware or %s, or WithInsecure)", s.cfg.addr, ln.Addr(), TokenEnv)
	}
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long enough for the longest capped profile or trace.
		WriteTimeout: s.cfg.maxDuration + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelWarn),
		BaseContext:  func(net.Listener) context.Context { return base },
	}
	s.serveErr = make(chan error, 1)
	srv := s.srv
	go func() {
		err := srv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.logger.Warn("admin: server stopped", "addr", ln.Addr().String(), "err", err)
		}
		s.serveErr <- err
	}()
	s.cfg.logger.Info("admin: listening", "addr", ln.Addr().String(), "auth", s.Authenticated())
	return nil
}

// boundLoopback reports whether a listener's address is a loopback IP.
func boundLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP != nil && ta.IP.IsLoopback()
}

// Authenticated reports whether the server requires credentials (a token,
// basic auth or user middleware).
func (s *Server) Authenticated() bool { return s.auth.enabled() || len(s.cfg.middleware) > 0 }

// Addr returns the address the server listens on (useful with port 0), or
// the configured address before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.addr
}

// Shutdown stops accepting connections, cancels running profiles and traces
// (they end early with what they captured) and waits for responses to finish
// or ctx to end. It is safe to call on a server that never started.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, cancel := s.srv, s.cancel
	s.closed = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}

// Close stops the server at once, dropping open connections. It is
// idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, cancel := s.srv, s.cancel
	s.closed = true
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	cancel()
	if err := srv.Close(); err != nil {
		return fmt.Errorf("admin: close: %w", err)
	}
	return nil
}

// recoverer turns a panic in a handler into a logged 500, so a bug in an
// admin route never takes the service down.
func recoverer(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				buf := make([]byte, 8<<10)
				buf = buf[:runtime.Stack(buf, false)]
				l.Error("admin: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(buf))
				httpError(w, http.StatusInternalServerError, "admin: internal error")
			}
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// httpError writes a plain-text error. Messages never hold request data.
func httpError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}
