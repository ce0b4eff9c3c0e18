// Package promtargets finds the services a Prometheus server scrapes: it
// reads the active targets from Prometheus's HTTP API
// (/api/v1/targets?state=active), keeps those of the wanted jobs and
// labels, and derives from each scrape URL the base URL of the service's
// vitals admin server. `vitals doctor --prometheus URL` audits what it
// finds, so a fleet is audited through the registry it already has.
//
// # Admin URL
//
// A service on vitals.Start serves /metrics from its admin server, so the
// admin base URL is the scrape URL without its metrics path
// ("http://10.0.0.7:6060/metrics" gives "http://10.0.0.7:6060"). A target
// whose admin server is elsewhere names it in a target label,
// vitals_admin ("http://10.0.0.7:6061" or "10.0.0.7:6061"), set with
// static labels or relabelling.
//
// # Costs
//
// [Active] is one GET of /api/v1/targets?state=active, read up to
// [MaxResponse]. (client_golang's API client would bring json-iterator and
// reflect2 into the module for this one documented JSON answer, so the
// answer is decoded here with encoding/json.)
package promtargets

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// MaxResponse caps the size of the targets answer read.
const MaxResponse = 64 << 20

// AdminLabel is the target label that names a target's vitals admin URL
// when it is not the scrape URL's host.
const AdminLabel = "vitals_admin"

// Target is one active scrape target.
type Target struct {
	// Job is the target's job label (its scrape pool when it has none).
	Job string `json:"job"`
	// Labels are the target's labels after relabelling.
	Labels map[string]string `json:"labels"`
	// ScrapeURL is where Prometheus scrapes it.
	ScrapeURL string `json:"scrape_url"`
	// Health is "up", "down" or "unknown"; LastError the last scrape's error.
	Health    string `json:"health"`
	LastError string `json:"last_error,omitempty"`
	// AdminURL is the derived base URL of its vitals admin server; empty
	// when it could not be derived (AdminError says why).
	AdminURL   string `json:"admin_url,omitempty"`
	AdminError string `json:"admin_error,omitempty"`
}

// Option configures [Active].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	jobs   []string
	labels map[string]string
	client *http.Client
}

// WithJob keeps the targets of job (repeatable: any of the jobs).
func WithJob(job string) Option {
	return optionFunc(func(c *config) { c.jobs = append(c.jobs, job) })
}

// WithLabel keeps the targets whose label name has value (repeatable: all
// must match).
func WithLabel(name, value string) Option {
	return optionFunc(func(c *config) {
		if c.labels == nil {
			c.labels = map[string]string{}
		}
		c.labels[name] = value
	})
}

// WithHTTPClient sends the API request with client (TLS settings, auth in
// front of Prometheus) instead of a private client without keep-alives.
func WithHTTPClient(client *http.Client) Option {
	return optionFunc(func(c *config) { c.client = client })
}

// apiResponse is the envelope of every Prometheus API answer and the
// fields of /api/v1/targets that are read.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ActiveTargets []struct {
			Labels     map[string]string `json:"labels"`
			ScrapePool string            `json:"scrapePool"`
			ScrapeURL  string            `json:"scrapeUrl"`
			LastError  string            `json:"lastError"`
			Health     string            `json:"health"`
		} `json:"activeTargets"`
	} `json:"data"`
}

// ParseResponse decodes an /api/v1/targets answer into targets, without
// filtering or deriving admin URLs. An answer with status "error" is an
// error with Prometheus's message.
func ParseResponse(b []byte) ([]Target, error) {
	var r apiResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("promtargets: not a Prometheus API answer: %w", err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("promtargets: Prometheus answered %q: %s: %s", r.Status, r.ErrorType, r.Error)
	}
	out := make([]Target, 0, len(r.Data.ActiveTargets))
	for _, at := range r.Data.ActiveTargets {
		t := Target{Labels: at.Labels, ScrapeURL: at.ScrapeURL, Health: at.Health, LastError: at.LastError}
		if t.Labels == nil {
			t.Labels = map[string]string{}
		}
		t.Job = t.Labels["job"]
		if t.Job == "" {
			t.Job = at.ScrapePool
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseLabel parses a "name=value" filter as the --label flag takes it.
func ParseLabel(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return "", "", fmt.Errorf("promtargets: label filter %q: want name=value", s)
	}
	return name, value, nil
}

// Active returns the active targets of the Prometheus server at promURL
// that match the filters, sorted by job and scrape URL, each with its
// derived admin URL; none matching is an empty list, not an error. Cost:
// one GET of /api/v1/targets?state=active, whose answer lists every
// active target of the server (about 1 KiB each), read up to [MaxResponse].
func Active(ctx context.Context, promURL string, opts ...Option) ([]Target, error) {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	u, err := url.Parse(promURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("promtargets: bad Prometheus URL %q: want http(s)://host:port", promURL)
	}
	client := c.client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		client = &http.Client{Transport: tr}
	}
	api := strings.TrimRight(u.String(), "/") + "/api/v1/targets?state=active"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return nil, fmt.Errorf("promtargets: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("promtargets: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("promtargets: GET %s: %w", api, err)
	}
	if len(b) > MaxResponse {
		return nil, fmt.Errorf("promtargets: GET %s: answer larger than %d bytes", api, MaxResponse)
	}
	all, err := ParseResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (GET %s, status %d)", err, api, resp.StatusCode)
	}
	out := []Target{}
	for _, t := range all {
		if !c.match(t) {
			continue
		}
		t.AdminURL, err = AdminURL(t.ScrapeURL, t.Labels[AdminLabel])
		if err != nil {
			t.AdminError = err.Error()
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Target) int {
		if c := strings.Compare(a.Job, b.Job); c != 0 {
			return c
		}
		return strings.Compare(a.ScrapeURL, b.ScrapeURL)
	})
	return out, nil
}

func (c *config) match(t Target) bool {
	if len(c.jobs) > 0 && !slices.Contains(c.jobs, t.Job) {
		return false
	}
	for k, v := range c.labels {
		if t.Labels[k] != v {
			return false
		}
	}
	return true
}

// AdminURL derives a vitals admin base URL from a scrape URL: the
// override when it is not empty (a URL, or host:port taking the scrape
// URL's scheme), else the scrape URL without its query and its last path
// element ("/metrics"). It checks the form, not whether anything answers.
func AdminURL(scrapeURL, override string) (string, error) {
	u, err := url.Parse(scrapeURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("promtargets: scrape URL %q: not an http(s) URL", scrapeURL)
	}
	if override != "" {
		if !strings.Contains(override, "://") {
			override = u.Scheme + "://" + override
		}
		o, err := url.Parse(override)
		if err != nil || o.Host == "" || (o.Scheme != "http" && o.Scheme != "https") {
			return "", fmt.Errorf("promtargets: %s label %q: not an http(s) URL or host:port", AdminLabel, override)
		}
		return strings.TrimRight(o.String(), "/"), nil
	}
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p}
	return base.String(), nil
}
