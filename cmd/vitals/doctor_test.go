package main

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/govitals/vitals"
)

func TestDoctorText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"doctor"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	for _, want := range []string{"dry run", "SETTING", "GOMAXPROCS", "GOMEMLIMIT", "GOTRACEBACK", "crash_output"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDoctorJSONChangesNothing(t *testing.T) {
	procs, mem := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	var out, errb bytes.Buffer
	if code := run([]string{"doctor", "--json", "--root", "../../testdata/pod"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	var r vitals.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if !r.DryRun || r.Schema != vitals.ReportSchema || r.Cgroup.Memory.Max != 300<<20 {
		t.Errorf("report %+v: want a dry run of the 300MiB pod fixture", r)
	}
	if d, ok := r.Decision(vitals.SettingGOMEMLIMIT); !ok || d.New != "283115520" {
		t.Errorf("GOMEMLIMIT decision %+v, want 283115520", d)
	}
	if runtime.GOMAXPROCS(0) != procs || debug.SetMemoryLimit(-1) != mem {
		t.Error("doctor changed this process's settings")
	}
}

func TestDoctorBadArgs(t *testing.T) {
	for _, args := range [][]string{{"doctor", "--nope"}, {"doctor", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: vitals doctor") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage", args, code, errb.String())
		}
	}
}
