package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/internal/adminclient"
)

// probe is one debug URL and a test of whether a body is the real thing.
type probe struct {
	path string
	what string
	is   func(body []byte) bool
}

// probes are cheap debug paths: never a CPU profile, a trace or anything
// that blocks for seconds.
var probes = []probe{
	{"/debug/pprof/", "net/http/pprof index", pprofIndex},
	{"/debug/pprof/goroutine?debug=1", "goroutine stacks", prefixed("goroutine profile:")},
	{"/debug/pprof/goroutine", "goroutine profile", gzipped},
	{"/debug/pprof/heap", "heap profile", gzipped},
	{"/debug/pprof/cmdline", "command line", cmdline},
	{"/debug/pprof/symbol", "symbol lookup", prefixed("num_symbols:")},
	{"/debug/vars", "expvar", expvar},
	{"/debug/requests", "x/net/trace requests", contains("<title>/debug/requests</title>")},
	{"/debug/events", "x/net/trace events", func(b []byte) bool {
		return contains("<title>/debug/events</title>")(b) || contains("<title>events</title>")(b)
	}},
	{"/debug/statsviz/", "statsviz dashboard", contains("<title>Statsviz</title>")},
	{"/debug/vitals", "vitals admin JSON without auth", vitalsJSON},
	{"/debug/vitals/goroutines?format=text", "vitals grouped goroutines without auth", contains(" goroutines in ")},
}

func pprofIndex(b []byte) bool {
	return bytes.Contains(b, []byte("goroutine")) && bytes.Contains(b, []byte("heap")) &&
		bytes.Contains(bytes.ToLower(b), []byte("profile"))
}

// gzipped matches a gzip-compressed pprof protobuf.
func gzipped(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

func prefixed(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

// cmdline matches os.Args joined by NUL bytes: one line of text without
// markup that does not echo the path asked for.
func cmdline(b []byte) bool {
	return len(b) > 0 && len(b) < 1<<16 && !bytes.ContainsAny(b, "<>{}\n") && !bytes.Contains(b, []byte("/debug/pprof"))
}

// expvar matches expvar's JSON object, which always holds cmdline and memstats.
func expvar(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	_, c := m["cmdline"]
	_, ms := m["memstats"]
	return c || ms
}

func vitalsJSON(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	_, st := m["state"]
	_, rt := m["routes"]
	return st && rt
}

func (c *config) public(ctx context.Context, base string) Audit {
	start := time.Now()
	t := Target{URL: adminclient.Redact(base), Kind: KindPublic}
	u, err := parseBase(base)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	root := strings.TrimRight(u.String(), "/")
	shown := strings.TrimRight(u.Redacted(), "/")
	// A path nothing serves shows what a catch-all page looks like; a probe
	// answered with the same body is that page, not a debug endpoint.
	ctrlCode, control, err := c.get(ctx, root+"/vitals-doctor-no-such-path-"+strconv.FormatInt(start.UnixNano(), 36), false)
	if err != nil {
		return failed(t, start, "%v", err)
	}
	a := Audit{Target: t}
	a.Facts.PublicProbed = true
	a.Facts.DebugOnPublic = []string{}
	for _, p := range probes {
		code, body, err := c.get(ctx, root+p.path, false)
		if err != nil {
			if ctx.Err() != nil {
				return failed(t, start, "doctor: probing %s: %v", shown, err)
			}
			a.Notes = append(a.Notes, adminclient.Clean(fmt.Sprintf("%s: %v", p.path, err)))
			continue
		}
		if code < 200 || code > 299 {
			continue
		}
		if ctrlCode >= 200 && ctrlCode <= 299 && bytes.Equal(body, control) {
			continue
		}
		if p.is(body) {
			a.Facts.DebugOnPublic = append(a.Facts.DebugOnPublic, p.path)
			a.Notes = append(a.Notes, fmt.Sprintf("%s serves the %s to anyone", p.path, p.what))
		}
	}
	// Metrics that anyone can scrape still say the service exports them.
	if code, body, err := c.get(ctx, root+"/metrics", false); err == nil && code == 200 && promGoMetrics(body) {
		a.Facts.MetricsKnown, a.Facts.MetricsExported = true, true
		a.Notes = append(a.Notes, "/metrics serves the Go runtime metrics on the public port (readable by anyone)")
	}
	a.finish(start)
	return a
}

// promGoMetrics reports whether body is a Prometheus exposition with the Go
// collector's goroutine gauge.
func promGoMetrics(b []byte) bool {
	for line := range bytes.Lines(b) {
		if bytes.HasPrefix(line, []byte("go_goroutines ")) || bytes.HasPrefix(line, []byte("go_sched_goroutines_goroutines ")) {
			return true
		}
	}
	return false
}
