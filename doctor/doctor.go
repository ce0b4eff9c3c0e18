// Package doctor audits Go services against the production checklist (see
// package checklist): this machine, a running service through its vitals
// admin endpoint (/debug/vitals), or any Go service's public port probed from
// outside for debug endpoints that should not answer there.
//
// Gathering is the package's job; judging is checklist's. Each [Audit] holds
// the facts read (with where they came from) and one [checklist.Result] per
// rule. [Run] audits many targets concurrently, each within its own timeout,
// and [ExitCode] turns the audits into 0 (all pass), 1 (warnings) or 2
// (failures or unreachable targets), which is what `vitals doctor` exits with.
//
// # Costs
//
//   - [Local]: one cgroup read (a few /proc and /sys files); nothing changes.
//   - [Vitals]: one or two GETs of /debug/vitals (the second, without
//     credentials, tells whether the admin server requires them), and one
//     scrape of /metrics when the service says it serves metrics (parsed
//     with prometheus/common/expfmt; at most 64 MiB read).
//
// # Untrusted answers
//
// Targets are not trusted: URLs are printed without their password, and
// every string a target sent (errors, notes, evidence) is cut at a few
// hundred characters with control characters escaped, so a target cannot
// flood the output or drive the operator's terminal. Credentials are never
// sent after a redirect: redirects are not followed.
//   - [Public]: about a dozen GETs of cheap debug paths and /metrics (never a CPU profile or
//     a trace). A service that does serve pprof pays a goroutine profile and a
//     heap profile for them.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/internal/adminclient"
	"github.com/govitals/vitals/startup"
)

// Kind says how a target is audited.
type Kind string

const (
	// KindLocal audits this machine: what a Go service started here would get.
	KindLocal Kind = "local"
	// KindVitals audits a running service through its vitals admin endpoint.
	KindVitals Kind = "vitals"
	// KindPublic probes a service's public port from outside.
	KindPublic Kind = "public"
)

// Target is one thing to audit.
type Target struct {
	// URL is the admin server's base URL (KindVitals), the public base URL
	// (KindPublic), or empty (KindLocal). In an [Audit] it is shown with
	// any password replaced by "xxxxx".
	URL  string `json:"url,omitempty"`
	Kind Kind   `json:"kind"`
}

// Audit is the outcome for one target.
type Audit struct {
	Target Target `json:"target"`
	// Status is the worst result, or fail when the target could not be audited.
	Status checklist.Status `json:"status"`
	// Error says why the target could not be audited; the results are then
	// empty.
	Error string `json:"error,omitempty"`
	// Facts are what the rules read.
	Facts checklist.Facts `json:"facts"`
	// Results holds one verdict per checklist rule, in checklist order.
	Results []checklist.Result `json:"results,omitempty"`
	// Notes are remarks about the gathering (a part of the answer that could
	// not be read, what a probe found beyond the rules).
	Notes []string `json:"notes,omitempty"`
	// Report is the target's start-up report, when one was read.
	Report *startup.Report `json:"report,omitempty"`
	// Elapsed is how long gathering took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// finish evaluates the rules over a.Facts and sets the status.
func (a *Audit) finish(start time.Time) {
	a.Elapsed = time.Since(start)
	if a.Error != "" {
		a.Results = nil
		a.Status = checklist.Fail
		return
	}
	a.Results = checklist.Evaluate(a.Facts)
	a.Status = checklist.Worst(a.Results)
}

func failed(t Target, start time.Time, format string, args ...any) Audit {
	// Errors may quote what a target said: bounded and cleaned.
	a := Audit{Target: t, Error: adminclient.CleanN(fmt.Sprintf(format, args...), 2*adminclient.MaxEcho)}
	a.finish(start)
	return a
}

// Option configures the audits. Options are made by this package's functions.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	token       string
	user, pass  string
	basic       bool
	timeout     time.Duration
	concurrency int
	client      *http.Client
	root        string
	fetch       *adminclient.Client
}

