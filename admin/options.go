package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govitals/vitals/tracecap"
)

// Option configures a [Server]. Options are made by the functions of this
// package; [New] reports the first invalid one.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// TokenEnv is the environment variable [New] reads a bearer token from when
// no [WithBearerToken] option is given.
const TokenEnv = "VITALS_ADMIN_TOKEN"

// DefaultAddr is where the server listens unless [WithAddr] says otherwise:
// loopback only.
const DefaultAddr = "127.0.0.1:6060"

type extraRoute struct {
	pattern string
	summary string
	h       http.Handler
}

type config struct {
	addr         string
	token        string
	tokenSet     bool
	user, pass   string
	basicSet     bool
	middleware   []func(http.Handler) http.Handler
	insecure     bool
	logger       *slog.Logger
	maxDuration  time.Duration
	budget       int
	gcInterval   time.Duration
	gcFresh      time.Duration // seam: tests set 0 to always force
	expensiveGap time.Duration
	gatherer     prometheus.Gatherer
	report       func() any
	state        []namedState
	recorder     *tracecap.Recorder
	traceDir     *tracecap.Dir
	extra        []extraRoute
	cmdline      bool
	getenv       func(string) string                              // seam
	listen       func(network, addr string) (net.Listener, error) // seam
	allowedHosts map[string]bool
	healthzAuth  bool
	expWait      time.Duration
	expQueue     int
	writeBudget  time.Duration
	reuseMax     time.Duration
	answerRate   int
	maxInflight  int
	errs         []error
}

type namedState struct {
	name string
	f    func() any
}

func (c *config) fail(err error) { c.errs = append(c.errs, err) }

// WithAddr sets the listen address (default [DefaultAddr]). An address that
// is not loopback ("0.0.0.0:6060", ":6060", a public IP or host name) needs
// authentication or [WithInsecure]; ":0" style ports pick a free port, see
// [Server.Addr].
func WithAddr(addr string) Option {
	return optionFunc(func(c *config) { c.addr = addr })
}

// WithBearerToken requires "Authorization: Bearer <token>" on every request.
// The comparison is constant-time. Without this option, the token comes from
// the VITALS_ADMIN_TOKEN environment variable when set. It can be combined
// with [WithBasicAuth]: either credential is then accepted.
//
// Whitespace around the token (the newline of a secret file read into the
// environment) is trimmed, here and from $VITALS_ADMIN_TOKEN, as it is from
// the incoming header, where HTTP drops it anyway. A token that is empty
// after trimming, or that holds whitespace or control characters inside,
// cannot be sent in a header as is: [New] refuses it.
func WithBearerToken(token string) Option {
	return optionFunc(func(c *config) {
		c.token, c.tokenSet = token, true
	})
}

// checkToken trims the token and refuses one no client could send.
func checkToken(tok, from string) (string, error) {
	t := strings.TrimSpace(tok)
	if t == "" {
		return "", fmt.Errorf("admin: empty bearer token (%s)", from)
	}
	for _, r := range t {
		if r <= ' ' || r == 0x7f {
			return "", fmt.Errorf("admin: bearer token (%s) holds whitespace or a control character inside; no client can send it", from)
		}
	}
	return t, nil
}

// WithBasicAuth requires HTTP basic authentication, which is what
// "go tool pprof http://user:pass@host:6060/debug/pprof/heap" and browsers
// send. Both fields are compared in constant time.
func WithBasicAuth(user, password string) Option {
	return optionFunc(func(c *config) {
		if user == "" || password == "" {
			c.fail(errors.New("admin: basic auth needs a user and a password"))
		}
		c.user, c.pass, c.basicSet = user, password, true
	})
}

// WithMiddleware wraps every route in mw, outermost first in the order given,
// for authentication the package does not know (mTLS identities, an OIDC
// proxy, a company SSO). It counts as authentication for the loopback rule:
// the server trusts mw to reject strangers. Token and basic auth, when also
// set, are checked inside mw.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return optionFunc(func(c *config) {
		if mw == nil {
			c.fail(errors.New("admin: nil middleware"))
			return
		}
		c.middleware = append(c.middleware, mw)
	})
}

