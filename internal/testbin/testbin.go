// Package testbin builds the small real Go programs that vitals' tests run
// as child processes (a program to trace, a service to audit). Tests only.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the single-file program src (a path to a main package file
// that imports only the standard library) with the go command and returns
// the binary's path in a temporary directory. Without a go command the test
// is skipped, except under CI=true, where it fails. Cost: one go build,
// about a second with a warm build cache.
func Build(t testing.TB, src string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command not found (CI=true): %v", err)
		}
		t.Skipf("go command not found: %v", err)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, filepath.Base(filepath.Dir(abs)))
	cmd := exec.Command(gobin, "build", "-o", bin, abs)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", src, err, out)
	}
	return bin
}
