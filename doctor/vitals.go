package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/internal/adminclient"
	"github.com/govitals/vitals/startup"
)

// maxBody caps what is read from any answer.
const maxBody = 4 << 20

// vitalsPath is the admin server's JSON route.
const vitalsPath = "/debug/vitals"

// vitalsURL turns a base URL into the /debug/vitals URL.
func vitalsURL(base string) (string, *url.URL, error) {
	u, err := parseBase(base)
	if err != nil {
		return "", nil, err
	}
	if !strings.HasSuffix(strings.TrimRight(u.Path, "/"), vitalsPath) {
		u.Path = strings.TrimRight(u.Path, "/") + vitalsPath
	} else {
		u.Path = strings.TrimRight(u.Path, "/")
	}
	return u.String(), u, nil
}

func parseBase(base string) (*url.URL, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("doctor: bad URL %q: %w", adminclient.Redact(base), errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("doctor: bad URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("doctor: bad URL %q: no host", u.Redacted())
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// get fetches u and returns the status and at most maxBody bytes of body.
// Errors name the URL without its password.
func (c *config) get(ctx context.Context, u string, auth bool) (int, []byte, error) {
	resp, err := c.fetch.Do(ctx, u, auth, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("doctor: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, body, fmt.Errorf("doctor: GET %s: read body: %w", adminclient.Redact(u), err)
	}
	return resp.StatusCode, body, nil
}

func (c *config) hasCredentials() bool { return c.token != "" || c.basic }

func (c *config) vitals(ctx context.Context, base string) Audit {
	start := time.Now()
	t := Target{URL: adminclient.Redact(base), Kind: KindVitals}
	u, parsed, err := vitalsURL(base)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	shown := parsed.Redacted()
	code, body, err := c.get(ctx, u, true)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if c.hasCredentials() {
			return failed(t, start, "doctor: GET %s: %d: the credentials were refused", shown, code)
		}
		return failed(t, start, "doctor: GET %s: %d: the admin server needs credentials (--token, --user or %s)", shown, code, adminclient.TokenEnv)
	case code != http.StatusOK:
		return failed(t, start, "doctor: GET %s: status %d, not a vitals admin endpoint", shown, code)
	}
	a, err := ParseVitals(body)
	if err != nil {
		return failed(t, start, "doctor: GET %s: %v", shown, err)
	}
	a.Target = t

	// Does the admin server answer without credentials? With credentials
	// given, ask once more without them; without, the answer above says.
	if c.hasCredentials() {
		code, _, err := c.get(ctx, u, false)
		switch {
		case err != nil:
			a.Notes = append(a.Notes, "could not tell whether the admin server requires credentials: "+err.Error())
		case code == http.StatusOK:
			a.Facts.AdminAuth = false
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			a.Facts.AdminAuth = true
		}
	} else {
		a.Facts.AdminAuth = false
	}
	if a.Facts.AdminAddr == "" {
		a.Facts.AdminAddr = hostPort(parsed)
	}
	// The page says metrics are served: scrape them as Prometheus would,
	// with the same credentials, so a page that answers 500 or garbage
	// fails the rule instead of passing on the route table's word.
	if a.Facts.MetricsExported {
		m := *parsed
		m.Path = strings.TrimSuffix(m.Path, vitalsPath) + "/metrics"
		families, err := c.scrapeMetrics(ctx, m.String())
		if err != nil {
			a.Facts.MetricsError = err.Error()
		} else {
			a.Facts.MetricsScraped, a.Facts.MetricsFamilies = true, families
		}
	}
	a.finish(start)
	return a
}

// maxMetricsBody caps what a metrics scrape reads.
const maxMetricsBody = 64 << 20

// scrapeMetrics GETs a Prometheus metrics page and returns how many metric
// families it serves; an answer other than 200, a format that is not an
// exposition or a body that does not parse is an error.
func (c *config) scrapeMetrics(ctx context.Context, u string) (int, error) {
	shown := adminclient.Redact(u)
	h := http.Header{"Accept": {string(expfmt.NewFormat(expfmt.TypeTextPlain))}}
	resp, err := c.fetch.Do(ctx, u, true, h)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4*adminclient.MaxEcho))
		msg := fmt.Sprintf("GET %s: status %d", shown, resp.StatusCode)
		if t := strings.TrimSpace(string(b)); t != "" {
			msg += ": " + adminclient.Clean(t)
		}
		return 0, errors.New(msg)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() == expfmt.TypeUnknown {
		return 0, fmt.Errorf("GET %s: Content-Type %q is not a Prometheus exposition", shown, adminclient.Clean(resp.Header.Get("Content-Type")))
	}
	body := &io.LimitedReader{R: resp.Body, N: maxMetricsBody + 1}
	dec := expfmt.NewDecoder(body, format)
	n := 0
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if err == io.EOF {
			break
		}
		if body.N <= 0 {
			return 0, fmt.Errorf("GET %s: more than %d MiB", shown, maxMetricsBody>>20)
		}
		if err != nil {
			return 0, fmt.Errorf("GET %s: does not parse as %s: %s", shown, format, adminclient.Clean(err.Error()))
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("GET %s: no metric families", shown)
	}
	return n, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// vitalsDoc is the layout of /debug/vitals, each part decoded on its own so
// a part that fails to decode loses only itself.
type vitalsDoc struct {
	Report json.RawMessage            `json:"report"`
	State  map[string]json.RawMessage `json:"state"`
	Routes []struct {
		Pattern string `json:"pattern"`
	} `json:"routes"`
}

// ParseVitals reads the JSON of a vitals admin server's /debug/vitals into an
// audit's facts, report and notes (its results are not evaluated yet; the
// target is not set). Servers that publish their facts ("state.facts", vitals
// since this package) are read as they are; older ones are derived from the
// start-up report and the live state. It fails only on a body that is not a
// /debug/vitals answer.
func ParseVitals(body []byte) (Audit, error) {
	var a Audit
	var doc vitalsDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return a, fmt.Errorf("not a /debug/vitals answer: %s", adminclient.Clean(err.Error()))
	}
	if doc.State == nil {
		return a, errors.New("not a /debug/vitals answer: no state")
	}
	note := func(part string, err error) {
		// Decode errors quote the value that did not fit, which the
		// target chose: bounded and cleaned.
		a.Notes = append(a.Notes, adminclient.Clean(fmt.Sprintf("could not read %s: %v", part, err)))
	}
	if len(doc.Report) > 0 && string(doc.Report) != "null" {
		var r startup.Report
		if err := json.Unmarshal(doc.Report, &r); err != nil || r.Schema == 0 {
			if err == nil {
				err = errors.New("no schema")
			}
			note("the start-up report", err)
		} else {
			a.Report = &r
		}
	}
	if raw, ok := doc.State["facts"]; ok {
		var f checklist.Facts
		if err := json.Unmarshal(raw, &f); err != nil {
			note("the facts", err)
		} else {
			a.Facts = f
			boundFacts(&a.Facts)
			warmUp(doc.State, &a.Facts)
			if err := incidentFacts(doc.State, &a.Facts, time.Now()); err != nil {
				note("the incident monitor's state", err)
			}
			return a, nil
		}
	}
	// An older server: derive the facts.
	a.Facts = FactsFromReport(a.Report)
	var n uint64
	if readState(doc.State, "gomaxprocs", &n) {
		a.Facts.GOMAXPROCS = int(n)
	}
	if readState(doc.State, "memory_limit_bytes", &n) {
		a.Facts.GOMEMLIMIT = int64(min(n, 1<<63-1))
	}
	// The fields of leak.WatchdogState the rules read.
	var w struct {
		Current   int  `json:"current"`
		Baseline  int  `json:"baseline"`
		Suspected bool `json:"suspected"`
	}
	if raw, ok := doc.State["leak"]; ok {
		if err := json.Unmarshal(raw, &w); err != nil {
			note("the watchdog state", err)
		} else {
			a.Facts.GoroutinesKnown = w.Baseline > 0
			a.Facts.Goroutines, a.Facts.GoroutineBaseline, a.Facts.LeakSuspected = w.Current, w.Baseline, w.Suspected
		}
	}
	warmUp(doc.State, &a.Facts)
	if err := incidentFacts(doc.State, &a.Facts, time.Now()); err != nil {
		note("the incident monitor's state", err)
	}
	if doc.Routes != nil {
		a.Facts.MetricsKnown = true
		for _, r := range doc.Routes {
			if r.Pattern == "/metrics" {
				a.Facts.MetricsExported = true
			}
		}
	}
	return a, nil
}

// boundFacts cuts the strings a target reported to [adminclient.MaxEcho]
// characters, so neither the text nor the JSON output repeats megabytes a
// target chose to send; they stay otherwise as sent (JSON escapes them, the
// text output cleans them).
func boundFacts(f *checklist.Facts) {
	for _, s := range []*string{&f.GOMAXPROCSSource, &f.CPULimitSource, &f.MemoryLimitSource, &f.GOTRACEBACK, &f.AdminAddr, &f.MetricsError} {
		*s = clipString(*s)
	}
	if len(f.DebugOnPublic) > 64 {
		f.DebugOnPublic = f.DebugOnPublic[:64]
	}
	for i := range f.DebugOnPublic {
		f.DebugOnPublic[i] = clipString(f.DebugOnPublic[i])
	}
	if n := len(f.RecentIncidents); n > 10 {
		f.RecentIncidents = f.RecentIncidents[n-10:]
	}
	for i := range f.RecentIncidents {
		f.RecentIncidents[i].Trigger = clipString(f.RecentIncidents[i].Trigger)
		f.RecentIncidents[i].Reason = clipString(f.RecentIncidents[i].Reason)
	}
}

func clipString(s string) string {
	if len(s) <= adminclient.MaxEcho {
		return s
	}
	cut := adminclient.MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Leak watchdog defaults (leak.DefaultWarmUp, DefaultWindowSamples ×
// DefaultSampleEvery), for servers whose state does not say when a verdict
// is due.
const defaultVerdictAfter = 2*time.Minute + 30*10*time.Second

// warmUp tells, when the watchdog has no verdict yet, how long until it
// can give one: from the watchdog state's own verdict_in / verdict_at
// (leak.WatchdogState since they were added), else from the server's uptime
// and the watchdog's default settings. Without a watchdog it does nothing.
func warmUp(st map[string]json.RawMessage, f *checklist.Facts) {
	raw, ok := st["leak"]
	if !ok || f.GoroutinesKnown {
		return
	}
	var w struct {
		Baseline  int        `json:"baseline"`
		WarmingUp *bool      `json:"warming_up"`
		VerdictIn *int64     `json:"verdict_in"` // nanoseconds (time.Duration)
		VerdictAt *time.Time `json:"verdict_at"`
	}
	if json.Unmarshal(raw, &w) != nil || w.Baseline > 0 {
		return
	}
	if w.WarmingUp != nil && !*w.WarmingUp {
		return
	}
	f.WatchdogWarmingUp = true
	var now time.Time
	_ = readState(st, "time", &now)
	switch {
	case w.VerdictIn != nil:
		f.WatchdogVerdictIn = max(time.Duration(*w.VerdictIn), 0)
	case w.VerdictAt != nil && !now.IsZero():
		f.WatchdogVerdictIn = max(w.VerdictAt.Sub(now), 0)
	default:
		var up float64
		if readState(st, "uptime_seconds", &up) && up >= 0 && up < defaultVerdictAfter.Seconds() {
			f.WatchdogVerdictIn = defaultVerdictAfter - time.Duration(up*float64(time.Second))
		}
	}
}

// incidentFacts reads the incident monitor's state (state.incidents,
// incident.State: counts per trigger and the latest incidents) into f:
// the incidents within checklist.IncidentWindow of the state's own time
// ("time"; now when the server does not say), at most 10, their reasons
// cut to adminclient.MaxEcho. Without the part it does nothing.
func incidentFacts(st map[string]json.RawMessage, f *checklist.Facts, now time.Time) error {
	raw, ok := st["incidents"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var s struct {
		Counts map[string]uint64 `json:"counts"`
		Recent []struct {
			Trigger string    `json:"trigger"`
			Reason  string    `json:"reason"`
			Time    time.Time `json:"time"`
		} `json:"recent"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	var at time.Time
	if readState(st, "time", &at) && !at.IsZero() {
		now = at
	}
	f.IncidentsKnown = true
	f.IncidentsTotal = 0
	for _, n := range s.Counts {
		f.IncidentsTotal += n
	}
	f.RecentIncidents = nil
	for _, r := range s.Recent {
		if age := now.Sub(r.Time); age < 0 || age > checklist.IncidentWindow {
			continue
		}
		f.RecentIncidents = append(f.RecentIncidents, checklist.IncidentFact{
			Time: r.Time, Trigger: clipString(r.Trigger), Reason: clipString(r.Reason)})
	}
	slices.SortStableFunc(f.RecentIncidents, func(a, b checklist.IncidentFact) int { return a.Time.Compare(b.Time) })
	if n := len(f.RecentIncidents); n > 10 {
		f.RecentIncidents = f.RecentIncidents[n-10:]
	}
	return nil
}

func readState(st map[string]json.RawMessage, key string, v any) bool {
	raw, ok := st[key]
	return ok && json.Unmarshal(raw, v) == nil
}
