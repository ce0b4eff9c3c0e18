package startup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGODEBUGFromGoMod builds a real service whose go.mod turns the
// runtime's container support off with a godebug block, and checks that
// its Plan warns about both settings: the go command records them in the
// binary's DefaultGODEBUG, which is what Setup reads.
func TestGODEBUGFromGoMod(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command needed (CI=true): %v", err)
		}
		t.Skipf("skipping, no go command: %v", err)
	}
	checkout, err := filepath.Abs("..") // the module root
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(checkout, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/oldservice\n\ngo 1.26\n\ngodebug (\n\tcontainermaxprocs=0\n\tupdatemaxprocs=0\n)\n\n" +
			"require github.com/govitals/vitals v0.0.0\n\nreplace github.com/govitals/vitals => " + checkout + "\n",
		"go.sum": string(sum),
		"main.go": `package main

import (
	"fmt"

	"github.com/govitals/vitals/startup"
)

func main() {
	r, err := startup.Plan()
	if err != nil {
		panic(err)
	}
	for _, w := range r.Warnings {
		fmt.Println(w)
	}
}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "oldservice")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Dir = dir
	// Offline: every module comes from this checkout's module cache.
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "GODEBUG=")
	out, err := run.Output()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"GODEBUG containermaxprocs=0 from the binary's default", "GODEBUG updatemaxprocs=0 from the binary's default"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("warnings lack %q:\n%s", want, out)
		}
	}
}
