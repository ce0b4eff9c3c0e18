package doctor

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// RunDiscovered audits services found by a discovery (the targets of a
// Prometheus server), whose kind is not known beforehand. Each base URL is
// audited through /debug/vitals with the credentials, as [KindVitals]; a
// service that answers there with 404, or with a page that is not vitals'
// JSON, runs no vitals admin server at that URL and gets the public probe
// of the same URL instead ([KindPublic]), with a note saying so. The
// concurrency, the per-target timeout and the order of the result are
// those of [Run]. Cost: one GET of /debug/vitals per target more than [Run].
func RunDiscovered(ctx context.Context, urls []string, opts ...Option) []Audit {
	c := newConfig(opts)
	targets := make([]Target, len(urls))
	for i, u := range urls {
		targets[i] = Target{URL: u, Kind: KindVitals}
	}
	return c.each(ctx, targets, func(ctx context.Context, t Target) Audit { return c.discovered(ctx, t.URL) })
}

func (c *config) discovered(ctx context.Context, base string) (a Audit) {
	start := time.Now()
	t := Target{URL: base, Kind: KindVitals}
	defer func() {
		if p := recover(); p != nil {
			a = failed(t, start, "doctor: internal error auditing %s: %v", base, p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u, _, err := vitalsURL(base)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	code, body, err := c.get(ctx, u, true)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	why := ""
	switch {
	case code == http.StatusNotFound:
		why = "404"
	case code >= 200 && code <= 299 && !vitalsJSON(body):
		why = fmt.Sprintf("status %d, not vitals' JSON", code)
	default:
		return c.vitals(ctx, base)
	}
	a = c.public(ctx, base)
	a.Notes = append([]string{fmt.Sprintf("no vitals admin server here (%s: %s): only what a public probe can judge", u, why)}, a.Notes...)
	return a
}
