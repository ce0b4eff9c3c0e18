package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	src := filepath.Join(t.TempDir(), "hello", "main.go")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	prog := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from a child\") }\n"
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Build(t, src)).Output()
	if err != nil || strings.TrimSpace(string(out)) != "hello from a child" {
		t.Fatalf("child said %q, %v", out, err)
	}
}
