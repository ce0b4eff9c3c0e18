package admin_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/govitals/vitals/admin"
)

// The admin server on loopback: a failure to bind is logged, and the
// service carries on without it.
func Example() {
	srv, err := admin.New(admin.WithAddr("127.0.0.1:0"))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Printf("admin server disabled: %v", err)
	}
	defer srv.Close()

	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 ok
}

// Reachable from other hosts, with basic auth so that
// "go tool pprof http://ops:PASSWORD@host:6060/debug/pprof/heap" works.
// Without credentials every route answers 401.
func ExampleNew_basicAuth() {
	srv, err := admin.New(
		admin.WithAddr("127.0.0.1:0"), // ":6060" in production
		admin.WithBasicAuth("ops", "correct horse battery staple"),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	for _, pass := range []string{"", "correct horse battery staple"} {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr()+"/debug/pprof/heap", nil)
		if pass != "" {
			req.SetBasicAuth("ops", pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 401
	// 200
}

// A non-loopback address without authentication is refused.
func ExampleNew_refused() {
	_, err := admin.New(admin.WithAddr(":6060"))
	fmt.Println(err != nil)
	// Output: true
}

// Mounting a handler (the vitals dashboard, say) behind the same
// authentication.
func ExampleWithHandler() {
	dashboard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "dashboard")
	})
	srv, err := admin.New(admin.WithAddr("127.0.0.1:0"), admin.WithHandler("/debug/vitals/", dashboard))
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer srv.Shutdown(ctx)

	resp, err := http.Get("http://" + srv.Addr() + "/debug/vitals/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: dashboard
}

// Without credentials the server answers only to loopback addresses,
// "localhost" and the names you allow, so a web page cannot read it through
// DNS rebinding; /healthz needs no credentials even when the rest does.
func ExampleWithAllowedHosts() {
	srv, err := admin.New(
		admin.WithAddr("127.0.0.1:0"),
		admin.WithAllowedHosts("ops-box.internal"), // an /etc/hosts alias your operators type
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	for _, host := range []string{"localhost", "ops-box.internal", "attacker.example"} {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr()+"/debug/vitals", nil)
		req.Host = host // what a browser sends for a name that resolves to 127.0.0.1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(host, resp.StatusCode)
	}
	// Output:
	// localhost 200
	// ops-box.internal 200
	// attacker.example 421
}