// WithInsecure allows a non-loopback address without authentication. Anyone
// who reaches the port can then read source paths, heap contents and
// goroutine stacks, and start CPU profiles and traces. Use it only behind a
// network boundary you trust.
func WithInsecure() Option {
	return optionFunc(func(c *config) { c.insecure = true })
}

// WithLogger logs server errors and refused requests (Warn) to l. The default
// discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.fail(errors.New("admin: nil logger"))
			return
		}
		c.logger = l
	})
}

// WithMaxDuration caps the seconds= of CPU profiles and traces (default
// 30 s). Longer requests are clamped, and the response carries
// "X-Vitals-Duration-Capped: 1".
func WithMaxDuration(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.fail(fmt.Errorf("admin: max duration %v must be positive", d))
		}
		c.maxDuration = d
	})
}

// WithGoroutineBudget sets the goroutine count above which full goroutine
// dumps are not taken unless the request says force=1 (default 10,000): a
// full dump stops the world for roughly 50 ms per 10,000 goroutines. Above
// it goroutine?debug=2 is refused (413), and the grouped page
// /debug/vitals/goroutines is built from the goroutine profile (debug=1,
// collected without a long pause: stacks, counts and labels, but no IDs,
// states or created-by frames).
func WithGoroutineBudget(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.fail(fmt.Errorf("admin: goroutine budget %d must not be negative", n))
		}
		c.budget = n
	})
}

// DefaultExpensiveInterval is the shortest time between the starts of two
// expensive requests, and between the end of one and the start of the next,
// unless [WithExpensiveInterval] says otherwise. At 1 s (start to start
// only), a flood of one-second CPU profiles and traces kept the process
// profiled all the time and took the application's p99 to 2.1-2.9x idle
// (bench/admin, guarded kinds); at 2 s, resting after each, 1.21-1.55x in
// three 10-run series.
const DefaultExpensiveInterval = 2 * time.Second

// WithExpensiveInterval sets the shortest time between the starts of two
// expensive requests, and the rest after each one ends (default
// [DefaultExpensiveInterval]); one arriving sooner waits its turn as one
// arriving while another runs does (see [WithExpensiveWait]).
// Without it a burst of short expensive requests (heap?gc=1 after a recent
// cycle takes a few ms) would be admitted back to back, and each one's CPU
// (building and compressing a profile) queues the application's goroutines
// behind it. Zero admits the next one as soon as the previous ends.
func WithExpensiveInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail(fmt.Errorf("admin: expensive interval %v must not be negative", d))
		}
		c.expensiveGap = d
	})
}

// DefaultForcedGCInterval is how often heap?gc=1 may force a garbage
// collection unless [WithForcedGCInterval] says otherwise.
const DefaultForcedGCInterval = 30 * time.Second

// WithForcedGCInterval sets the shortest time between two GCs forced by one
// server's heap?gc=1 (or allocs?gc=1). Such a request is served without a
// forced GC when a cycle completed in the last second (the heap profile is
// as of the last completed cycle); otherwise, inside the interval, it gets
// 429 with Retry-After. Zero removes the
// limit. Each forced GC costs the process a full GC cycle, with the
// stop-the-world pauses of an ordinary one (a few ms with 10,000 goroutines).
func WithForcedGCInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < 0 {
			c.fail(fmt.Errorf("admin: forced GC interval %v must not be negative", d))
		}
		c.gcInterval = d
	})
}

// WithGatherer serves g at /metrics (for instance a registry holding the
// metrics/promexport collector). The default is a fresh registry with the
// client_golang Go and process collectors.
func WithGatherer(g prometheus.Gatherer) Option {
	return optionFunc(func(c *config) {
		if g == nil {
			c.fail(errors.New("admin: nil gatherer"))
			return
		}
		c.gatherer = g
	})
}

// WithReport makes /debug/vitals include report() under "report", typically
// the start-up report of vitals.Setup. It is called on every request.
func WithReport(report func() any) Option {
	return optionFunc(func(c *config) { c.report = report })
}

