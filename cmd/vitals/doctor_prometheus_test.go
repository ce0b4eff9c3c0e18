package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/doctor"
)

const promChildEnv, promToken = "VITALS_PROM_CHILD", "fleet-test-token"

// TestPromVitalsChild is a service of TestDoctorPrometheus: vitals.Start
// with a bearer token on loopback, until stdin closes.
func TestPromVitalsChild(t *testing.T) {
	if os.Getenv(promChildEnv) != "1" {
		t.Skip("run by TestDoctorPrometheus")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoWatchdog(), vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(promToken)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	fmt.Printf("ADDR=%s\n", svc.Admin().Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func startPromChild(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPromVitalsChild$")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "GOMAXPROCS" && k != "GOMEMLIMIT" && k != "GOTRACEBACK" && k != admin.TokenEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, promChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("vitals child: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR="); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return a
		}
	}
	t.Fatalf("vitals child printed no address\n%s", stderr.String())
	return ""
}

func promTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prometheus not installed (CI=true): %v", err)
		}
		t.Skipf("prometheus not installed: %v", err)
	}
	return p
}

// TestDoctorPrometheus runs a real Prometheus server that scrapes two
// vitals services with bearer-token auth (and itself), and audits what it
// scrapes with `vitals doctor --token … --prometheus URL`: the two
// services, found only through Prometheus, are audited through their admin
// endpoints; Prometheus itself, which runs no vitals, gets the public
// probe, which finds its pprof.
func TestDoctorPrometheus(t *testing.T) {
	if os.Getenv(promChildEnv) != "" {
		t.Skip("in the child")
	}
	bin := promTool(t)
	a1, a2 := startPromChild(t), startPromChild(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:%d"]
  - job_name: payments
    authorization:
      credentials: %s
    static_configs:
      - targets: [%q, %q]
        labels: {team: payments}
`, port, promToken, a1, a2)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	promURL := fmt.Sprintf("http://127.0.0.1:%d", port)

	// Wait until Prometheus has scraped both services with the token: then
	// they are its targets, and up.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		up := 0
		if resp, err := client.Get(promURL + "/api/v1/targets?state=active"); err == nil {
			var r struct {
				Data struct {
					ActiveTargets []struct {
						Labels map[string]string `json:"labels"`
						Health string            `json:"health"`
					} `json:"activeTargets"`
				} `json:"data"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			for _, at := range r.Data.ActiveTargets {
				if at.Labels["job"] == "payments" && at.Health == "up" {
					up++
				}
			}
		}
		if up == 2 {
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two vitals services never became up targets\n%s", logs.String())
		}
	}

	var out, errb bytes.Buffer
	code := run([]string{"doctor", "--token", promToken, "--prometheus", promURL, "--json"}, &out, &errb)
	if errb.Len() > 0 {
		t.Fatalf("stderr: %s", errb.String())
	}
	var got promOutput
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(got.Jobs) != 2 || got.Jobs[0].Job != "payments" || got.Jobs[1].Job != "prometheus" {
		t.Fatalf("jobs = %+v; want payments and prometheus", got.Jobs)
	}
	audited := map[string]bool{}
	for _, tg := range got.Jobs[0].Targets {
		a := tg.Audit
		if a.Error != "" || a.Target.Kind != doctor.KindVitals || a.Report == nil {
			t.Errorf("%s: kind %s, error %q; want a vitals audit with the start-up report", tg.ScrapeURL, a.Target.Kind, a.Error)
		}
		for _, r := range a.Results {
			if r.ID == "pprof" && (r.Status.String() != "pass" || !strings.Contains(r.Evidence, "with auth")) {
				t.Errorf("%s: pprof %s %q; want pass with auth", tg.AdminURL, r.Status, r.Evidence)
			}
		}
		audited[strings.TrimPrefix(tg.AdminURL, "http://")] = true
	}
	if !audited[a1] || !audited[a2] {
		t.Errorf("audited %v; want %s and %s", audited, a1, a2)
	}
	self := got.Jobs[1].Targets[0].Audit
	pprofFail := false
	for _, r := range self.Results {
		pprofFail = pprofFail || r.ID == "pprof" && r.Status.String() == "fail"
	}
	if self.Target.Kind != doctor.KindPublic || !pprofFail {
		t.Errorf("prometheus itself: kind %s, results %v; want the public probe failing pprof", self.Target.Kind, self.Results)
	}
	if code != 2 || got.ExitCode != 2 {
		t.Errorf("exit %d (json %d); want 2 for Prometheus's own pprof", code, got.ExitCode)
	}

	// Only the payments job, as text: grouped, with the summary.
	out.Reset()
	code = run([]string{"doctor", "--token", promToken, "--prometheus", promURL, "--job", "payments", "--label", "team=payments", "--color", "never"}, &out, &errb)
	text := out.String()
	t.Logf("vitals doctor --prometheus --job payments:\n%s", text)
	for _, want := range []string{`== job "payments": 2 targets ==`, a1, a2, "2 targets of " + promURL + " in 1 jobs"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if code == 2 || strings.Contains(text, "prometheus\"") {
		t.Errorf("exit %d for the payments job alone; want no failure and no prometheus job", code)
	}
	if c := run([]string{"doctor", "--prometheus", promURL, "--job", "nothing"}, &out, &errb); c != 2 || !strings.Contains(errb.String(), "no active target") {
		t.Errorf("no matching target: exit %d, stderr %q", c, errb.String())
	}
}
