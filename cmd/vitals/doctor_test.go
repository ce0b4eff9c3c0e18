package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// clearEnv removes the variables that override vitals' decisions.
func clearEnv(t *testing.T) {
	for _, k := range []string{"GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "GOGC", admin.TokenEnv} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func TestDoctorText(t *testing.T) {
	clearEnv(t)
	var out, errb bytes.Buffer
	code := run([]string{"doctor"}, &out, &errb)
	if code < 0 || code > 2 || errb.Len() > 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	for _, want := range []string{"dry run", "SETTING", "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "crash_output",
		"this machine", "GOMAXPROCS fits the CPU limit"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDoctorLocalRules judges the 1.5-CPU, 300 MiB pod fixture with and
// without variables that override vitals.
func TestDoctorLocalRules(t *testing.T) {
	root := filepath.Join("..", "..", "startup", "testdata", "pod")
	tests := []struct {
		name string
		env  map[string]string
		code int
		want []string
	}{
		{"defaults", nil, 0, []string{"PASS  GOMAXPROCS fits the CPU limit", "CPU limit 1.5 cores", "GOMEMLIMIT=270MiB, container memory 300MiB"}},
		{"GOMAXPROCS=16", map[string]string{"GOMAXPROCS": "16"}, 2, []string{"FAIL  GOMAXPROCS fits the CPU limit", "GOMAXPROCS=16 (env), CPU limit 1.5 cores"}},
		{"GOTRACEBACK=single", map[string]string{"GOTRACEBACK": "single"}, 1, []string{"WARN  GOTRACEBACK=all for crash diagnostics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run([]string{"doctor", "--root", root, "--color", "never"}, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q\n%s", code, tt.code, errb.String(), out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestDoctorJSONChangesNothing(t *testing.T) {
	clearEnv(t)
	procs, mem := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	var out, errb bytes.Buffer
	if code := run([]string{"doctor", "--json", "--root", "../../startup/testdata/pod"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errb.String(), out.String())
	}
	var o doctor.Output
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if o.Schema != doctor.JSONSchema || o.ExitCode != 0 || len(o.Audits) != 1 || o.Audits[0].Report == nil {
		t.Fatalf("output %+v: want one local audit with its report", o)
	}
	r := o.Audits[0].Report
	if !r.DryRun || r.Schema != vitals.ReportSchema || r.Cgroup.Memory.Max != 300<<20 {
		t.Errorf("report %+v: want a dry run of the 300MiB pod fixture", r)
	}
	if d, ok := r.Decision(vitals.SettingGOMEMLIMIT); !ok || d.New != "283115520" {
		t.Errorf("GOMEMLIMIT decision %+v, want 283115520", d)
	}
	if len(o.Audits[0].Results) != len(checklist.IDs()) {
		t.Errorf("%d results, want one per rule", len(o.Audits[0].Results))
	}
	if runtime.GOMAXPROCS(0) != procs || debug.SetMemoryLimit(-1) != mem {
		t.Error("doctor changed this process's settings")
	}
}

func TestDoctorBadArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "--nope"}, "usage: vitals doctor"},
		{[]string{"doctor", "--root", "x", "http://127.0.0.1:1"}, "--root applies to this machine only"},
		{[]string{"doctor", "--color", "rainbow"}, "want auto, always or never"},
		{[]string{"doctor", "--user", "nocolon", "http://127.0.0.1:1"}, "user:password"},
		{[]string{"doctor", "-f", filepath.Join(t.TempDir(), "none.txt")}, "no such file"},
	} {
		var out, errb bytes.Buffer
		if code := run(tt.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 64 and %q", tt.args, code, errb.String(), tt.want)
		}
	}
}

// TestDoctorServices runs the command against a service started with
// vitals.Start (pass) and a public port serving net/http/pprof (fail).
func TestDoctorServices(t *testing.T) {
	clearEnv(t)
	const token = "doctor-test-token"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := vitals.Start(ctx, vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	adminURL := "http://" + svc.Admin().Addr()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	leaky := httptest.NewServer(mux)
	defer leaky.Close()

	var out, errb bytes.Buffer
	// Flags after the URL are read too.
	code := run([]string{"doctor", adminURL, "--token", token}, &out, &errb)
	if code == 2 || !strings.Contains(out.String(), "(vitals admin endpoint): ") {
		t.Errorf("service audit: exit %d, stderr %q\n%s", code, errb.String(), out.String())
	}

	out.Reset()
	errb.Reset()
	code = run([]string{"doctor", "--public", leaky.URL, "--json"}, &out, &errb)
	var o doctor.Output
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if code != 2 || o.ExitCode != 2 || len(o.Audits) != 1 || o.Audits[0].Status != checklist.Fail {
		t.Errorf("--public on a pprof mux: exit %d, %+v; want 2 and a failed audit", code, o)
	}

	// A targets file with both, and the token from the environment.
	t.Setenv(admin.TokenEnv, token)
	file := filepath.Join(t.TempDir(), "targets.txt")
	if err := os.WriteFile(file, []byte("# fleet\n"+adminURL+"\npublic "+leaky.URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code = run([]string{"doctor", "-f", file, "--timeout", "20s"}, &out, &errb)
	for _, want := range []string{adminURL + " (vitals admin endpoint)", leaky.URL + " (public port, probed from outside): FAIL",
		"answered on the public port: /debug/pprof/", "2 targets: 1 fail"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
