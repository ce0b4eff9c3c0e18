package procscan_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/govitals/vitals/procscan"
)

const reportMarker = "PROCSCAN_REPORT "

// TestNobodyChild scans the PID in PROCSCAN_SCAN_PID and prints the report
// as one JSON line; TestScanAsNobody runs it as user nobody.
func TestNobodyChild(t *testing.T) {
	if os.Getenv(childEnv) != "nobody" {
		t.Skip("run by TestScanAsNobody")
	}
	pid, err := strconv.Atoi(os.Getenv("PROCSCAN_SCAN_PID"))
	if err != nil {
		t.Fatal(err)
	}
	rep := procscan.Scan(context.Background(), procscan.WithPIDs(pid), procscan.WithoutProbe())
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", reportMarker, b)
}

// TestScanAsNobody scans this (root) process from a child running as user
// nobody: the kernel refuses it the binary, and the report says which
// process could not be audited and why instead of leaving it out.
func TestScanAsNobody(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as nobody")
	}
	// The test binary's own directory is private to root: copy it where
	// nobody may execute it.
	dir, err := os.MkdirTemp("", "procscan-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "procscan.test")
	src, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestNobodyChild$")
	cmd.Dir = dir
	cmd.Env = cleanEnv(childEnv+"=nobody", "PROCSCAN_SCAN_PID="+strconv.Itoa(os.Getpid()), "HOME="+dir, "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s\n%s", err, out, stderr.String())
	}
	var rep procscan.Report
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	found := false
	for sc.Scan() {
		if j, ok := strings.CutPrefix(sc.Text(), reportMarker); ok {
			if err := json.Unmarshal([]byte(j), &rep); err != nil {
				t.Fatal(err)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("child printed no report:\n%s", out)
	}
	if len(rep.Processes) != 0 || len(rep.Skipped) != 1 || rep.Skipped[0].PID != os.Getpid() ||
		!strings.Contains(rep.Skipped[0].Reason, "permission denied") {
		t.Fatalf("report as nobody: processes %d, skipped %+v; want this process skipped for permission denied", len(rep.Processes), rep.Skipped)
	}
	t.Logf("as nobody: %d %s: %s", rep.Skipped[0].PID, rep.Skipped[0].Command, rep.Skipped[0].Reason)
	var b strings.Builder
	_ = rep.WriteText(&b, false)
	if !strings.Contains(b.String(), "not audited (1):") {
		t.Errorf("text report does not list the process it could not audit:\n%s", b.String())
	}
}
