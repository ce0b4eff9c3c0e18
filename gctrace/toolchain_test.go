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
)

// TestEveryToolchain builds the real child program with each supported
// toolchain (the machine's Go and go1.27.3) and checks that the Reader
// reads every line each runtime prints under gctrace=1 and gctrace=2: as
// many cycles as runtime/metrics counts, none missing, none malformed. A
// toolchain that cannot be fetched skips, except under CI=true.
func TestEveryToolchain(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no go command")
		}
		t.Skip("no go command")
	}
	for _, tc := range []string{"local", "go1.27.3"} {
		t.Run(tc, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "child")
			cmd := exec.Command("go", "build", "-o", bin, filepath.Join("testdata", "child", "main.go"))
			cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+tc)
			if b, err := cmd.CombinedOutput(); err != nil {
				if os.Getenv("CI") != "true" && tc != "local" {
					t.Skipf("toolchain %s: %v\n%s", tc, err, b)
				}
				t.Fatalf("build: %v\n%s", err, b)
			}
			ver, _ := exec.Command("go", "version", bin).Output()
			if tc != "local" && !strings.Contains(string(ver), tc) {
				t.Fatalf("child built with %q, want %s", ver, tc)
			}
			for _, level := range []string{"1", "2"} {
				var stdout, stderr bytes.Buffer
				cmd := exec.Command(bin, "0")
				cmd.Env = append(os.Environ(), "GOGC=100", "GODEBUG=gctrace="+level)
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				s, err := Run(cmd)
				var exit *exec.ExitError
				if err != nil && !errors.As(err, &exit) {
					t.Fatal(err)
				}
				var cycles, forced int64
				if _, err := fmt.Sscan(stdout.String(), &cycles, &forced); err != nil {
					t.Fatalf("child output %q: %v", stdout.String(), err)
				}
				if s.Cycles != cycles || s.Missing != 0 || s.Forced != forced || s.Input.Malformed != 0 {
					t.Errorf("%sgctrace=%s: parsed %d cycles (%d forced, %d missing, %d malformed lines), runtime/metrics says %d (%d forced)",
						ver, level, s.Cycles, s.Forced, s.Missing, s.Input.Malformed, cycles, forced)
				}
				if strings.Contains(stderr.String(), " MB goal") {
					t.Errorf("gctrace=%s: a gc line passed through as the program's output:\n%s", level, stderr.String())
				}
			}
		})
	}
}
