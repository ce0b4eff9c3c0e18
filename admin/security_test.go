package admin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govitals/vitals/tracecap"
)

// rawGet sends one HTTP/1.1 request over a fresh TCP connection with the
// Host header and extra header lines exactly as given (a rebinding browser
// sends its own name as Host), and returns the status and body.
func rawGet(t *testing.T, addr, method, path, host string, hdr ...string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	if method == "POST" {
		b.WriteString("Content-Type: text/plain\r\nContent-Length: 0\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", method, path, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestDNSRebindingRefused (issue 14 point 1): a server without credentials
// answers only to Host names a rebinding page cannot send. Before the fix
// the attacker's Host got 200 with heap and stack contents.
func TestDNSRebindingRefused(t *testing.T) {
	s := started(t, WithAllowedHosts("admin.internal"))
	_, port, _ := net.SplitHostPort(s.Addr())
	paths := []string{"/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=2", "/debug/vitals", "/metrics", "/no/such"}
	tests := []struct {
		host string
		want int
	}{
		{"attacker.example:" + port, http.StatusMisdirectedRequest},
		{"attacker.example", http.StatusMisdirectedRequest},
		{"localhost.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"admin.internal.attacker.example", http.StatusMisdirectedRequest},
		{"192.0.2.7:" + port, http.StatusMisdirectedRequest}, // a non-loopback literal on a loopback connection
		{":" + port, http.StatusMisdirectedRequest},
		{"127.0.0.1:" + port, http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LocalHost.:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"admin.internal:" + port, http.StatusOK},
		{"ADMIN.internal", http.StatusOK},
	}
	for _, tt := range tests {
		for _, p := range paths {
			want := tt.want
			if want == http.StatusOK && p == "/no/such" {
				want = http.StatusNotFound
			}
			code, body := rawGet(t, s.Addr(), "GET", p, tt.host, "Origin", "http://"+tt.host)
			if code != want {
				t.Errorf("Host %q %s: %d, want %d (%.80q)", tt.host, p, code, want, body)
			}
			if code == http.StatusMisdirectedRequest && (strings.Contains(body, "goroutine") || strings.Contains(body, "heap")) {
				t.Errorf("Host %q %s: refusal carries data: %.200q", tt.host, p, body)
			}
		}
	}
	// HTTP/1.0 without any Host: refused too.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /debug/vitals HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("HTTP/1.0 without Host: %d, want 421", resp.StatusCode)
	}
}

// TestDNSRebindingAuthenticatedServer: with credentials the Host check is
// not needed (a rebinding page has none) and not applied; without them every
// Host still gets the same 401.
func TestDNSRebindingAuthenticatedServer(t *testing.T) {
	s := started(t, WithBearerToken(testToken))
	if code, _ := rawGet(t, s.Addr(), "GET", "/debug/vitals", "ops-box.internal", "Authorization", "Bearer "+testToken); code != 200 {
		t.Errorf("with token, any Host: %d, want 200", code)
	}
	if code, body := rawGet(t, s.Addr(), "GET", "/debug/vitals", "attacker.example"); code != 401 || body != "unauthorized\n" {
		t.Errorf("without token: %d %q, want the fixed 401", code, body)
	}
}

// TestCrossSiteRefused (issue 14 point 1): a page of another site cannot
// start expensive or state-changing work, with or without cached
// credentials; the same requests from curl (no browser headers) or from a
// same-origin page still work, and cheap reads are left alone.
func TestCrossSiteRefused(t *testing.T) {
	rec := recorder(t, tracecap.WithMinInterval(0))
	s := started(t, WithExpensiveInterval(0), WithFlightRecorder(rec), withGCFresh(time.Hour), WithMaxDuration(100*time.Millisecond),
		WithHandler("/debug/vitals/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "stream") })))
	host := s.Addr()
	guardedReqs := []struct{ method, path string }{
		{"GET", "/debug/pprof/profile?seconds=0.05"},
		{"GET", "/debug/pprof/trace?seconds=0.05"},
		{"GET", "/debug/pprof/heap?gc=1"},
		{"GET", "/debug/pprof/allocs?seconds=0.05"},
		{"GET", "/debug/pprof/goroutine?debug=2"},
		{"GET", "/debug/vitals/goroutines"},
		{"GET", "/debug/vitals/trace?seconds=0.05"},
		{"POST", "/debug/vitals/flight"},
		{"POST", "/debug/pprof/symbol"},
	}
	browsers := []struct {
		name string
		hdr  []string
		want int
	}{
		{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://attacker.example"}, http.StatusForbidden},
		{"same-site other port", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"old browser Origin only", []string{"Origin", "http://attacker.example"}, http.StatusForbidden},
		{"Origin null", []string{"Origin", "null"}, http.StatusForbidden},
		{"same-origin page", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://" + host}, http.StatusOK},
		{"typed URL", []string{"Sec-Fetch-Site", "none"}, http.StatusOK},
		{"curl", nil, http.StatusOK},
	}
	for _, b := range browsers {
		for _, r := range guardedReqs {
			code, body := rawGet(t, host, r.method, r.path, host, b.hdr...)
			if code != b.want {
				t.Errorf("%s: %s %s: %d, want %d (%.100q)", b.name, r.method, r.path, code, b.want, body)
			}
		}
	}
	// An event stream opened by another site's page (EventSource sends
	// Accept: text/event-stream) would hold a capped stream place.
	if code, _ := rawGet(t, host, "GET", "/debug/vitals/events", host, "Sec-Fetch-Site", "cross-site", "Accept", "text/event-stream"); code != http.StatusForbidden {
		t.Errorf("cross-site event stream: %d, want 403", code)
	}
	if code, _ := rawGet(t, host, "GET", "/debug/vitals/events", host, "Sec-Fetch-Site", "same-origin", "Accept", "text/event-stream"); code != http.StatusOK {
		t.Errorf("same-origin event stream: %d, want 200", code)
	}
	// A cheap read from another site is answered (the browser keeps the
	// answer from the page; there is nothing to start).
	if code, _ := rawGet(t, host, "GET", "/debug/pprof/heap?debug=1", host, "Sec-Fetch-Site", "cross-site"); code != 200 {
		t.Errorf("cross-site cheap read: %d, want 200", code)
	}
	// With credentials a cross-site request is still refused: a browser may
	// attach cached basic-auth credentials to it.
	a := started(t, WithBasicAuth(testUser, testPass), WithMaxDuration(100*time.Millisecond))
	resp, _ := get(t, a, "GET", "/debug/pprof/profile?seconds=0.05", basicCred, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("authenticated cross-site profile: %d, want 403", resp.StatusCode)
	}
	resp, _ = get(t, a, "GET", "/debug/pprof/profile?seconds=0.05", noCred, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cross-site without credentials: %d, want 401 (the route must not be revealed)", resp.StatusCode)
	}
}

// fakeAddrListener reports a different address than the one it listens on:
// what a hosts file mapping "localhost" to 192.0.2.2 would make of
// net.Listen("tcp", "localhost:6060").
type fakeAddrListener struct {
	net.Listener
	addr net.Addr
}

func (l fakeAddrListener) Addr() net.Addr { return l.addr }

// TestLoopbackDecidedOnBoundAddress (issue 14 point 6): "localhost" is
// trusted only if the listener really bound a loopback address.
func TestLoopbackDecidedOnBoundAddress(t *testing.T) {
	elsewhere := optionFunc(func(c *config) {
		c.listen = func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			return fakeAddrListener{ln, &net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 6060}}, nil
		}
	})
	tests := []struct {
		name    string
		opts    []Option
		wantErr bool
	}{
		{"localhost resolving elsewhere", []Option{WithAddr("localhost:0"), elsewhere}, true},
		{"with token", []Option{WithAddr("localhost:0"), elsewhere, WithBearerToken(testToken)}, false},
		{"insecure", []Option{WithAddr("localhost:0"), elsewhere, WithInsecure()}, false},
		{"real localhost", []Option{WithAddr("localhost:0")}, false},
		{"real ::1", []Option{WithAddr("[::1]:0")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(append([]Option{withGetenv(nil)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Start()
			if tt.name == "real ::1" && err != nil && strings.Contains(err.Error(), "cannot assign") {
				t.Skip("no IPv6 loopback here")
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start: %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "192.0.2.2") {
				t.Errorf("error %q does not name the address", err)
			}
		})
	}
}

// TestTokenWhitespace (issue 14 point 14): a token with the newline of a
// secret file is trimmed, so the operator can log in; one that no client
// can send is refused at New.
func TestTokenWhitespace(t *testing.T) {
	for _, env := range []string{testToken + "\n", "  " + testToken + "\t\r\n"} {
		s, err := New(WithAddr("127.0.0.1:0"), withGetenv(map[string]string{TokenEnv: env}))
		if err != nil {
			t.Fatalf("token %q: %v", env, err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if resp, _ := get(t, s, "GET", "/debug/vitals", bearerCred); resp.StatusCode != 200 {
			t.Errorf("env token %q: %d, want 200", env, resp.StatusCode)
		}
		if resp, _ := get(t, s, "GET", "/debug/vitals", noCred); resp.StatusCode != 401 {
			t.Errorf("env token %q, no credentials: %d, want 401", env, resp.StatusCode)
		}
		s.Close()
	}
	if s, err := New(WithBearerToken(" " + testToken + "\n")); err != nil || !s.Authenticated() {
		t.Errorf("WithBearerToken with surrounding whitespace: %v", err)
	}
	for _, bad := range []string{"", " \n", "two words", "tab\tinside", "nul\x00"} {
		if _, err := New(WithBearerToken(bad)); err == nil {
			t.Errorf("WithBearerToken(%q) accepted", bad)
		}
		if _, err := New(withGetenv(map[string]string{TokenEnv: bad})); err == nil && bad != "" {
			t.Errorf("%s=%q accepted", TokenEnv, bad)
		}
	}
}

// TestSecondsMustBeUsable (issue 14 point 5): ?seconds= that would truncate
// to nothing, or is not a finite number, is a 400 on every timed route;
// a huge one is capped, not refused with a misleading message.
func TestSecondsMustBeUsable(t *testing.T) {
	rec := recorder(t)
	s := started(t, WithExpensiveInterval(0), WithMaxDuration(100*time.Millisecond), WithTraceDir(rec.Dir()))
	routes := []string{"/debug/pprof/profile", "/debug/pprof/trace", "/debug/vitals/trace", "/debug/vitals/trace?save=1", "/debug/pprof/allocs"}
	for _, r := range routes {
		sep := "?"
		if strings.Contains(r, "?") {
			sep = "&"
		}
		for _, v := range []string{"1e-10", "4.9e-324", "NaN", "Inf", "-Inf", "0", "-1", "0.0000001", "abc"} {
			resp, body := get(t, s, "GET", r+sep+"seconds="+v, noCred)
			if resp.StatusCode != http.StatusBadRequest || !contains(body, "at least 0.001") {
				t.Errorf("%s seconds=%s: %d %q, want 400 saying the minimum", r, v, resp.StatusCode, body)
			}
		}
		resp, body := get(t, s, "GET", r+sep+"seconds=1000001", noCred)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Vitals-Duration-Capped") != "1" {
			t.Errorf("%s seconds=1000001: %d %.80q, want 200 capped", r, resp.StatusCode, body)
		}
	}
}

// TestSymbolBounded (issue 14 point 4): a 1 MiB POST of one address with a
// long name answered 8.7 MB before; each distinct address is now answered
// once, and too many distinct addresses or too large a body get 413.
func TestSymbolBounded(t *testing.T) {
	s := started(t)
	pc := fmt.Sprintf("%#x", reflect.ValueOf(symbolTarget).Pointer())
	post := func(body string) (*http.Response, string) {
		resp, err := http.Post("http://"+s.Addr()+"/debug/pprof/symbol", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	same := strings.Repeat(pc+"+", (1<<20-1)/(len(pc)+1))
	resp, body := post(same)
	if resp.StatusCode != 200 || len(body) > 1024 {
		t.Errorf("1 MiB of one address: %d, %d bytes, want 200 with one line", resp.StatusCode, len(body))
	}
	var many strings.Builder
	for i := range maxSymbols + 1 {
		fmt.Fprintf(&many, "%#x+", 0x400000+i)
	}
	if resp, body := post(many.String()); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("%d distinct addresses: %d %.100q, want 413", maxSymbols+1, resp.StatusCode, body)
	}
	if resp, _ := post(strings.Repeat("0", maxSymbolBody+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over %d bytes: %d, want 413", maxSymbolBody, resp.StatusCode)
	}
}

// TestProfileWritesShareOneBudget (issue 14 point 3, issue 17 point 5):
// plain profiles of every kind and symbol lookups, sent concurrently, are
// written one at a time, and their writing time stays within the budget
// (perSecond per second, plus the burst) however many clients ask; past
// the in-flight cap the answer is 429 with Retry-After.
func TestProfileWritesShareOneBudget(t *testing.T) {
	parked(t, 2000) // goroutine?debug=1 takes a few ms
	const perSecond = 4 * time.Millisecond
	// Reuse off: this test is about the writes themselves.
	s := started(t, WithProfileBudget(perSecond, 4), WithProfileReuse(0))
	paths := []string{
		"/debug/pprof/goroutine?debug=1", "/debug/pprof/goroutine", "/debug/pprof/heap", "/debug/pprof/allocs",
		"/debug/pprof/block", "/debug/pprof/mutex", "/debug/pprof/threadcreate", "/debug/pprof/heap?debug=1",
	}
	const clients = 32
	var wg sync.WaitGroup
	codes := make(chan int, clients)
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + s.Addr() + paths[i%len(paths)])
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	elapsed := time.Since(start)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	b := s.writes
	if p := b.peak.Load(); p != 1 {
		t.Errorf("%d profile writes ran at once, want 1", p)
	}
	spent := time.Duration(b.spent.Load())
	allowed := b.burst + time.Duration(float64(perSecond)*elapsed.Seconds())
	// A write starts while the balance is positive, so the balance is
	// overdrawn by at most one write's cost: the largest one bounds it.
	perWrite := time.Duration(b.maxCost.Load())
	if spent > allowed+perWrite {
		t.Errorf("writes took %v in %v, budget allows %v", spent, elapsed, allowed)
	}
	// And the budget made them wait: paying back what was spent beyond the
	// burst takes (spent-burst)/rate.
	if payback := time.Duration(float64(spent-b.burst-perWrite) / float64(perSecond) * float64(time.Second)); elapsed < payback/2 {
		t.Errorf("%v of writing over %v: the budget of %v/s did not hold them back", spent, elapsed, perSecond)
	}
	if count[200] == 0 || count[429] == 0 || count[200]+count[429] != clients {
		t.Errorf("status counts %v: want some 200, some 429, nothing else", count)
	}
	t.Logf("%d clients in %v: %v; %d writes took %v", clients, elapsed, count, b.writes.Load(), spent)
}

// TestBackToBackNotRefused (issue 17 point 4): an operator fetching a full
// dump right after another, or two expensive requests in a row, waits a
// moment instead of getting 429; a dump of a few goroutines does not use
// the expensive slot at all; a flood is still refused.
func TestBackToBackNotRefused(t *testing.T) {
	s := started(t, withGCFresh(time.Hour))
	for i := range 2 {
		for _, p := range []string{"/debug/pprof/goroutine?debug=2", "/debug/vitals/goroutines", "/debug/pprof/heap?gc=1"} {
			if resp, body := get(t, s, "GET", p, noCred); resp.StatusCode != 200 {
				t.Errorf("round %d %s: %d %.80q, want 200", i, p, resp.StatusCode, body)
			}
		}
	}
	if n := s.guards[guardGoroutines].peak.Load(); n != 0 {
		t.Error("a dump of a few goroutines took the expensive slot")
	}
	// A waiting request gives up with its client: hold the slot with a
	// 3 s CPU profile, and let a heap?gc=1 that waits behind it go after
	// 200 ms; its place in the queue is free again long before the profile
	// ends.
	go func() {
		if resp, err := http.Get("http://" + s.Addr() + "/debug/pprof/profile?seconds=3"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	sl := s.guards[guardProfile].slot
	waitFor(t, func() bool { return sl.active.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addr()+"/debug/pprof/heap?gc=1", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("heap?gc=1 behind a 3 s profile answered %d within 200 ms, want it still waiting", resp.StatusCode)
	}
	gone := time.Now()
	waitFor(t, func() bool {
		sl.mu.Lock()
		defer sl.mu.Unlock()
		return sl.waiting == 0
	})
	if d := time.Since(gone); d > time.Second || sl.active.Load() != 1 {
		t.Errorf("the waiter left the queue %v after its client (profile still running: %v)", d, sl.active.Load() == 1)
	}
	// A flood is still refused: 16 at once behind the running profile
	// (the few that may wait give up after 500 ms).
	var wg sync.WaitGroup
	var refused atomic.Int32
	impatient := &http.Client{Timeout: 500 * time.Millisecond}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := impatient.Get("http://" + s.Addr() + "/debug/pprof/heap?gc=1"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					refused.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := refused.Load(); n < 16-4 {
		t.Errorf("%d of 16 concurrent expensive requests refused, want all but the 4 that may wait", n)
	}
}
