package startup

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// goldenReport is a planned report for a pod whose parent cgroup allows
// 1.5 CPUs and 300MiB while the container asks for 4 CPUs, on 8 CPUs where
// the runtime chose 4.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	cleanEnv(t)
	t.Setenv("GOMAXPROCS", "not-a-number")
	root := v2Tree(t, "150000 100000\n", "400000 100000\n", "314572800\n", "1073741824\n", "209715200\n")
	r, err := Plan(withRuntime(newFake(4, 8)), WithCgroupRoot(root), withBuildInfo(), CrashOutput("/var/log/app/crash.log", 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	r.GoVersion = "go1.26"
	return r
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	r := goldenReport(t)
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != r.String() {
		t.Error("String and WriteText differ")
	}
	golden(t, "report.golden", b.Bytes())
}

// TestReportJSON pins the documented field names: renaming one breaks
// every machine that reads "vitals doctor --json".
func TestReportJSON(t *testing.T) {
	b, err := json.MarshalIndent(goldenReport(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.json", append(b, '\n'))

	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != ReportSchema || back.GOMAXPROCS != 2 || len(back.Decisions) != 4 {
		t.Errorf("round trip lost fields: %+v", back)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0B", 1000: "1000B", 1024: "1KiB", 283115520: "270MiB", 1536 << 20: "1.5GiB",
		9223372036854775807: "8EiB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