// Defaults of [Run].
const (
	DefaultTimeout     = 10 * time.Second
	DefaultConcurrency = 16
)

// WithToken sends "Authorization: Bearer token" to vitals admin endpoints.
func WithToken(token string) Option {
	return optionFunc(func(c *config) { c.token = token })
}

// WithBasicAuth sends HTTP basic credentials to vitals admin endpoints.
func WithBasicAuth(user, password string) Option {
	return optionFunc(func(c *config) { c.user, c.pass, c.basic = user, password, true })
}

// WithTimeout bounds the audit of each target (default [DefaultTimeout]).
// A target that does not answer in time fails with a timeout error.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithConcurrency sets how many targets [Run] audits at once (default
// [DefaultConcurrency]).
func WithConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.concurrency = n
		}
	})
}

// WithHTTPClient makes requests with client instead of a private one (for
// TLS settings or a proxy). Its own timeout, if any, applies on top of
// [WithTimeout]. Redirects are never followed, whatever client's
// CheckRedirect says.
func WithHTTPClient(client *http.Client) Option {
	return optionFunc(func(c *config) {
		if client != nil {
			c.client = client
		}
	})
}

// WithRoot makes [Local] read /proc and /sys below dir (a captured tree)
// instead of "/".
func WithRoot(dir string) Option {
	return optionFunc(func(c *config) { c.root = dir })
}

func newConfig(opts []Option) *config {
	c := &config{timeout: DefaultTimeout, concurrency: DefaultConcurrency}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	// No redirects: a login page behind a redirect is not the endpoint.
	c.fetch = adminclient.New(adminclient.Credentials{Token: c.token, User: c.user, Password: c.pass, Basic: c.basic},
		adminclient.WithHTTPClient(c.client))
	return c
}

// Run audits every target, at most [WithConcurrency] at once, each within
// [WithTimeout], and returns the audits in the order of targets. It returns
// early (with the targets not yet audited failed) when ctx is done.
func Run(ctx context.Context, targets []Target, opts ...Option) []Audit {
	c := newConfig(opts)
	return c.each(ctx, targets, c.audit)
}

// each audits every target with at most c.concurrency at once; a target
// still waiting when ctx ends is reported as not audited.
func (c *config) each(ctx context.Context, targets []Target, audit func(context.Context, Target) Audit) []Audit {
	out := make([]Audit, len(targets))
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = failed(t, time.Now(), "doctor: not audited: %v", ctx.Err())
				return
			}
			defer func() { <-sem }()
			out[i] = audit(ctx, t)
		}()
	}
	wg.Wait()
	return out
}

func (c *config) audit(ctx context.Context, t Target) (a Audit) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			a = failed(t, start, "doctor: internal error auditing %s: %v", t.URL, p)
		}
	}()
	switch t.Kind {
	case KindLocal:
		return c.local()
	case KindVitals:
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.vitals(ctx, t.URL)
	case KindPublic:
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.public(ctx, t.URL)
	}
	return failed(t, start, "doctor: unknown target kind %q", t.Kind)
}

// Local audits this machine: what a Go service started here with vitals
// would run with (the decisions of [startup.Plan], so environment variables
// that override them count), against its cgroup limits and throttling
// counters. Nothing is changed. Rules that need a running service skip.
func Local(opts ...Option) Audit { return newConfig(opts).local() }

// Vitals audits the service whose vitals admin server is at baseURL
// ("http://127.0.0.1:6060"; a URL ending in /debug/vitals is used as is).
func Vitals(ctx context.Context, baseURL string, opts ...Option) Audit {
	c := newConfig(opts)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.vitals(ctx, baseURL)
}