// WithState adds f() under name in the "state" object of /debug/vitals, for
// live state such as the leak watchdog's. f is called on every request and
// must be cheap; a panic in f is reported as an error string, not a crash.
func WithState(name string, f func() any) Option {
	return optionFunc(func(c *config) {
		if name == "" || f == nil {
			c.fail(errors.New("admin: state needs a name and a function"))
			return
		}
		c.state = append(c.state, namedState{name, f})
	})
}

// WithFlightRecorder serves snapshots of r at /debug/vitals/flight. The
// caller starts and closes r.
func WithFlightRecorder(r *tracecap.Recorder) Option {
	return optionFunc(func(c *config) { c.recorder = r })
}

// WithTraceDir lets /debug/vitals/trace?save=1 write traces into d instead
// of the response.
func WithTraceDir(d *tracecap.Dir) Option {
	return optionFunc(func(c *config) { c.traceDir = d })
}

// WithHandler serves h at pattern (a [http.ServeMux] pattern) behind the same
// authentication as every other route; this is how the vitals dashboard is
// mounted at "/debug/vitals/". More specific built-in routes such as
// /debug/vitals/goroutines keep precedence over a subtree pattern. The route
// table ([Server.Routes], /debug/vitals) lists h with the result of its
// Summary() string method when it has one.
func WithHandler(pattern string, h http.Handler) Option {
	return optionFunc(func(c *config) {
		if pattern == "" || h == nil {
			c.fail(errors.New("admin: handler needs a pattern and a handler"))
			return
		}
		c.extra = append(c.extra, extraRoute{pattern: pattern, summary: summaryOf(h), h: h})
	})
}

// WithAllowedHosts adds host names (without port) that an unauthenticated
// server answers to. Without credentials the server answers only requests
// whose Host header is "localhost", an IP literal (a loopback one when the
// request arrived on loopback) or one of these names; any other gets 421
// Misdirected Request. That stops DNS rebinding: a web page the operator
// visits can point a name of its own at 127.0.0.1 and then read the
// answers, but its requests still carry its own name. Give the names your
// operators really type, such as a /etc/hosts alias; "*" turns the check
// off. A server with credentials ([WithBearerToken], [WithBasicAuth],
// [WithMiddleware]) does not check Host: a rebinding page has no
// credentials.
func WithAllowedHosts(names ...string) Option {
	return optionFunc(func(c *config) {
		if c.allowedHosts == nil {
			c.allowedHosts = map[string]bool{}
		}
		for _, n := range names {
			n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
			if n == "" || strings.ContainsAny(n, ":/ ") {
				c.fail(fmt.Errorf("admin: allowed host %q must be a host name without port", n))
				continue
			}
			c.allowedHosts[n] = true
		}
	})
}

// WithHealthzAuth keeps /healthz behind authentication. By default /healthz
// answers GET and HEAD without credentials, so a liveness probe needs none;
// it says "ok" and nothing else, does no work and takes no lock. Every other
// route, known or not, still answers 401 without credentials. Middleware
// from [WithMiddleware] wraps /healthz too and decides for itself.
func WithHealthzAuth() Option {
	return optionFunc(func(c *config) { c.healthzAuth = true })
}

// DefaultExpensiveWait is how long an expensive request waits for the
// expensive slot unless [WithExpensiveWait] says otherwise.
const DefaultExpensiveWait = 10 * time.Second

// WithExpensiveWait sets how long an expensive request may wait for its
// turn (default [DefaultExpensiveWait]) and how many may wait at once
// (default 4). A request that finds another expensive request running, or
// arrives within the interval of [WithExpensiveInterval], waits instead of
// failing, so an operator's back-to-back requests are served; it gets 429
// with Retry-After only when the running request is expected to outlast the
// wait (a 30 s CPU profile), when queue requests wait already, or when the
// wait runs out. A waiting request stops waiting when its client goes away.
// Zero wait refuses at once, as before.
func WithExpensiveWait(wait time.Duration, queue int) Option {
	return optionFunc(func(c *config) {
		if wait < 0 || queue < 0 {
			c.fail(fmt.Errorf("admin: expensive wait %v and queue %d must not be negative", wait, queue))
		}
		c.expWait, c.expQueue = wait, queue
	})
}

