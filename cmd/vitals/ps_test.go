package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/govitals/vitals/procscan"
)

// TestPSChild is the process TestPS scans: it waits for stdin to close.
func TestPSChild(t *testing.T) {
	if os.Getenv("VITALS_PS_CHILD") != "1" {
		t.Skip("run by TestPS")
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestPS scans a child (this test binary, re-executed) with GOMEMLIMIT and
// GOTRACEBACK in its environment, as JSON and as text.
func TestPS(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPSChild$")
	cmd.Env = append(os.Environ(), "VITALS_PS_CHILD=1", "GOMEMLIMIT=100MiB", "GOTRACEBACK=all")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	pid := strconv.Itoa(cmd.Process.Pid)

	var out, errb bytes.Buffer
	code := run([]string{"ps", "--json", "--no-probe", "--pid", pid}, &out, &errb)
	if errb.Len() > 0 {
		t.Fatalf("stderr: %s", errb.String())
	}
	var rep procscan.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Processes) != 1 {
		t.Fatalf("want the child alone, got %d processes; skipped %v", len(rep.Processes), rep.Skipped)
	}
	p := rep.Processes[0]
	if p.GoVersion != runtime.Version() || p.Env["GOMEMLIMIT"] != "100MiB" || p.Settings.GOMEMLIMIT != 100<<20 || p.Settings.GOTRACEBACK != "all" {
		t.Errorf("child = go %q env %v settings %+v; want %s, GOMEMLIMIT=100MiB, GOTRACEBACK=all", p.GoVersion, p.Env, p.Settings, runtime.Version())
	}
	if code != rep.ExitCode || rep.Schema != procscan.JSONSchema {
		t.Errorf("exit %d, report exit code %d, schema %d", code, rep.ExitCode, rep.Schema)
	}

	out.Reset()
	if c := run([]string{"ps", "--color", "never", "--no-probe", "--pid", pid}, &out, &errb); c != code {
		t.Errorf("text exit %d, JSON exit %d", c, code)
	}
	for _, want := range []string{"PID", pid, runtime.Version(), "GOMEMLIMIT=100MiB", "1 Go processes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPSUsage(t *testing.T) {
	for _, args := range [][]string{{"ps", "--pid", "x"}, {"ps", "extra"}, {"ps", "--color", "pink"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d with a message", args, code, errb.String(), exitUsage)
		}
	}
}
