package admintest_test

import (
	_ "expvar" // registers /debug/vars on http.DefaultServeMux: the real thing to catch
	"fmt"
	"net/http"
	_ "net/http/pprof" // test binary only: registers /debug/pprof/ on http.DefaultServeMux
	"strings"
	"testing"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/admin/admintest"
)

// recorder collects what the helper reports.
type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestAssertNoDebugEndpoints(t *testing.T) {
	app := http.NewServeMux()
	app.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A catch-all page that answers 200 to every path must not be
		// mistaken for pprof.
		fmt.Fprint(w, "<html>welcome to the shop</html>")
	})
	withPprof := http.NewServeMux()
	withPprof.Handle("/", app)
	withPprof.Handle("/debug/pprof/", http.DefaultServeMux)
	srv, err := admin.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    http.Handler
		want []string // paths that must be reported
	}{
		{"clean app", app, nil},
		{"not found", http.NotFoundHandler(), nil},
		{"default mux with pprof and expvar", http.DefaultServeMux, []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1", "/debug/vars"}},
		{"app with pprof mounted", withPprof, []string{"/debug/pprof/", "/debug/pprof/heap"}},
		{"admin handler itself", srv.Handler(), []string{"/debug/pprof/", "/debug/pprof/heap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			ok := admintest.AssertNoDebugEndpoints(&r, tt.h)
			if ok != (len(tt.want) == 0) || ok != (len(r.msgs) == 0) {
				t.Fatalf("ok = %v, messages %q, want findings %v", ok, r.msgs, tt.want)
			}
			found := admintest.DebugEndpoints(tt.h)
			for _, w := range tt.want {
				if !strings.Contains(strings.Join(found, " ")+" ", w+" ") {
					t.Errorf("%s not reported; found %v", w, found)
				}
			}
		})
	}
}

func Example() {
	public := http.NewServeMux()
	public.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })

	var t recorder // in a test: admintest.AssertNoDebugEndpoints(t, public)
	fmt.Println(admintest.AssertNoDebugEndpoints(&t, public))
	fmt.Println(admintest.AssertNoDebugEndpoints(&t, http.DefaultServeMux))
	// Output:
	// true
	// false
}
