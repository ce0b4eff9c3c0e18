package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDoctorHostileTargets runs the binary against targets that try to hurt
// the operator's terminal and logs: a password in the URL, an escape
// sequence in a fact, a 3 MB number. The output names no password, carries
// no raw control character and stays small.
func TestDoctorHostileTargets(t *testing.T) {
	huge := strings.Repeat("9", 3<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/esc/debug/vitals":
			w.Write([]byte(`{"state":{"facts":{"gomaxprocs":2,"gotraceback":"\u001b]0;pwned\u0007\u001b[2Jsingle","admin_addr":"127.0.0.1:1\u001b[31m"}},"routes":[]}`))
		case "/huge/debug/vitals":
			w.Write([]byte(`{"state":{"facts":{"gomaxprocs":` + huge + `}},"routes":[]}`))
		case "/hugestr/debug/vitals":
			w.Write([]byte(`{"state":{"facts":{"gomaxprocs":2,"gotraceback":"` + strings.Repeat("A", 3<<20) + `","cpu_limit_source":"` + strings.Repeat("B", 1<<20) + `"}},"routes":[]}`))
		case "/hugeerr/debug/vitals":
			w.Write([]byte(`{"state": ` + huge))
		default:
			http.Error(w, "\x1b]0;owned\x07 nope", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	withPass := strings.Replace(srv.URL, "http://", "http://ops:PASSWORD123@", 1)
	for _, target := range []string{withPass + "/broken", withPass + "/esc", srv.URL + "/huge", srv.URL + "/hugestr", srv.URL + "/hugeerr", "http://ops:PASSWORD123@[::1"} {
		for _, format := range []string{"text", "json"} {
			args := []string{"doctor", "--color", "never", target}
			if format == "json" {
				args = append(args, "--json")
			}
			code, out, errOut := runBin(t, nil, []string{"NO_COLOR=1"}, args...)
			all := out + errOut
			short := target
			if len(short) > 60 {
				short = short[:60]
			}
			if code != exitWarn && code != exitFail {
				t.Errorf("%s %s: exit %d", short, format, code)
			}
			if strings.Contains(all, "PASSWORD123") {
				t.Errorf("%s %s: the password is printed:\n%s", short, format, all)
			}
			if strings.ContainsAny(all, "\x1b\x07") {
				t.Errorf("%s %s: raw control characters reach the terminal:\n%q", short, format, all)
			}
			if len(all) > 16<<10 {
				t.Errorf("%s %s: %d bytes of output: remote strings are not bounded", short, format, len(all))
			}
		}
	}
}

// TestDoctorRootMissing: a --root that is not there is a usage error, not
// a clean bill of health.
func TestDoctorRootMissing(t *testing.T) {
	for _, root := range []string{"/nonexistent/vitals-root", "doctor.go"} {
		code, out, errOut := runBin(t, nil, nil, "doctor", "--root", root)
		if code != exitUsage || !strings.Contains(errOut, "--root") || out != "" {
			t.Errorf("--root %s: exit %d, stderr %q, stdout %q; want %d", root, code, errOut, out, exitUsage)
		}
	}
}
