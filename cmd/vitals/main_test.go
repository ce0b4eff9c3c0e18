package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/govitals/vitals/leak"
)

// TestMain fails the package's tests if they leave goroutines running, and
// removes the vitals binary the tests built.
func TestMain(m *testing.M) { leak.VerifyTestMain(cleanupM{m}) }

type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
	binOut  []byte
)

// vitalsBin builds this command once (go build, so it carries the build
// information "vitals version" prints) and returns the binary's path.
// Without a go command the test skips, except under CI=true.
func vitalsBin(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command not found (CI=true): %v", err)
		}
		t.Skipf("go command not found: %v", err)
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "vitals-cmd-test"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "vitals")
		args := []string{"build", "-o", binPath}
		if inGit() {
			// GOFLAGS may say -buildvcs=false; the version test wants it.
			args = append(args, "-buildvcs=true")
		}
		binOut, binErr = exec.Command(gobin, append(args, ".")...).CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binOut)
	}
	return binPath
}

// runBin runs the built binary with args and stdin (nil: an empty file) and
// returns its exit code, stdout and stderr.
func runBin(t *testing.T, stdin *os.File, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(vitalsBin(t), args...)
	var out, errb safeBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Env = append(os.Environ(), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run vitals %q: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// safeBuffer is a bytes.Buffer guarded by a mutex (exec copies into it from
// goroutines while a test may read it).
type safeBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// inGit reports whether the tests run inside a git checkout.
func inGit() bool {
	_, err := exec.LookPath("git")
	return err == nil && exec.Command("git", "rev-parse", "HEAD").Run() == nil
}