// Public probes the public port at baseURL for debug endpoints (net/http/pprof,
// expvar, x/net/trace, statsviz, an unauthenticated vitals admin) and fails
// the pprof rule when one answers with its real content: a catch-all page
// that answers 200 everywhere does not count. Go runtime metrics readable
// at /metrics count as exported. It works against any Go service; the rules
// that need the inside of the process skip.
func Public(ctx context.Context, baseURL string, opts ...Option) Audit {
	c := newConfig(opts)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.public(ctx, baseURL)
}

// ExitCode is 0 when every audit passed, 1 with warnings, 2 with failures or
// targets that could not be audited (2 also for no audits at all).
func ExitCode(audits []Audit) int {
	if len(audits) == 0 {
		return 2
	}
	worst := checklist.Pass
	for _, a := range audits {
		worst = max(worst, a.Status)
	}
	switch worst {
	case checklist.Fail:
		return 2
	case checklist.Warn:
		return 1
	}
	return 0
}

// JSONSchema is the version of [WriteJSON]'s layout; it changes only when a
// field is renamed or removed.
const JSONSchema = 1

// Output is what [WriteJSON] writes.
type Output struct {
	Schema   int              `json:"schema"`
	Status   checklist.Status `json:"status"`
	ExitCode int              `json:"exit_code"`
	Audits   []Audit          `json:"audits"`
}

// WriteJSON writes the audits as one indented JSON object ([Output]).
func WriteJSON(w io.Writer, audits []Audit) error {
	code := ExitCode(audits)
	st := checklist.Pass
	switch code {
	case 1:
		st = checklist.Warn
	case 2:
		st = checklist.Fail
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Output{Schema: JSONSchema, Status: st, ExitCode: code, Audits: audits})
}

// WriteText writes the audits for people: for each, a heading with the
// target, its results as a checklist table (colored when color is true; pass
// it only for a terminal) and the notes; then a summary line when there are
// several. Rules a public probe or a look at this machine cannot judge (Skip) are left out of their tables.
func WriteText(w io.Writer, audits []Audit, color bool) error {
	var b strings.Builder
	counts := map[checklist.Status]int{}
	for i, a := range audits {
		if i > 0 {
			b.WriteString("\n")
		}
		counts[a.Status]++
		fmt.Fprintf(&b, "%s: %s\n", heading(a.Target), strings.ToUpper(a.Status.String()))
		if a.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", adminclient.CleanN(a.Error, 2*adminclient.MaxEcho))
			continue
		}
		rs := a.Results
		if a.Target.Kind == KindPublic || a.Target.Kind == KindLocal {
			rs = nil
			for _, r := range a.Results {
				if r.Status != checklist.Skip {
					rs = append(rs, r)
				}
			}
		}
		// Evidence quotes facts a target reported; every string that came
		// from elsewhere is cleaned of terminal escapes and bounded.
		clean := make([]checklist.Result, len(rs))
		for i, r := range rs {
			r.Title, r.Evidence, r.Fix = adminclient.Clean(r.Title), adminclient.CleanN(r.Evidence, 2*adminclient.MaxEcho), adminclient.Clean(r.Fix)
			clean[i] = r
		}
		if err := checklist.WriteText(&b, clean, color); err != nil {
			return err
		}
		for _, n := range a.Notes {
			fmt.Fprintf(&b, "note: %s\n", adminclient.CleanN(n, 2*adminclient.MaxEcho))
		}
	}
	if len(audits) > 1 {
		fmt.Fprintf(&b, "\n%d targets: %d fail, %d warn, %d pass\n", len(audits),
			counts[checklist.Fail], counts[checklist.Warn], counts[checklist.Pass]+counts[checklist.Skip])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// heading names a target, its URL without a password.
func heading(t Target) string {
	u := adminclient.Clean(adminclient.Redact(t.URL))
	switch t.Kind {
	case KindLocal:
		return "this machine (what a Go service started here would get)"
	case KindPublic:
		return u + " (public port, probed from outside)"
	}
	return u + " (vitals admin endpoint)"
}
