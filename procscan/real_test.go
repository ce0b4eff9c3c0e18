package procscan_test

import (
	"bufio"
	"context"
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
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
	"github.com/govitals/vitals/internal/cgrouptest"
	"github.com/govitals/vitals/procscan"
)

const (
	childEnv   = "PROCSCAN_CHILD"
	childToken = "procscan-test-token"
)

// tool finds an external program; missing, the test skips, or fails when
// CI=true.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cleanEnv is this process's environment without the Go runtime settings
// the audit is about.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GODEBUG", "GOGC":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startPrometheus runs Debian's prometheus inside g (or outside any test
// group when g is nil), listening on every interface at port, and waits
// until it is ready.
func startPrometheus(t *testing.T, g *cgrouptest.Group, port int) *exec.Cmd {
	t.Helper()
	bin := tool(t, "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=0.0.0.0:" + strconv.Itoa(port), "--log.level=warn"}
	cmd := g.Command(bin, args...)
	cmd.Env = cleanEnv()
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("prometheus did not stop within 20s of SIGTERM")
		}
	})
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/-/ready", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 60s\n%s", logs.String())
		}
	}
}

// startVitalsChild re-executes this test binary as a service on
// vitals.Start with a token (TestVitalsChild) and returns it and its admin
// address.
func startVitalsChild(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestVitalsChild$")
	cmd.Env = cleanEnv(childEnv + "=1")
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
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("vitals child: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(stdout)
	addr := ""
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR="); ok {
			addr = a
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if addr == "" {
		t.Fatalf("vitals child printed no address\n%s", stderr.String())
	}
	return cmd, addr
}

// TestVitalsChild is the service of startVitalsChild: vitals.Start with a
// bearer token on loopback, until stdin closes.
func TestVitalsChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("run as a child by the scan tests")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.NoWatchdog(),
		vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(childToken)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	fmt.Printf("ADDR=%s\n", svc.Admin().Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func result(p procscan.Process, id string) checklist.Result {
	for _, r := range p.Results {
		if r.ID == id {
			return r
		}
	}
	return checklist.Result{}
}

func find(rep *procscan.Report, pid int) (procscan.Process, bool) {
	for _, p := range rep.Processes {
		if p.PID == pid {
			return p, true
		}
	}
	return procscan.Process{}, false
}

// TestPrometheusInMemoryCgroup runs Debian's prometheus (a Go binary no
// one here wrote) in a real v1 memory cgroup of 512 MiB, without
// GOMEMLIMIT, listening on every interface, and a vitals service next to
// it, and scans both: prometheus fails GOMEMLIMIT and pprof, the vitals
// service passes, and what vitals ps predicts for the vitals service agrees
// with what the service itself reports on /debug/vitals.
func TestPrometheusInMemoryCgroup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	bin := tool(t, "prometheus")
	cgrouptest.Require(t)
	g := cgrouptest.New(t, 0, 512<<20)
	port := freePort(t)
	prom := startPrometheus(t, g, port)
	child, adminAddr := startVitalsChild(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := procscan.Scan(ctx, procscan.WithPIDs(prom.Process.Pid, child.Process.Pid), procscan.WithProbeTimeout(10*time.Second))
	var b strings.Builder
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("vitals ps:\n%s", b.String())

	p, ok := find(rep, prom.Process.Pid)
	if !ok {
		t.Fatalf("prometheus (pid %d) not listed; skipped: %v", prom.Process.Pid, rep.Skipped)
	}
	// The Go version as the go command itself reads it from the binary.
	out, err := exec.Command("go", "version", bin).Output()
	if err != nil {
		t.Fatalf("go version %s: %v", bin, err)
	}
	if f := strings.Fields(string(out)); len(f) < 2 || p.GoVersion != f[1] {
		t.Errorf("GoVersion = %q; go version says %q", p.GoVersion, out)
	}
	t.Logf("prometheus: %s, %s", p.GoVersion, p.Path)
	if p.Vitals {
		t.Error("prometheus reported as linking vitals")
	}
	if p.Cgroup.MemoryPath != g.MemoryDir() || p.Cgroup.Memory.Max != 512<<20 {
		t.Errorf("cgroup = %+v; want %s with 512 MiB", p.Cgroup, g.MemoryDir())
	}
	if r := result(p, "gomemlimit"); r.Status != checklist.Fail ||
		!strings.Contains(r.Evidence, "512 MiB container, no GOMEMLIMIT: the runtime will not stop at the limit") {
		t.Errorf("gomemlimit = %s %q; want fail, 512 MiB container, no GOMEMLIMIT", r.Status, r.Evidence)
	}
	// Go opens "0.0.0.0:port" as a dual-stack socket, which the kernel
	// lists as [::]:port in /proc/net/tcp6.
	wantAddr := ":" + strconv.Itoa(port) + " (every interface)"
	if r := result(p, "pprof"); r.Status != checklist.Fail || !strings.Contains(r.Evidence, "/debug/pprof/") || !strings.Contains(r.Evidence, wantAddr) {
		t.Errorf("pprof = %s %q; want fail naming /debug/pprof/ on %s", r.Status, r.Evidence, wantAddr)
	}
	if r := result(p, "gomaxprocs"); !strings.Contains(r.Evidence, "ignores the CPU quota") {
		t.Errorf("gomaxprocs evidence %q: want the pre-1.25 rule", r.Evidence)
	}
	if p.Status != checklist.Fail || rep.ExitCode != 2 {
		t.Errorf("status %s, exit code %d; want fail, 2", p.Status, rep.ExitCode)
	}

	v, ok := find(rep, child.Process.Pid)
	if !ok {
		t.Fatalf("vitals child (pid %d) not listed; skipped: %v", child.Process.Pid, rep.Skipped)
	}
	if !v.Vitals || v.Status != checklist.Pass {
		t.Errorf("vitals child: vitals %v, status %s (%v); want linked and pass", v.Vitals, v.Status, v.Results)
	}
	if r := result(v, "pprof"); r.Status != checklist.Pass || !strings.Contains(r.Evidence, adminAddr+" with auth") {
		t.Errorf("vitals child pprof = %s %q; want pass, admin %s with auth", r.Status, r.Evidence, adminAddr)
	}
	// Cross-check the prediction against the service's own report.
	a := doctor.Vitals(ctx, "http://"+adminAddr, doctor.WithToken(childToken))
	if a.Error != "" {
		t.Fatal(a.Error)
	}
	if a.Facts.GOMAXPROCS != v.Facts.GOMAXPROCS || a.Facts.GOTRACEBACK != v.Facts.GOTRACEBACK {
		t.Errorf("predicted GOMAXPROCS=%d GOTRACEBACK=%s; the service reports GOMAXPROCS=%d GOTRACEBACK=%s",
			v.Facts.GOMAXPROCS, v.Facts.GOTRACEBACK, a.Facts.GOMAXPROCS, a.Facts.GOTRACEBACK)
	}
}
