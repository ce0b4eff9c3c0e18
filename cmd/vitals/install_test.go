package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallFromUserModule does what the README tells a user, from a
// scratch module outside this repository that points at it with a replace
// directive (the proxy cannot serve an unpublished module): go get -tool,
// go tool vitals-vet ./..., go install, and the installed vitals runs.
// Offline: GOPROXY=off and GOSUMDB=off, with the module cache this
// repository's tests already filled.
//
// It also pins the cause of "missing go.sum entry" from a bare go run: a
// module's go.sum covers only the packages it imports, and x/tools (which
// vitals-vet needs) is not among them until the tool is declared.
func TestInstallFromUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vitals and vitals-vet from a scratch module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/user\n\ngo 1.26\n\nreplace github.com/govitals/vitals => "+repo+"\n")
	write("main.go", "package main\n\nimport (\n\t\"runtime\"\n\n\t_ \"github.com/govitals/vitals\"\n)\n\nfunc main() { runtime.GC() }\n")
	env := append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=", "GOBIN="+filepath.Join(dir, "bin"))
	goCmd := func(args ...string) (string, error) {
		cmd := exec.Command(gobin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := goCmd("mod", "tidy"); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	// The failure users met: the tool's dependencies are not in go.sum.
	if out, err := goCmd("run", "github.com/govitals/vitals/cmd/vitals-vet", "./..."); err == nil || !strings.Contains(out, "missing go.sum entry") {
		t.Logf("bare go run (no tool directive): %v\n%s", err, out)
	}
	if out, err := goCmd("get", "-tool", "github.com/govitals/vitals/cmd/vitals-vet", "github.com/govitals/vitals/cmd/vitals"); err != nil {
		t.Fatalf("go get -tool: %v\n%s", err, out)
	}
	if out, err := goCmd("mod", "tidy"); err != nil {
		t.Fatalf("go mod tidy after go get -tool: %v\n%s", err, out)
	}
	out, err := goCmd("tool", "vitals-vet", "./...")
	if err == nil || !strings.Contains(out, "runtime.GC forces a full collection") {
		t.Errorf("go tool vitals-vet ./...: %v, want the runtime.GC diagnostic\n%s", err, out)
	}
	out, err = goCmd("run", "github.com/govitals/vitals/cmd/vitals-vet", "./...")
	if !strings.Contains(out, "runtime.GC forces a full collection") {
		t.Errorf("go run …/cmd/vitals-vet ./... after go get -tool: %v\n%s", err, out)
	}
	if out, err := goCmd("install", "github.com/govitals/vitals/cmd/vitals", "github.com/govitals/vitals/cmd/vitals-vet"); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	v, err := exec.Command(filepath.Join(dir, "bin", "vitals"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(v), "vitals v0.0.0-") {
		t.Errorf("installed vitals version: %v %q", err, v)
	}
}
