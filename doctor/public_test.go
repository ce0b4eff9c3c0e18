package doctor_test

import (
	"context"
	"expvar"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"slices"
	"strings"
	"testing"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// pprofMux is the mistake doctor --public exists for: a public mux with
// net/http/pprof and expvar on it.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("shop\n")) })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}

func TestPublic(t *testing.T) {
	unauthAdmin, err := admin.New(admin.WithAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    http.Handler
		want []string // paths that must be reported; nil = clean
	}{
		{"net/http/pprof and expvar", pprofMux(), []string{
			"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/goroutine", "/debug/pprof/heap",
			"/debug/pprof/cmdline", "/debug/pprof/symbol", "/debug/vars",
		}},
		{"vitals admin handler without auth on the public port", unauthAdmin.Handler(), []string{
			"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap", "/debug/vitals", "/debug/vitals/goroutines?format=text",
		}},
		{"service with public metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				_, _ = w.Write([]byte("# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 12\n"))
				return
			}
			http.NotFound(w, r)
		}), nil},
		{"plain service", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte("hello\n"))
		}), nil},
		{"catch-all page", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html><body>welcome to the shop: goroutine heap profile</body></html>"))
		}), nil},
		{"catch-all echoing the path", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("no page at " + r.URL.Path))
		}), nil},
		{"login redirect", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login", http.StatusFound)
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			a := doctor.Public(context.Background(), srv.URL)
			if a.Error != "" {
				t.Fatal(a.Error)
			}
			if !a.Facts.PublicProbed {
				t.Error("PublicProbed not set")
			}
			for _, p := range tt.want {
				if !slices.Contains(a.Facts.DebugOnPublic, p) {
					t.Errorf("%s not reported; found %v", p, a.Facts.DebugOnPublic)
				}
			}
			pprofRule := statuses(a.Results)["pprof"]
			// The unauthenticated admin serves /metrics too.
			wantMetrics := strings.Contains(tt.name, "metrics") || strings.Contains(tt.name, "vitals admin")
			if m := statuses(a.Results)["metrics"]; (m == "pass") != wantMetrics {
				t.Errorf("metrics rule %s, want pass: %v", m, wantMetrics)
			}
			if tt.want == nil {
				if len(a.Facts.DebugOnPublic) != 0 || pprofRule != "pass" || a.Status != checklist.Pass {
					t.Errorf("clean service: found %v, pprof rule %s, status %v", a.Facts.DebugOnPublic, pprofRule, a.Status)
				}
				return
			}
			if pprofRule != "fail" || a.Status != checklist.Fail || doctor.ExitCode([]doctor.Audit{a}) != 2 {
				t.Errorf("pprof rule %s, status %v; want fail", pprofRule, a.Status)
			}
			if ev := evidence(a.Results, "pprof"); !strings.Contains(ev, "/debug/pprof/") {
				t.Errorf("evidence %q does not name the endpoint", ev)
			}
		})
	}
}

func TestPublicUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	a := doctor.Public(context.Background(), url)
	if a.Status != checklist.Fail || a.Error == "" {
		t.Errorf("status %v error %q; want a failed audit", a.Status, a.Error)
	}
}
