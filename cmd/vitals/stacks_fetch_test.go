package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestStacksFetchAdmin runs the binary against real loopback servers: the
// base URL finds /debug/pprof/goroutine?debug=2, the token comes from
// $VITALS_ADMIN_TOKEN like doctor's, a redirect to another port gets no
// credentials, a short 429 is waited out and a refusal is never read as a
// dump.
func TestStacksFetchAdmin(t *testing.T) {
	dump, err := os.ReadFile(fixtures + "pprof_debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][]string{} // "server path?query" -> Authorization values
	record := func(name string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		k := name + " " + r.URL.Path + "?" + r.URL.RawQuery
		seen[k] = append(seen[k], r.Header.Get("Authorization"))
	}
	got := func(k string) []string {
		mu.Lock()
		defer mu.Unlock()
		return seen[k]
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("other", r)
		w.Write(dump)
	}))
	defer other.Close()
	busy := 0
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("admin", r)
		if u, p, ok := r.BasicAuth(); !(ok && u == "ops" && p == "pw") && r.Header.Get("Authorization") != "Bearer envtok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/debug/pprof/goroutine":
			w.Write(dump)
		case "/moved/debug/pprof/goroutine":
			http.Redirect(w, r, other.URL+"/debug/pprof/goroutine?debug=2", http.StatusFound)
		case "/busy/debug/pprof/goroutine":
			mu.Lock()
			busy++
			first := busy == 1
			mu.Unlock()
			if first {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "admin: another expensive request is running; retry later", http.StatusTooManyRequests)
				return
			}
			w.Write(dump)
		case "/refused/debug/pprof/goroutine":
			http.Error(w, "admin: another expensive request is running; retry later", http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	}))
	defer admin.Close()
	env := []string{"VITALS_ADMIN_TOKEN=envtok"}

	for _, base := range []string{admin.URL, admin.URL + "/", admin.URL + "/debug/pprof/"} {
		code, out, errOut := runBin(t, nil, env, "stacks", base)
		if code != 0 || !strings.Contains(out, "19 goroutines") {
			t.Errorf("stacks %s: exit %d, stderr %q\n%s", base, code, errOut, out)
		}
	}
	if n := len(got("admin /debug/pprof/goroutine?debug=2")); n != 3 {
		t.Errorf("base URLs: %d requests for /debug/pprof/goroutine?debug=2, want 3", n)
	}

	// A redirect to another origin (same host, another port).
	code, out, errOut := runBin(t, nil, env, "stacks", admin.URL+"/moved/debug/pprof/goroutine")
	if code != 0 || !strings.Contains(out, "19 goroutines") {
		t.Errorf("redirect: exit %d, stderr %q", code, errOut)
	}
	if a := got("other /debug/pprof/goroutine?debug=2"); len(a) != 1 || a[0] != "" {
		t.Errorf("the other origin received Authorization %q", a)
	}
	// The same with --user.
	code, _, errOut = runBin(t, nil, []string{"VITALS_ADMIN_TOKEN="}, "stacks", "--user", "ops:pw", admin.URL+"/moved/debug/pprof/goroutine")
	if a := got("other /debug/pprof/goroutine?debug=2"); code != 0 || len(a) != 2 || a[1] != "" {
		t.Errorf("basic auth: exit %d (%s), the other origin saw %q", code, errOut, a)
	}

	// One short 429 is waited out.
	code, out, errOut = runBin(t, nil, env, "stacks", admin.URL+"/busy/debug/pprof/goroutine")
	if code != 0 || !strings.Contains(out, "19 goroutines") || len(got("admin /busy/debug/pprof/goroutine?debug=2")) != 2 {
		t.Errorf("429 then 200: exit %d, stderr %q", code, errOut)
	}
	// A refusal without Retry-After is an error, not a dump.
	code, out, errOut = runBin(t, nil, env, "stacks", "--json", admin.URL+"/refused/debug/pprof/goroutine")
	if code != 1 || out != "" || !strings.Contains(errOut, "429") {
		t.Errorf("refused: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without credentials: the 401 names nothing secret and exits 1.
	code, _, errOut = runBin(t, nil, []string{"VITALS_ADMIN_TOKEN="}, "stacks", admin.URL)
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("no token: exit %d, stderr %q", code, errOut)
	}
}

func TestDumpURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:6060":                          "http://127.0.0.1:6060/debug/pprof/goroutine?debug=2",
		"http://127.0.0.1:6060/debug/vitals":             "http://127.0.0.1:6060/debug/pprof/goroutine?debug=2",
		"https://h/debug/pprof/goroutine":                "https://h/debug/pprof/goroutine?debug=2",
		"http://h/debug/pprof/goroutine?debug=1":         "http://h/debug/pprof/goroutine?debug=1",
		"http://h/prefix/debug/pprof/goroutine?seconds=": "http://h/prefix/debug/pprof/goroutine?debug=2&seconds=",
	} {
		if got, err := dumpURL(in); err != nil || got != want {
			t.Errorf("dumpURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
