package adminclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a real loopback server that records the Authorization header
// of every request by path.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	auth map[string][]string
}

func newRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{auth: map[string][]string{}}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auth[r.URL.Path] = append(rec.auth[r.URL.Path], r.Header.Get("Authorization"))
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) got(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth[path]...)
}

// TestRedirectKeepsCredentialsOnOrigin redirects between two real loopback
// servers (same host, different ports, so different origins): the second
// must never see the credentials, while a same-origin redirect keeps them.
func TestRedirectKeepsCredentialsOnOrigin(t *testing.T) {
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/back" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		io.WriteString(w, "other")
	})
	var first *recorder
	first = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/landing", http.StatusFound)
		case "/roundtrip":
			http.Redirect(w, r, other.URL+"/back?to="+first.URL+"/home", http.StatusFound)
		default:
			io.WriteString(w, "first")
		}
	})
	for _, creds := range []Credentials{{Token: "s3cret"}, {User: "ops", Password: "pw", Basic: true}} {
		c := New(creds, FollowRedirects())
		get := func(path string) string {
			resp, err := c.Get(context.Background(), first.URL+path, true)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		if body := get("/away"); body != "other" {
			t.Fatalf("/away ended at %q", body)
		}
		if got := other.got("/landing"); len(got) == 0 || got[len(got)-1] != "" {
			t.Errorf("%+v: the other origin received Authorization %q", creds, got)
		}
		if body := get("/same"); body != "first" {
			t.Fatalf("/same ended at %q", body)
		}
		if got := first.got("/landing"); len(got) == 0 || got[len(got)-1] == "" {
			t.Errorf("%+v: a same-origin redirect lost the credentials", creds)
		}
		// Away and back again: once dropped, they stay dropped.
		if body := get("/roundtrip"); body != "first" {
			t.Fatalf("/roundtrip ended at %q", body)
		}
		if got := first.got("/home"); len(got) == 0 || got[len(got)-1] != "" {
			t.Errorf("%+v: credentials came back after leaving the origin: %q", creds, got)
		}
		if got := other.got("/back"); got[len(got)-1] != "" {
			t.Errorf("%+v: /back on the other origin got %q", creds, got[len(got)-1])
		}
	}
}

func TestNoRedirectByDefault(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	_, err := New(Credentials{Token: "t"}).Get(context.Background(), srv.URL+"/x", true)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusFound || !strings.Contains(err.Error(), "redirected to /login") {
		t.Fatalf("err %v, want a 302 StatusError", err)
	}
	if len(srv.got("/login")) != 0 {
		t.Error("followed the redirect")
	}
}

// TestRetryAfter: one 429 with a short Retry-After is waited out; a second
// one, or a Retry-After past the bound, is an error that is not a body.
func TestRetryAfter(t *testing.T) {
	var mu sync.Mutex
	refusals := map[string]int{}
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := refusals[r.URL.Path]
		refusals[r.URL.Path]++
		mu.Unlock()
		switch {
		case r.URL.Path == "/once" && n == 0:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "admin: another expensive request is running; retry later", http.StatusTooManyRequests)
		case r.URL.Path == "/always":
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusTooManyRequests)
		case r.URL.Path == "/long":
			w.Header().Set("Retry-After", "3600")
			http.Error(w, "busy", http.StatusTooManyRequests)
		default:
			io.WriteString(w, "dump")
		}
	})
	var slept []time.Duration
	c := New(Credentials{})
	c.sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }

	resp, err := c.Get(context.Background(), srv.URL+"/once", false)
	if err != nil {
		t.Fatalf("/once: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "dump" || len(slept) != 1 || slept[0] != time.Second {
		t.Errorf("/once: body %q, slept %v", b, slept)
	}

	_, err = c.Get(context.Background(), srv.URL+"/always", false)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 429 || len(srv.got("/always")) != 2 {
		t.Errorf("/always: %v after %d requests; want a 429 error after 2", err, len(srv.got("/always")))
	}
	_, err = c.Get(context.Background(), srv.URL+"/long", false)
	if !errors.As(err, &se) || se.RetryAfter != time.Hour || len(srv.got("/long")) != 1 {
		t.Errorf("/long: %v; want an immediate 429 error saying 1h", err)
	}

	// The real wait is cancelled with the context.
	c.sleep = sleepCtx
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Get(ctx, srv.URL+"/always", false)
	if err == nil || time.Since(start) > 900*time.Millisecond {
		t.Errorf("cancelled wait: %v after %v", err, time.Since(start))
	}
}

func TestStatusErrorIsBoundedAndClean(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "\x1b]0;pwned\x07"+strings.Repeat("A", 1<<20))
	})
	u := strings.Replace(srv.URL, "http://", "http://ops:hunter2@", 1) + "/x"
	_, err := New(Credentials{}).Get(context.Background(), u, false)
	if err == nil {
		t.Fatal("no error for a 500")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x07") || strings.Contains(msg, "hunter2") || len(msg) > 400 || !strings.Contains(msg, "…") {
		t.Errorf("error not clean, redacted and bounded (%d bytes): %q", len(msg), msg)
	}
}

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"t\x00\x07\x7f", `t\x00\x07\x7f`},
		{"line\nnext", `line\nnext`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202e", `bidi \u202e`},
		{"bad \xff", `bad \xff`},
		{"héllo", "héllo"},
	} {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := CleanN(strings.Repeat("é", 300), 200); got != strings.Repeat("é", 200)+"…" {
		t.Errorf("bound: %d runes", len([]rune(got)))
	}
}

func TestFromFlags(t *testing.T) {
	env := func(string) string { return " envtok\n" }
	c, err := FromFlags("", "", env)
	if err != nil || c.Token != "envtok" {
		t.Errorf("env token: %+v %v", c, err)
	}
	c, _ = FromFlags("flagtok", "", env)
	if c.Token != "flagtok" {
		t.Errorf("flag wins: %+v", c)
	}
	c, err = FromFlags("", "ops:p:w", func(string) string { return "" })
	if err != nil || !c.Basic || c.User != "ops" || c.Password != "p:w" {
		t.Errorf("basic: %+v %v", c, err)
	}
	if _, err := FromFlags("", "nocolon", env); err == nil {
		t.Error("user without colon accepted")
	}
}
