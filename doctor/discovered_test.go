package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"strings"
	"testing"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// TestRunDiscovered audits three discovered URLs of unknown kind: a vitals
// admin server with a token, a service that serves pprof on its port, and
// a catch-all page that answers 200 everywhere.
func TestRunDiscovered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoWatchdog(), vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	leaky := httptest.NewServer(mux)
	defer leaky.Close()
	catchAll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>welcome</html>"))
	}))
	defer catchAll.Close()

	audits := doctor.RunDiscovered(ctx, []string{"http://" + svc.Admin().Addr(), leaky.URL, catchAll.URL}, doctor.WithToken(token))
	if len(audits) != 3 {
		t.Fatalf("%d audits", len(audits))
	}
	if a := audits[0]; a.Error != "" || a.Target.Kind != doctor.KindVitals || !strings.Contains(evidence(a.Results, "pprof"), "with auth") {
		t.Errorf("vitals service: kind %s, error %q, pprof %q", a.Target.Kind, a.Error, evidence(a.Results, "pprof"))
	}
	if a := audits[1]; a.Target.Kind != doctor.KindPublic || statuses(a.Results)["pprof"] != "fail" ||
		len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "no vitals admin server here (") {
		t.Errorf("pprof service: kind %s, pprof %s, notes %v; want the public probe failing pprof", a.Target.Kind, statuses(a.Results)["pprof"], a.Notes)
	}
	if a := audits[2]; a.Target.Kind != doctor.KindPublic || a.Status == checklist.Fail || !strings.Contains(a.Notes[0], "not vitals' JSON") {
		t.Errorf("catch-all page: kind %s, status %s, notes %v", a.Target.Kind, a.Status, a.Notes)
	}
	// Wrong credentials on a real vitals admin stay a failure, not a probe.
	a := doctor.RunDiscovered(ctx, []string{"http://" + svc.Admin().Addr()}, doctor.WithToken("wrong"))[0]
	if a.Target.Kind != doctor.KindVitals || !strings.Contains(a.Error, "refused") {
		t.Errorf("wrong token: kind %s, error %q", a.Target.Kind, a.Error)
	}
}
