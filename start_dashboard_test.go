package vitals_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/incident"
)

// Start mounts the dashboard at /debug/vitals/ behind the admin server's
// authentication, with the start-up report in its header.
func TestStartMountsDashboard(t *testing.T) {
	svc, err := vitals.Start(context.Background(), vitals.AdminOptions(
		admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken("dash-token")))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Admin() == nil || svc.Err() != nil {
		t.Fatalf("admin server: %v", svc.Err())
	}
	base := "http://" + svc.Admin().Addr() + "/debug/vitals/"
	get := func(path, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get("", ""); resp.StatusCode != http.StatusUnauthorized {
		resp.Body.Close()
		t.Fatalf("dashboard without credentials: %d, want 401", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	resp := get("", "dash-token")
	page := new(strings.Builder)
	_, _ = bufio.NewReader(resp.Body).WriteTo(page)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(page.String(), "uPlot.iife.min.js") {
		t.Fatalf("dashboard page: %d", resp.StatusCode)
	}

	resp = get("events", "dash-token")
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var hello struct {
		Report struct {
			GoVersion  string `json:"go_version"`
			GOMAXPROCS string `json:"gomaxprocs"`
			Why        string `json:"gomaxprocs_why"`
			NoFlight   bool   `json:"no_flight_recorder"`
		} `json:"report"`
		Watchdog bool `json:"watchdog"`
	}
	readHello(t, r, &hello)
	if !hello.Report.NoFlight {
		t.Errorf("Start without FlightRecorder: the page would show a flight-recorder link that only errors")
	}
	if hello.Report.GoVersion != runtime.Version() || hello.Report.GOMAXPROCS == "" || hello.Report.Why == "" || !hello.Watchdog {
		t.Errorf("dashboard header from Start = %+v", hello)
	}
}

// NoDashboard leaves /debug/vitals/ free for a handler of the user's own.
func TestStartNoDashboard(t *testing.T) {
	mine := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("mine")) })
	svc, err := vitals.Start(context.Background(), vitals.NoDashboard(), vitals.AdminOptions(
		admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken("t"), admin.WithHandler("/debug/vitals/", mine)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Err() != nil {
		t.Fatal(svc.Err())
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+svc.Admin().Addr()+"/debug/vitals/", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(strings.Builder)
	_, _ = bufio.NewReader(resp.Body).WriteTo(body)
	if resp.StatusCode != http.StatusOK || body.String() != "mine" {
		t.Errorf("/debug/vitals/ = %d %q, want the user's handler", resp.StatusCode, body)
	}
}

// With vitals.Incidents, the dashboard's stream carries the monitor's recent
// incidents, which the page marks on its charts.
func TestStartDashboardMarksIncidents(t *testing.T) {
	ctx := context.Background()
	svc, err := vitals.Start(ctx, vitals.Incidents(t.TempDir(), incident.NoFlightRecorder()),
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken("dash-token")))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Incidents() == nil || svc.Admin() == nil {
		t.Fatalf("no monitor or admin: %v", svc.Err())
	}
	if _, err := svc.Incidents().Capture(ctx, "dashboard mark test"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+svc.Admin().Addr()+"/debug/vitals/events", nil)
	req.Header.Set("Authorization", "Bearer dash-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var hello struct {
		Incidents []struct {
			T       float64 `json:"t"`
			Trigger string  `json:"trigger"`
			Reason  string  `json:"reason"`
		} `json:"incidents"`
	}
	readHello(t, r, &hello)
	if len(hello.Incidents) != 1 || hello.Incidents[0].Trigger != "manual" ||
		!strings.Contains(hello.Incidents[0].Reason, "dashboard mark test") || hello.Incidents[0].T <= 0 {
		t.Errorf("incidents in the dashboard's hello = %+v, want the manual capture", hello.Incidents)
	}
}

// readHello decodes the first event of a dashboard stream into v.
func readHello(t *testing.T, r *bufio.Reader, v any) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(data), v); err != nil {
				t.Fatalf("hello: %v", err)
			}
			return
		}
	}
}
