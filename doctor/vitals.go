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
	"strings"
	"time"

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
	resp, err := c.fetch.Do(ctx, u, auth)
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
	a.finish(start)
	return a
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

func readState(st map[string]json.RawMessage, key string, v any) bool {
	raw, ok := st[key]
	return ok && json.Unmarshal(raw, v) == nil
}
