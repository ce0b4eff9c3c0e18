package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/incident/inspect"
	"github.com/govitals/vitals/tracecap"
)

// A real service on vitals.Start with Incidents, a real capture through its
// authenticated admin route, and the summary of the bundle it wrote.
func TestIncidentCaptureAndSummary(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	const token = "incident-test-token"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx,
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(token)),
		vitals.Incidents(dir, incident.FlightRecorderOptions(tracecap.WithMaxBytes(1<<20))),
		vitals.NoDashboard())
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Incidents() == nil || svc.Err() != nil {
		t.Fatalf("incidents not armed: %v", svc.Err())
	}
	base := "http://" + svc.Admin().Addr()

	// Without the token: refused.
	var out, errb bytes.Buffer
	if code := run([]string{"incident", "capture", base}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Fatalf("capture without token: exit %d, %q", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	dl := filepath.Join(t.TempDir(), "b.zip")
	code := run([]string{"incident", "capture", "--token", token, "--reason", "cli test", "-o", dl, base}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "captured ") {
		t.Fatalf("capture: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if st, err := os.Stat(dl); err != nil || st.Size() == 0 {
		t.Fatalf("downloaded bundle: %v", err)
	}

	out.Reset()
	errb.Reset()
	xdir := filepath.Join(t.TempDir(), "x")
	code = run([]string{"incident", "--extract", xdir, dl}, &out, &errb)
	if code != 0 {
		t.Fatalf("summary: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"incident manual: cli test", "readings", "go_memory_bytes", "top in-use heap sites",
		"top goroutine groups", "flight-recorder trace:", "go tool trace flight.trace", "parts:", "heap.pb.gz"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	for _, p := range []string{incident.PartManifest, incident.PartHeap, incident.PartTrace, incident.PartGoroutines} {
		if _, err := os.Stat(filepath.Join(xdir, p)); err != nil {
			t.Errorf("not extracted: %v", err)
		}
	}
	// The extracted goroutine text is what "vitals stacks" reads.
	out.Reset()
	errb.Reset()
	if code := run([]string{"stacks", filepath.Join(xdir, incident.PartGoroutines)}, &out, &errb); code != 0 || out.Len() == 0 {
		t.Errorf("vitals stacks on the bundle's goroutines: exit %d %s", code, errb.String())
	}

	// The directory form and JSON.
	out.Reset()
	errb.Reset()
	if code := run([]string{"incident", "--json", dir}, &out, &errb); code != 0 {
		t.Fatalf("json: exit %d %s", code, errb.String())
	}
	var sums []inspect.Summary
	if err := json.Unmarshal(out.Bytes(), &sums); err != nil || len(sums) != 1 || sums[0].Trigger != "manual" || sums[0].Trace == nil || sums[0].Trace.Span <= 0 {
		t.Fatalf("json summaries: %v %+v", err, sums)
	}

	// vitals_incidents_total on /metrics.
	if n := svc.Incidents().Count(incident.Manual); n != 1 {
		t.Errorf("Count(Manual) = %d", n)
	}
	mfs, err := svc.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "vitals_incidents_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "manual" && m.GetCounter().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Error("vitals_incidents_total{trigger=\"manual\"} is not 1")
	}
}

func TestIncidentUsageAndBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "incident-memory-x.zip")
	if err := os.WriteFile(bad, []byte("PK\x03\x04 truncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no args", []string{"incident"}, exitUsage, "usage"},
		{"missing file", []string{"incident", filepath.Join(t.TempDir(), "nope.zip")}, 1, "no such file"},
		{"empty dir", []string{"incident", t.TempDir()}, 1, "no *.zip bundles"},
		{"truncated bundle", []string{"incident", bad}, 1, "not a complete bundle"},
		{"capture no url", []string{"incident", "capture"}, exitUsage, "usage"},
		{"capture bad url", []string{"incident", "capture", "ftp://x"}, exitUsage, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.code, tt.want)
			}
		})
	}
}

// A capture redirected to another origin (same host, another port) must not
// carry the credentials there, and a usage error exits with the usage code.
func TestIncidentCaptureNoCredentialsAcrossOrigins(t *testing.T) {
	clearEnv(t)
	var got []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "nothing here", http.StatusNotFound)
	}))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"incident", "capture", "--token", "s3cret", first.URL}, &out, &errb); code != exitWarn {
		t.Errorf("capture against a redirect: exit %d, want %d; stderr %s", code, exitWarn, errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range got {
		if a != "" {
			t.Errorf("the other origin received Authorization %q", a)
		}
	}
	errb.Reset()
	if code := run([]string{"incident", "capture"}, &out, &errb); code != exitUsage {
		t.Errorf("capture without a URL: exit %d, want %d", code, exitUsage)
	}
	if code := run([]string{"incident", "-h"}, &out, &errb); code != exitOK {
		t.Errorf("incident -h: exit %d, want 0", code)
	}
}
