package gctrace

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/govitals/vitals/internal/testbin"
)

func TestEnableTrace(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"no GODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=gctrace=1"}},
		{"empty GODEBUG", []string{"GODEBUG="}, []string{"GODEBUG=gctrace=1"}},
		{"other settings kept", []string{"GODEBUG=madvdontneed=1", "B=2"}, []string{"B=2", "GODEBUG=madvdontneed=1,gctrace=1"}},
		{"gctrace=0 overridden", []string{"GODEBUG=gctrace=0,x=1"}, []string{"GODEBUG=gctrace=0,x=1,gctrace=1"}},
		{"gctrace=2 kept", []string{"GODEBUG=gctrace=2"}, []string{"GODEBUG=gctrace=2"}},
		{"last setting wins", []string{"GODEBUG=gctrace=1,gctrace=0"}, []string{"GODEBUG=gctrace=1,gctrace=0,gctrace=1"}},
		{"duplicate GODEBUG: last wins", []string{"GODEBUG=a=1", "GODEBUG=b=1"}, []string{"GODEBUG=b=1,gctrace=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, EnableTrace(tt.env)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"off", 0, false},
		{"1024", 1024, false},
		{"512B", 512, false},
		{"64MiB", 64 << 20, false},
		{"2GiB", 2 << 30, false},
		{"1TiB", 1 << 40, false},
		{"3KiB", 3 << 10, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"1.5GiB", 0, true},
		{"-1", 0, true},
		{"64MB", 0, true},
		{"99999999999TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMemoryLimit(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "gctrace: memory limit ") {
			t.Errorf("error %q lacks context", err)
		}
	}
}

// buildChild builds testdata/child with the go command. Without one the
// test skips, except under CI=true, where it fails.
func buildChild(t *testing.T) string {
	t.Helper()
	return testbin.Build(t, filepath.Join("testdata", "child", "main.go"))
}

func TestRunCountsMatchRuntimeMetrics(t *testing.T) {
	bin := buildChild(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "3")
	cmd.Env = append(os.Environ(), "GOGC=100", "GOMEMLIMIT=1GiB", "GODEBUG=madvdontneed=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	s, err := Run(cmd)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Run error = %v, want exit status 3", err)
	}
	var cycles, forced int64
	if _, err := fmt.Sscan(stdout.String(), &cycles, &forced); err != nil {
		t.Fatalf("child output %q: %v", stdout.String(), err)
	}
	if cycles < 3 {
		t.Fatalf("child ran only %d cycles; the test needs more", cycles)
	}
	if s.Cycles != cycles || s.LastCycle != uint64(cycles) || s.Missing != 0 {
		t.Errorf("parsed %d cycles (last gc %d, %d missing), runtime/metrics says %d", s.Cycles, s.LastCycle, s.Missing, cycles)
	}
	if s.Forced != forced {
		t.Errorf("parsed %d forced cycles, runtime/metrics says %d", s.Forced, forced)
	}
	if s.MemoryLimit != 1<<30 {
		t.Errorf("MemoryLimit = %d, want GOMEMLIMIT from the environment", s.MemoryLimit)
	}
	got := stderr.String()
	if !strings.HasPrefix(got, "child: starting\n") || !strings.HasSuffix(got, "child: done, no newline") {
		t.Errorf("passthrough lost the child's lines:\n%s", got)
	}
	if strings.Contains(got, " MB goal") {
		t.Errorf("passthrough contains gc lines:\n%s", got)
	}
	if want := int64(strings.Count(got, "\n")); s.Input.Other != want+1 {
		t.Errorf("Other = %d, want %d", s.Input.Other, want+1)
	}
}

func TestRunStartError(t *testing.T) {
	_, err := Run(exec.Command(filepath.Join(t.TempDir(), "missing")))
	if err == nil || !strings.HasPrefix(err.Error(), "gctrace: start ") {
		t.Errorf("Run error = %v, want a start error", err)
	}
}
