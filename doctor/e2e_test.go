package doctor_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
	"github.com/govitals/vitals/internal/cgrouptest"
)

// TestStartedServicePasses audits a service started with vitals.Start in
// this process, through its real admin server, and its public port.
func TestStartedServicePasses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Err(); err != nil {
		t.Fatal(err)
	}
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello\n"))
	}))
	defer public.Close()

	audits := doctor.Run(ctx, []doctor.Target{
		{URL: "http://" + svc.Admin().Addr(), Kind: doctor.KindVitals},
		{URL: public.URL, Kind: doctor.KindPublic},
	}, doctor.WithToken(token))
	for _, a := range audits {
		if a.Error != "" {
			t.Fatalf("%s: %s", a.Target.URL, a.Error)
		}
		for _, r := range a.Results {
			if r.Status == checklist.Fail {
				t.Errorf("%s: %s fails: %s", a.Target.URL, r.ID, r.Evidence)
			}
		}
	}
	if code := doctor.ExitCode(audits); code == 2 {
		t.Errorf("exit code %d", code)
	}
	got := statuses(audits[0].Results)
	for _, id := range []string{"gotraceback", "pprof", "metrics", "trace", "finalizers"} {
		if got[id] == "skip" {
			t.Errorf("%s skipped on a vitals service: %s", id, evidence(audits[0].Results, id))
		}
	}
	if ev := evidence(audits[0].Results, "pprof"); !strings.Contains(ev, svc.Admin().Addr()+" with auth") {
		t.Errorf("pprof evidence %q: want the admin address with auth", ev)
	}
	if statuses(audits[1].Results)["pprof"] != "pass" {
		t.Errorf("public probe of a clean port: %v", audits[1].Results)
	}
}

// TestWrongGOMAXPROCSInCgroup starts this test binary as a service (see
// TestChildService) inside a real cgroup with a 0.1-CPU quota and
// GOMAXPROCS=16 in its environment, lets it burn CPU, and audits it: the
// GOMAXPROCS rule fails naming the variable and the quota, and the
// throttling rule sees the CFS counters climb.
func TestWrongGOMAXPROCSInCgroup(t *testing.T) {
	if os.Getenv("DOCTOR_CHILD") != "" {
		t.Skip("in the child")
	}
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 0.1, 512<<20)
	// A 10 ms period (quota 1 ms: still a tenth of a CPU) so the rule's 100
	// periods pass in a second.
	for _, kv := range [][2]string{{"cpu.cfs_quota_us", "1000"}, {"cpu.cfs_period_us", "10000"}} {
		if err := os.WriteFile(filepath.Join(g.CPUDir(), kv[0]), []byte(kv[1]), 0); err != nil {
			t.Fatal(err)
		}
	}
	cmd := g.Command(os.Args[0], "-test.run=^TestChildService$")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=16", "DOCTOR_CHILD=1", "DOCTOR_CHILD_TOKEN="+token)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v\n%s", err, stderr.String())
		}
	}()
	addr := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR="); ok {
			addr = a
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if addr == "" {
		t.Fatalf("child printed no address; stderr:\n%s", stderr.String())
	}

	var a doctor.Audit
	deadline := time.Now().Add(20 * time.Second)
	for {
		a = doctor.Vitals(context.Background(), "http://"+addr, doctor.WithToken(token))
		if a.Error != "" {
			t.Fatal(a.Error)
		}
		f := a.Facts
		if f.Periods >= checklist.MinPeriods && float64(f.ThrottledPeriods) >= checklist.ThrottleFail*float64(f.Periods) ||
			time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var b strings.Builder
	_ = doctor.WriteText(&b, []doctor.Audit{a}, false)
	t.Logf("audit of the child:\n%s", b.String())

	got := statuses(a.Results)
	if got["gomaxprocs"] != "fail" || a.Status != checklist.Fail {
		t.Errorf("gomaxprocs %s, status %v; want fail", got["gomaxprocs"], a.Status)
	}
	ev := evidence(a.Results, "gomaxprocs")
	for _, want := range []string{"GOMAXPROCS=16 (env)", "CPU limit 0.1 cores", g.Name()} {
		if !strings.Contains(ev, want) {
			t.Errorf("gomaxprocs evidence %q lacks %q", ev, want)
		}
	}
	// A tenth of a CPU for 16 busy Ps is throttled in nearly every period; a
	// machine too busy to give the child even that could see less, so a
	// warning is accepted too.
	if st := got["throttling"]; st != "fail" && st != "warn" {
		t.Errorf("throttling %s (%s); want fail", st, evidence(a.Results, "throttling"))
	}
}

// TestChildService is the service of TestWrongGOMAXPROCSInCgroup: vitals.Start
// on loopback, CPU burnt on every P, until stdin closes.
func TestChildService(t *testing.T) {
	if os.Getenv("DOCTOR_CHILD") != "1" {
		t.Skip("run by TestWrongGOMAXPROCSInCgroup")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoWatchdog(),
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(os.Getenv("DOCTOR_CHILD_TOKEN"))))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := 0; ctx.Err() == nil; x++ {
				for i := range 100000 {
					x ^= i
				}
			}
		}()
	}
	fmt.Printf("ADDR=%s\n", svc.Admin().Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	wg.Wait()
}
