package doctor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// Probe a public port that serves net/http/pprof by mistake.
func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // the mistake
	srv := httptest.NewServer(mux)
	defer srv.Close()

	a := doctor.Public(context.Background(), srv.URL)
	fmt.Println(a.Status, a.Facts.DebugOnPublic, doctor.ExitCode([]doctor.Audit{a}))
	// Output: fail [/debug/pprof/ /debug/pprof/goroutine?debug=1 /debug/pprof/goroutine /debug/pprof/heap] 2
}

// Judge a /debug/vitals answer saved earlier (or fetched by other means).
func ExampleParseVitals() {
	body := []byte(`{"state":{"facts":{"gomaxprocs":8,"gomaxprocs_source":"env",
		"cpu_limit":2,"cpu_limit_known":true,"gotraceback":"single"}}}`)
	a, err := doctor.ParseVitals(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range checklist.Evaluate(a.Facts) {
		if r.Status != checklist.Skip {
			fmt.Printf("%s %s: %s\n", r.Status, r.ID, r.Evidence)
		}
	}
	// Output:
	// fail gomaxprocs: GOMAXPROCS=8 (env), CPU limit 2 cores: 8 Ps oversubscribe a quota that fits 2, so the cgroup throttles the process
	// warn gotraceback: GOTRACEBACK=single: a crash prints only the failing goroutine
}

// Audit a fleet and print the table `vitals doctor` prints.
func ExampleRun() {
	targets := []doctor.Target{
		{URL: "http://127.0.0.1:1", Kind: doctor.KindVitals}, // nothing listens there
	}
	audits := doctor.Run(context.Background(), targets, doctor.WithToken("secret"))
	fmt.Println(audits[0].Status, doctor.ExitCode(audits))
	_ = doctor.WriteText(io.Discard, audits, false) // or WriteJSON for machines
	// Output: fail 2
}
