package admin

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rawConn sends requests over one keep-alive TCP connection exactly as
// written (path tricks are not cleaned by a client), reconnecting when the
// server closes it.
type rawConn struct {
	t    *testing.T
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func (rc *rawConn) do(method, target string, hdr []string) (int, string) {
	rc.t.Helper()
	for attempt := 0; ; attempt++ {
		if rc.c == nil {
			c, err := net.DialTimeout("tcp", rc.addr, 5*time.Second)
			if err != nil {
				rc.t.Fatal(err)
			}
			rc.c, rc.br = c, bufio.NewReader(c)
		}
		_ = rc.c.SetDeadline(time.Now().Add(10 * time.Second))
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, rc.addr)
		for _, h := range hdr {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
		_, err := io.WriteString(rc.c, b.String())
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(rc.br, &http.Request{Method: method})
		}
		if err != nil {
			rc.c.Close()
			rc.c = nil
			if attempt < 2 {
				continue
			}
			rc.t.Fatalf("%s %s: %v", method, target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Close {
			rc.c.Close()
			rc.c = nil
		}
		return resp.StatusCode, string(body)
	}
}

// TestAuthMatrix keeps issue 14's adversarial auth review as a test: every
// route (and unknown ones) × path tricks × methods × credential variants,
// sent raw over TCP, answers 401 with one fixed body, except the open
// /healthz (GET or HEAD of exactly that path), which says "ok" and nothing
// else. About 2,000 requests over keep-alive connections: a second or two.
func TestAuthMatrix(t *testing.T) {
	rec := recorder(t)
	s := started(t, WithBasicAuth(testUser, testPass), WithBearerToken(testToken), WithCmdline(),
		WithFlightRecorder(rec), WithTraceDir(rec.Dir()),
		WithHandler("/debug/vitals/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "dashboard") })))
	paths := []string{"/", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile", "/debug/pprof/symbol",
		"/debug/pprof/cmdline", "/metrics", "/healthz", "/debug/vitals", "/debug/vitals/goroutines",
		"/debug/vitals/trace", "/debug/vitals/flight", "/debug/vitals/ui", "/no/such"}
	tricks := []struct {
		name string
		f    func(p string) string
	}{
		{"as is", func(p string) string { return p }},
		{"trailing slash", func(p string) string { return strings.TrimSuffix(p, "/") + "/" }},
		{"double slash", func(p string) string { return "/" + p }},
		{"dot segment", func(p string) string { return "/./" + strings.TrimPrefix(p, "/") }},
		{"dot-dot", func(p string) string { return "/x/.." + p }},
		{"encoded", func(p string) string { return strings.ReplaceAll(p, "e", "%65") }},
		{"encoded slash", func(p string) string { return "/" + strings.ReplaceAll(p[1:], "/", "%2f") }},
		{"upper case", strings.ToUpper},
		{"semicolon", func(p string) string { return p + ";x=1" }},
		{"query", func(p string) string { return p + "?debug=2&seconds=1&force=1" }},
		{"absolute URI", func(p string) string { return "http://" + s.Addr() + p }},
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND"}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	creds := []struct{ name, hdr string }{
		{"none", ""},
		{"empty bearer", "Authorization: Bearer "},
		{"bearer alone", "Authorization: Bearer"},
		{"wrong bearer", "Authorization: Bearer " + testToken + "x"},
		{"bearer prefix", "Authorization: Bearer " + testToken[:len(testToken)-1]},
		{"token as basic password", "Authorization: Basic " + b64(testUser+":"+testToken)},
		{"wrong basic password", "Authorization: Basic " + b64(testUser+":"+testPass+"x")},
		{"basic user only", "Authorization: Basic " + b64(testUser+":")},
		{"basic malformed", "Authorization: Basic !!!"},
		{"token in other scheme", "Authorization: Token " + testToken},
		{"password as bearer", "Authorization: Bearer " + testPass},
		{"token in X-Api-Key", "X-Api-Key: " + testToken},
	}
	rc := &rawConn{t: t, addr: s.Addr()}
	defer func() {
		if rc.c != nil {
			rc.c.Close()
		}
	}()
	var first string
	n := 0
	check := func(method, target string, cred string) {
		t.Helper()
		var hdr []string
		if cred != "" {
			hdr = []string{cred}
		}
		code, body := rc.do(method, target, hdr)
		n++
		if openHealthz(method, target) {
			if code != 200 || (method == "GET" && body != "ok\n") {
				t.Errorf("%s %s (%s): %d %q, want 200 ok", method, target, cred, code, body)
			}
			return
		}
		if code != http.StatusUnauthorized {
			t.Errorf("%s %s (%q): %d %.60q, want 401", method, target, cred, code, body)
			return
		}
		if method == "HEAD" {
			return
		}
		if first == "" {
			first = body
		}
		if body != first {
			t.Errorf("%s %s (%q): 401 body %q differs from %q", method, target, cred, body, first)
		}
	}
	for _, p := range paths {
		for _, tr := range tricks {
			target := tr.f(p)
			for _, m := range methods {
				check(m, target, "")
			}
			for _, c := range creds[1:] {
				check("GET", target, c.hdr)
			}
		}
	}
	for _, m := range methods {
		for _, c := range creds {
			check(m, "/debug/pprof/heap", c.hdr)
		}
	}
	if first != "unauthorized\n" {
		t.Errorf("401 body %q", first)
	}
	t.Logf("%d requests", n)
}

// openHealthz reports whether the server answers target without
// credentials: GET or HEAD whose decoded path is exactly /healthz.
func openHealthz(method, target string) bool {
	if method != "GET" && method != "HEAD" {
		return false
	}
	u, err := url.ParseRequestURI(target)
	return err == nil && u.Path == "/healthz"
}

// TestBindAddresses keeps the review's bind-address forms as a table:
// without credentials each is refused by New or Start, or serves on a
// loopback address, whatever the form.
func TestBindAddresses(t *testing.T) {
	tests := []struct {
		addr   string
		refuse bool // must be refused
	}{
		{"127.0.0.1:0", false},
		{"127.0.0.2:0", false},
		{"localhost:0", false},
		{"[::1]:0", false},
		{"[::ffff:127.0.0.1]:0", false},
		{":0", true},
		{"0.0.0.0:0", true},
		{"[::]:0", true},
		{"[0::0]:0", true},
		{"0:0", true},
		{"127.1:0", true}, // not an IP literal Go parses: refused rather than guessed
		{"2130706433:0", true},
		{"0x7f000001:0", true},
		{"LOCALHOST:0", true},
		{"localhost.:0", true},
		{"[fe80::1%lo]:0", true},
		{"192.0.2.1:0", true},
		{"example.com:0", true},
		{"::1:0", true},
		{"127.0.0.1", true},
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			s, err := New(WithAddr(tt.addr), withGetenv(nil))
			if err == nil {
				defer s.Close()
				err = s.Start()
				if err == nil {
					host, _, _ := net.SplitHostPort(s.Addr())
					if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
						t.Fatalf("serves without credentials on %s", s.Addr())
					}
				} else if strings.Contains(err.Error(), "cannot assign") || strings.Contains(err.Error(), "address family") {
					t.Skipf("not available here: %v", err)
				}
			}
			if tt.refuse && err == nil {
				t.Errorf("%q served on %s without credentials", tt.addr, s.Addr())
			}
			if !tt.refuse && err != nil {
				t.Errorf("%q refused: %v", tt.addr, err)
			}
		})
	}
}
