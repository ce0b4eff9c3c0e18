// Package admintest checks, in your own tests, that a public HTTP handler
// does not serve debug endpoints: net/http/pprof's /debug/pprof/ routes or
// expvar's /debug/vars. Either one on a public port leaks source paths,
// memory contents and command-line flags, and lets anyone start CPU profiles.
//
// The check serves requests to the handler in memory (no network) and looks
// at what comes back: a 2xx answer counts only if its body looks like the
// debug endpoint, so a catch-all page that answers 200 to every path is not
// a false alarm.
package admintest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"
)

// TB is the part of [testing.TB] the check needs.
type TB interface {
	Errorf(format string, args ...any)
}

// probes are cheap debug URLs (no CPU profile or trace that would block) and
// a test of whether a body is the real thing.
var probes = []struct {
	path string
	is   func(body []byte) bool
}{
	{"/debug/pprof/", pprofIndex},
	{"/debug/pprof", pprofIndex},
	{"/debug/pprof/heap", profileBody},
	{"/debug/pprof/heap?debug=1", func(b []byte) bool { return bytes.Contains(b, []byte("heap profile:")) }},
	{"/debug/pprof/goroutine?debug=1", func(b []byte) bool { return bytes.Contains(b, []byte("goroutine profile:")) }},
	{"/debug/pprof/goroutine", profileBody},
	{"/debug/pprof/allocs", profileBody},
	{"/debug/pprof/cmdline", func(b []byte) bool { return len(b) > 0 && !bytes.Contains(b, []byte("<")) }}, // and unlike the control
	{"/debug/pprof/symbol", func(b []byte) bool { return bytes.HasPrefix(b, []byte("num_symbols:")) }},
	{"/debug/vars", expvarBody},
	{"/debug/vars/", expvarBody},
}

func pprofIndex(b []byte) bool {
	return bytes.Contains(b, []byte("goroutine")) && (bytes.Contains(b, []byte("heap")) || bytes.Contains(b, []byte("profile")))
}

// profileBody matches a gzip-compressed pprof protobuf.
func profileBody(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

func expvarBody(b []byte) bool {
	return bytes.Contains(b, []byte(`"memstats"`)) || bytes.Contains(b, []byte(`"cmdline"`))
}

// probeHosts are the Host headers each probe is sent with: a public name,
// and a loopback address, which a client of a public port can send just as
// well (a handler that answers only to loopback names is still exposed).
var probeHosts = []string{"example.com", "127.0.0.1"}

// DebugEndpoints serves every probe to h and returns the paths it really
// answers, empty when none. Each probe gets 5 seconds. Cost: about two dozen
// in-memory requests, two of which (a goroutine profile) a handler that does
// serve pprof pays with a brief stop-the-world.
func DebugEndpoints(h http.Handler) []string {
	var found []string
	for _, host := range probeHosts {
		// A path nothing serves tells what a catch-all page looks like; a
		// probe answered with the same body is that page, not a debug
		// endpoint.
		_, control := serve(h, host, "/admintest-no-such-path-7f3a9c")
		for _, p := range probes {
			if slices.Contains(found, p.path) {
				continue
			}
			code, body := serve(h, host, p.path)
			if code >= 200 && code <= 299 && !bytes.Equal(body, control) && p.is(body) {
				found = append(found, p.path)
			}
		}
	}
	return found
}

func serve(h http.Handler, host, path string) (code int, body []byte) {
	defer func() {
		if recover() != nil {
			code, body = 0, nil // a handler that panics serves nothing
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	req.RemoteAddr = "203.0.113.7:40000" // a public client
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// AssertNoDebugEndpoints reports through t every debug endpoint h serves,
// and returns whether there were none. Call it with your public handler:
//
//	func TestPublicHandlerHidesDebug(t *testing.T) {
//		admintest.AssertNoDebugEndpoints(t, newPublicHandler())
//	}
func AssertNoDebugEndpoints(t TB, h http.Handler) bool {
	if hp, ok := t.(interface{ Helper() }); ok {
		hp.Helper()
	}
	found := DebugEndpoints(h)
	if len(found) == 0 {
		return true
	}
	t.Errorf("public handler serves debug endpoints %s: anyone can read stacks, heap and flags "+
		"(serve them with github.com/govitals/vitals/admin on a loopback or authenticated port instead)",
		strings.Join(found, ", "))
	return false
}
