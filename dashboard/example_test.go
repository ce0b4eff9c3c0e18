package dashboard_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/dashboard"
)

// Mount the dashboard on the admin server, behind its authentication.
// vitals.Start does this for you at /debug/vitals/.
func Example() {
	d, err := dashboard.New(dashboard.WithReport(func() dashboard.Report {
		return dashboard.Report{GOMAXPROCS: "4", GOMAXPROCSWhy: "cgroup v2: cpu.max 4 cores"}
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	srv, err := admin.New(admin.WithBearerToken("s3cret"), admin.WithHandler("/debug/vitals/", d))
	if err != nil {
		log.Fatal(err)
	}

	// Served in memory here; srv.Start() would listen on 127.0.0.1:6060.
	for _, token := range []string{"", "s3cret"} {
		req := httptest.NewRequest(http.MethodGet, "/debug/vitals/", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "uPlot.iife.min.js"))
	}
	// Loading the page starts nothing; its event stream would.
	fmt.Println("sampling:", d.Sampling())
	// Output:
	// 401 false
	// 200 true
	// sampling: false
}
