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
		return nil, fmt.Errorf("doctor: bad URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("doctor: bad URL %q: scheme must be http or https", base)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("doctor: bad URL %q: no host", base)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// get fetches u and returns the status and at most maxBody bytes of body.
func (c *config) get(ctx context.Context, u string, auth bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("doctor: %w", err)
	}
	req.Header.Set("User-Agent", "vitals-doctor")
	if auth {
		switch {
		case c.token != "":
			req.Header.Set("Authorization", "Bearer "+c.token)
		case c.basic:
			req.SetBasicAuth(c.user, c.pass)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("doctor: GET %s: no answer within the timeout", u)
		}
		return 0, nil, fmt.Errorf("doctor: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, body, fmt.Errorf("doctor: GET %s: read body: %w", u, err)
	}
	return resp.StatusCode, body, nil
}

func (c *config) hasCredentials() bool { return c.token != "" || c.basic }

func (c *config) vitals(ctx context.Context, base string) Audit {
	start := time.Now()
	t := Target{URL: base, Kind: KindVitals}
	u, parsed, err := vitalsURL(base)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	code, body, err := c.get(ctx, u, true)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if c.hasCredentials() {
			return failed(t, start, "doctor: GET %s: %d: the credentials were refused", u, code)
		}
		return failed(t, start, "doctor: GET %s: %d: the admin server needs credentials (--token, --user or %s)", u, code, "VITALS_ADMIN_TOKEN")
	case code != http.StatusOK:
		return failed(t, start, "doctor: GET %s: status %d, not a vitals admin endpoint", u, code)
	}
	a, err := ParseVitals(body)
	if err != nil {
		return failed(t, start, "doctor: GET %s: %v", u, err)
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
		return a, fmt.Errorf("not a /debug/vitals answer: %w", err)
	}
	if doc.State == nil {
		return a, errors.New("not a /debug/vitals answer: no state")
	}
	note := func(part string, err error) {
		a.Notes = append(a.Notes, fmt.Sprintf("could not read %s: %v", part, err))
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
