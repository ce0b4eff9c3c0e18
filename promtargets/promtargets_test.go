package promtargets_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/govitals/vitals/promtargets"
)

func TestParseResponseReal(t *testing.T) {
	b, err := os.ReadFile("testdata/targets.json")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := promtargets.ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 4 {
		t.Fatalf("%d targets, want 4: %+v", len(ts), ts)
	}
	byURL := map[string]promtargets.Target{}
	for _, tg := range ts {
		byURL[tg.ScrapeURL] = tg
	}
	self := byURL["http://127.0.0.1:19391/metrics"]
	if self.Job != "prometheus" || self.Health != "up" || self.Labels["instance"] != "127.0.0.1:19391" {
		t.Errorf("self target = %+v", self)
	}
	v := byURL["http://127.0.0.1:19392/metrics"]
	if v.Job != "vitals" || v.Health != "down" || v.Labels["team"] != "payments" || !strings.Contains(v.LastError, "connection refused") {
		t.Errorf("vitals target = %+v", v)
	}
}

func TestParseResponseErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/error.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := promtargets.ParseResponse(b); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("error answer: %v; want Prometheus's bad_data error", err)
	}
	for _, in := range []string{"", "<html>", `{"status":"success","data":{"activeTargets":{}}}`} {
		if _, err := promtargets.ParseResponse([]byte(in)); err == nil {
			t.Errorf("ParseResponse(%q): no error", in)
		}
	}
}

func TestAdminURL(t *testing.T) {
	tests := []struct {
		scrape, override, want string
		err                    bool
	}{
		{"http://10.0.0.7:6060/metrics", "", "http://10.0.0.7:6060", false},
		{"https://svc.example:443/metrics?x=1", "", "https://svc.example:443", false},
		{"http://10.0.0.7:6060/admin/metrics", "", "http://10.0.0.7:6060/admin", false},
		{"http://10.0.0.7:8080/metrics", "10.0.0.7:6061", "http://10.0.0.7:6061", false},
		{"https://10.0.0.7:8080/metrics", "http://10.0.0.7:6061/", "http://10.0.0.7:6061", false},
		{"http://10.0.0.7:8080/metrics", "ftp://x", "", true},
		{"10.0.0.7:6060/metrics", "", "", true},
		{"://", "", "", true},
	}
	for _, tt := range tests {
		got, err := promtargets.AdminURL(tt.scrape, tt.override)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("AdminURL(%q, %q) = %q, %v; want %q, error %v", tt.scrape, tt.override, got, err, tt.want, tt.err)
		}
	}
}

// TestActiveFilters serves the recorded answer and filters it by job and
// label; the vitals_admin label overrides the derived admin URL.
func TestActiveFilters(t *testing.T) {
	body, err := os.ReadFile("testdata/targets.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/targets" || r.URL.Query().Get("state") != "active" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		opts []promtargets.Option
		want []string // admin URLs
	}{
		{"all", nil, []string{"http://127.0.0.1:19391", "http://127.0.0.1:19392", "http://127.0.0.1:19393", "http://127.0.0.1:19395"}},
		{"job", []promtargets.Option{promtargets.WithJob("vitals")}, []string{"http://127.0.0.1:19392", "http://127.0.0.1:19393", "http://127.0.0.1:19395"}},
		{"job and label", []promtargets.Option{promtargets.WithJob("vitals"), promtargets.WithLabel("team", "search")}, []string{"http://127.0.0.1:19395"}},
		{"two jobs", []promtargets.Option{promtargets.WithJob("prometheus"), promtargets.WithJob("nope")}, []string{"http://127.0.0.1:19391"}},
		{"no match", []promtargets.Option{promtargets.WithLabel("team", "none")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := promtargets.Active(ctx, srv.URL, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range ts {
				got = append(got, tg.AdminURL)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("admin URLs %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := promtargets.Active(ctx, srv.URL+"/nothing-here"); err == nil {
		t.Error("a 404 page: no error")
	}
	if _, err := promtargets.Active(ctx, "localhost:9090"); err == nil {
		t.Error("URL without scheme: no error")
	}
}

func TestParseLabel(t *testing.T) {
	if k, v, err := promtargets.ParseLabel("team=a=b"); k != "team" || v != "a=b" || err != nil {
		t.Errorf("ParseLabel = %q %q %v", k, v, err)
	}
	for _, bad := range []string{"team", "=x"} {
		if _, _, err := promtargets.ParseLabel(bad); err == nil {
			t.Errorf("ParseLabel(%q): no error", bad)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, p := range []string{"testdata/targets.json", "testdata/error.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := promtargets.ParseResponse(b)
		if err != nil {
			return
		}
		for _, tg := range ts {
			_, _ = promtargets.AdminURL(tg.ScrapeURL, tg.Labels[promtargets.AdminLabel])
		}
	})
}
