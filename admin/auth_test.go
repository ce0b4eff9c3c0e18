package admin

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/govitals/vitals/internal/tracecheck"
	"github.com/govitals/vitals/tracecap"
)

// routeCase is how one registered route is exercised: a cheap concrete URL
// and what an authenticated request must get.
type routeCase struct {
	pattern string
	path    string
	method  string
	want    int
	check   func(t *testing.T, body []byte)
}

func isProfile(t *testing.T, body []byte) {
	t.Helper()
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("body is not a gzipped pprof profile: %.40q", body)
	}
}

func isTrace(t *testing.T, body []byte) {
	t.Helper()
	if _, err := tracecheck.Read(bytes.NewReader(body)); err != nil {
		t.Errorf("trace unreadable: %v", err)
	}
}

func has(sub string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		if !contains(body, sub) {
			t.Errorf("body lacks %q: %.200q", sub, body)
		}
	}
}

// TestEveryRouteNeedsCredentials enumerates every registered route: without
// credentials (or with wrong ones) each answers 401 with the same fixed body;
// with basic auth or the bearer token each answers as expected. A route added
// without a case here fails the test.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	rec := recorder(t, tracecap.WithMinInterval(0))
	dash := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("dashboard")) })
	s := started(t,
		WithExpensiveInterval(0), // one request after another, several of them expensive
		WithBasicAuth(testUser, testPass),
		WithBearerToken(testToken),
		WithFlightRecorder(rec),
		WithTraceDir(rec.Dir()),
		WithCmdline(),
		WithHandler("/debug/vitals/", dash),
		WithReport(func() any { return map[string]string{"gomaxprocs": "2"} }),
	)
	cases := []routeCase{
		{"/debug/pprof/", "/debug/pprof/", "GET", 200, has("goroutine")},
		{"/debug/pprof/", "/debug/pprof/heap", "GET", 200, isProfile},
		{"/debug/pprof/profile", "/debug/pprof/profile?seconds=0.2", "GET", 200, isProfile},
		{"/debug/pprof/trace", "/debug/pprof/trace?seconds=0.2", "GET", 200, isTrace},
		{"/debug/pprof/symbol", "/debug/pprof/symbol", "GET", 200, has("num_symbols: 1")},
		{"/debug/pprof/cmdline", "/debug/pprof/cmdline", "GET", 200, has("admin.test")},
		{"/metrics", "/metrics", "GET", 200, has("go_goroutines")},
		{"/healthz", "/healthz?x=1", "POST", 200, has("ok")}, // open to GET and HEAD only
		{"/debug/vitals", "/debug/vitals", "GET", 200, has(`"gomaxprocs": "2"`)},
		{"/debug/vitals/goroutines", "/debug/vitals/goroutines", "GET", 200, has("goroutines in")},
		{"/debug/vitals/trace", "/debug/vitals/trace?seconds=0.2", "GET", 200, isTrace},
		{"/debug/vitals/flight", "/debug/vitals/flight?reason=test", "POST", 200, isTrace},
		{"/debug/vitals/", "/debug/vitals/ui", "GET", 200, has("dashboard")},
		{"", "/no/such/route", "GET", 404, nil},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.pattern] = true
	}
	for _, p := range routePatterns(s) {
		if !covered[p] {
			t.Errorf("route %s has no case in this test", p)
		}
	}
	var unauthBody []byte
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			for _, cr := range []cred{noCred, wrongBasic, wrongBearer} {
				resp, body := get(t, s, c.method, c.path, cr)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("%v credentials: status %d, want 401", cr, resp.StatusCode)
				}
				if unauthBody == nil {
					unauthBody = body
				}
				if !bytes.Equal(body, unauthBody) {
					t.Errorf("%v credentials: 401 body %q differs from %q: it reveals something", cr, body, unauthBody)
				}
				if ch := resp.Header.Get("WWW-Authenticate"); !strings.Contains(ch, "Basic") || !strings.Contains(ch, "Bearer") {
					t.Errorf("WWW-Authenticate = %q", ch)
				}
			}
			for _, cr := range []cred{basicCred, bearerCred} {
				resp, body := get(t, s, c.method, c.path, cr)
				if resp.StatusCode != c.want {
					t.Fatalf("%v credentials: status %d, want %d; body %.200q", cr, resp.StatusCode, c.want, body)
				}
				if c.check != nil {
					c.check(t, body)
				}
			}
		})
	}
	if string(unauthBody) != "unauthorized\n" {
		t.Errorf("401 body = %q", unauthBody)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	s, err := New(WithAddr("127.0.0.1:0"), withGetenv(map[string]string{TokenEnv: testToken}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if resp, _ := get(t, s, "GET", "/debug/vitals", noCred); resp.StatusCode != 401 {
		t.Errorf("no credentials: %d, want 401", resp.StatusCode)
	}
	if resp, _ := get(t, s, "GET", "/debug/vitals", bearerCred); resp.StatusCode != 200 {
		t.Errorf("env token: %d, want 200", resp.StatusCode)
	}
}

func TestMiddlewareAuth(t *testing.T) {
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Team") != "sre" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	s := started(t, WithMiddleware(mw))
	if resp, _ := get(t, s, "GET", "/healthz", noCred); resp.StatusCode != 403 {
		t.Errorf("without header: %d, want 403", resp.StatusCode)
	}
	if resp, _ := get(t, s, "GET", "/healthz", noCred, "X-Team", "sre"); resp.StatusCode != 200 {
		t.Errorf("with header: %d, want 200", resp.StatusCode)
	}
}

func TestNonLoopbackNeedsAuth(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		wantErr bool
	}{
		{"all interfaces", []Option{WithAddr(":6060")}, true},
		{"ipv4 any", []Option{WithAddr("0.0.0.0:6060")}, true},
		{"ipv6 any", []Option{WithAddr("[::]:6060")}, true},
		{"private ip", []Option{WithAddr("10.1.2.3:6060")}, true},
		{"host name", []Option{WithAddr("admin.example.com:6060")}, true},
		{"any with basic", []Option{WithAddr(":6060"), WithBasicAuth("a", "b")}, false},
		{"any with token", []Option{WithAddr(":6060"), WithBearerToken("t")}, false},
		{"any with env token", []Option{WithAddr(":6060"), withGetenv(map[string]string{TokenEnv: "t"})}, false},
		{"any with middleware", []Option{WithAddr(":6060"), WithMiddleware(func(h http.Handler) http.Handler { return h })}, false},
		{"any insecure", []Option{WithAddr(":6060"), WithInsecure()}, false},
		{"default", nil, false},
		{"localhost", []Option{WithAddr("localhost:0")}, false},
		{"ipv6 loopback", []Option{WithAddr("[::1]:0")}, false},
		{"127.0.0.2", []Option{WithAddr("127.0.0.2:0")}, false},
		{"bad address", []Option{WithAddr("nonsense")}, true},
		{"empty token", []Option{WithBearerToken("")}, true},
		{"empty password", []Option{WithBasicAuth("u", "")}, true},
		{"zero max duration", []Option{WithMaxDuration(0)}, true},
		{"negative budget", []Option{WithGoroutineBudget(-1)}, true},
		{"nil gatherer", []Option{WithGatherer(nil)}, true},
		{"duplicate pattern", []Option{WithHandler("/healthz", http.NotFoundHandler())}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{withGetenv(nil)}, tt.opts...)
			_, err := New(opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// withGetenv replaces the environment for the token lookup.
func withGetenv(env map[string]string) Option {
	return optionFunc(func(c *config) { c.getenv = func(k string) string { return env[k] } })
}

// TestDefaultServeMuxUntouched checks that no admin route, and no pprof
// route, lands on http.DefaultServeMux. (/debug/vars is there in this binary:
// client_golang imports expvar, whose init registers it. That is why a
// public server must not serve DefaultServeMux; admintest catches it.)
func TestDefaultServeMuxUntouched(t *testing.T) {
	s := started(t)
	get(t, s, "GET", "/debug/pprof/", noCred)
	paths := []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile", "/debug/pprof/trace"}
	for _, r := range s.Routes() {
		paths = append(paths, r.Pattern)
	}
	for _, p := range paths {
		req, _ := http.NewRequest("GET", p, nil)
		if _, pattern := http.DefaultServeMux.Handler(req); pattern != "" {
			t.Errorf("http.DefaultServeMux serves %s (pattern %q)", p, pattern)
		}
	}
}
