package auto

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestSetupLogsOneLine(t *testing.T) {
	var b bytes.Buffer
	r := setup(&b, "")
	defer r.Undo()
	out := b.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want exactly one line, got %q", out)
	}
	for _, want := range []string{"msg=\"vitals: start-up settings applied", "gomaxprocs=", "gomemlimit=", "changed="} {
		if !strings.Contains(out, want) {
			t.Errorf("line %q lacks %q", out, want)
		}
	}
	if r.GOMAXPROCS != runtime.GOMAXPROCS(0) {
		t.Errorf("report says GOMAXPROCS %d, runtime has %d", r.GOMAXPROCS, runtime.GOMAXPROCS(0))
	}
	if r.GOMEMLIMIT != debug.SetMemoryLimit(-1) {
		t.Errorf("report says GOMEMLIMIT %d, runtime has %d", r.GOMEMLIMIT, debug.SetMemoryLimit(-1))
	}
}

func TestSetupQuiet(t *testing.T) {
	var b bytes.Buffer
	r := setup(&b, "off")
	defer r.Undo()
	if b.Len() != 0 {
		t.Errorf("VITALS_LOG=off still logged %q", b.String())
	}
	if r == nil {
		t.Error("VITALS_LOG=off skipped Setup; it should only silence the log")
	}
}

func TestInitRan(t *testing.T) {
	if Report() == nil || Report().DryRun {
		t.Fatalf("the import did not run Setup: %+v", Report())
	}
}

// TestLinksNoHTTP guards the promise of the package comment: the blank
// import links neither an HTTP stack nor expvar (whose init registers
// /debug/vars on http.DefaultServeMux), nor any metrics library.
func TestLinksNoHTTP(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command needed (CI=true): %v", err)
		}
		t.Skipf("skipping, no go command: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/govitals/vitals/auto").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "expvar", dep == "net/http", dep == "net/http/pprof",
			strings.HasPrefix(dep, "github.com/prometheus/"),
			strings.HasPrefix(dep, "go.opentelemetry.io/"):
			t.Errorf("auto links %s", dep)
		}
	}
}