// DefaultProfileBudget is the share of each second that writing profiles
// may take unless [WithProfileBudget] says otherwise: a tenth of one core.
const DefaultProfileBudget = 100 * time.Millisecond

// WithProfileBudget sets how much time per second, on average, the server
// may spend writing the profiles that are not expensive kinds (heap,
// allocs, block, mutex, threadcreate, goroutine with debug=0 or 1, a full
// dump of a few goroutines) and answering symbol lookups, all routes
// together (default [DefaultProfileBudget], bursts of up to twice that).
// One such write runs at a time, into a buffer, and is charged its CPU time
// but at least perSecond/10 (its buffers cost garbage collection later, on
// other threads); the next waits until the charge is paid back, so a flood
// of them costs the application about perSecond of one core each second,
// and at most ten writes a second, however many clients send it. At most
// inflight requests (default 8) are in the class at once (waiting, writing
// or sending); past that, or when the wait would pass 10 s, the answer is
// 429 with Retry-After. /metrics has a budget of its own of the same size,
// so a flood of profiles never fails a Prometheus scrape.
func WithProfileBudget(perSecond time.Duration, inflight int) Option {
	return optionFunc(func(c *config) {
		if perSecond <= 0 || inflight <= 0 {
			c.fail(fmt.Errorf("admin: profile budget %v per second and %d in flight must be positive", perSecond, inflight))
		}
		c.writeBudget, c.maxInflight = perSecond, inflight
	})
}

// DefaultProfileReuse is the longest time a profile's answer is served
// again unless [WithProfileReuse] says otherwise.
const DefaultProfileReuse = 30 * time.Second

// WithProfileReuse sets the longest time the answer of a profile write
// (the profiles of [WithProfileBudget], by name and debug level, and the
// grouped goroutine page, by format) is served again to later requests
// for the same answer; 0 turns reuse off.
// Requests that arrive while the profile is being written wait for that
// write. An answer stays fresh for as long as the budget takes to earn its
// cost back, so a profile that cost little is written anew within a second
// and one that cost much (a goroutine profile of 100,000 goroutines
// allocates about 22 MB) is reused for several seconds. A reused answer
// carries Age (whole seconds) and X-Vitals-Written (when it was written).
// A write that others may join goes on when the request that started it
// ends (its wait for the budget is bounded all the same).
// Each fresh answer of up to 8 MiB is held in memory until it expires: at
// most one per profile name and debug level; a larger one goes only to the
// requests that waited for it.
func WithProfileReuse(maxAge time.Duration) Option {
	return optionFunc(func(c *config) {
		if maxAge < 0 {
			c.fail(fmt.Errorf("admin: profile reuse %v must not be negative", maxAge))
		}
		c.reuseMax = maxAge
	})
}

// DefaultProfileAnswers is the most answers a second of the profile class,
// shared ones included, unless [WithProfileAnswers] says otherwise.
const DefaultProfileAnswers = 10

// WithProfileAnswers paces the answers of the profile class (named
// profiles and the grouped goroutine page, whether written or shared) to n
// a second on average, n at once; 0 turns pacing off. A request past the
// pace waits its turn, in order, up to 10 s and while it lasts; when as
// many requests wait as [WithProfileBudget] lets in flight, or the turn is
// further than 10 s, it gets 429 with Retry-After. Shared answers cost no
// write but still a request to serve and its garbage: unpaced, 8 clients
// asking back to back were sent about 375 heap profiles a second.
func WithProfileAnswers(n int) Option {
	return optionFunc(func(c *config) {
		if n < 0 {
			c.fail(fmt.Errorf("admin: profile answers %d a second must not be negative", n))
		}
		c.answerRate = n
	})
}

// WithCmdline serves /debug/pprof/cmdline, off by default because command
// lines often carry secrets (flags, DSNs).
func WithCmdline() Option {
	return optionFunc(func(c *config) { c.cmdline = true })
}
