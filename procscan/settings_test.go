package procscan_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/govitals/vitals/internal/cgrouptest"
	"github.com/govitals/vitals/internal/testbin"
	"github.com/govitals/vitals/procscan"
)

// TestPredictionMatchesRuntime runs a plain Go program (built with the
// toolchain under test) with various environments, some inside a real
// cgroup with a CPU quota, and compares the GOMAXPROCS and GOMEMLIMIT that
// vitals ps predicts from outside with what the program's runtime reports.
// (On a 2-CPU machine a quota of 1 gives 2 Ps either way, since the
// runtime rounds a quota up to at least 2; on a larger machine the quota
// cases tell the rules apart.)
func TestPredictionMatchesRuntime(t *testing.T) {
	bin := testbin.Build(t, "testdata/settings/main.go")
	tests := []struct {
		name string
		env  []string
		cpus float64 // >0: run in a cgroup with this quota
	}{
		{"defaults", nil, 0},
		{"GOMAXPROCS and GOMEMLIMIT", []string{"GOMAXPROCS=3", "GOMEMLIMIT=300MiB"}, 0},
		{"GOMEMLIMIT off", []string{"GOMEMLIMIT=off"}, 0},
		{"GOMEMLIMIT in bytes", []string{"GOMEMLIMIT=123456789"}, 0},
		{"invalid GOMAXPROCS ignored", []string{"GOMAXPROCS=0"}, 0},
		{"CPU quota", nil, 1.0},
		{"CPU quota, containermaxprocs=0", []string{"GODEBUG=containermaxprocs=0"}, 1.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cmd *exec.Cmd
			if tt.cpus > 0 {
				cgrouptest.Require(t)
				cmd = cgrouptest.New(t, tt.cpus, 0).Command(bin)
			} else {
				cmd = exec.Command(bin)
			}
			cmd.Env = cleanEnv(tt.env...)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { stdin.Close(); _ = cmd.Wait() }()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			var procs int
			var memlimit int64
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "GOMAXPROCS=%d GOMEMLIMIT=%d", &procs, &memlimit); err != nil {
				t.Fatalf("child said %q: %v", line, err)
			}
			rep := procscan.Scan(context.Background(), procscan.WithPIDs(cmd.Process.Pid), procscan.WithoutProbe())
			if len(rep.Processes) != 1 {
				t.Fatalf("scan found %d processes; skipped %v", len(rep.Processes), rep.Skipped)
			}
			s := rep.Processes[0].Settings
			if s.GOMAXPROCS != procs || s.GOMEMLIMIT != memlimit {
				t.Errorf("predicted GOMAXPROCS=%d GOMEMLIMIT=%d (%s; %s); the runtime reports GOMAXPROCS=%d GOMEMLIMIT=%d",
					s.GOMAXPROCS, s.GOMEMLIMIT, s.GOMAXPROCSRule, s.GOMEMLIMITRule, procs, memlimit)
			}
		})
	}
}
