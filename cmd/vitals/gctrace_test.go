package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/govitals/vitals/internal/testbin"
)

var gctraceCorpus = filepath.Join("..", "..", "gctrace", "testdata")

func TestGCTraceFileMatchesGolden(t *testing.T) {
	// The command prints the library's summary; the library's golden file
	// for this capture was made with the same memory limit.
	var out, errb bytes.Buffer
	code := run([]string{"gctrace", filepath.Join(gctraceCorpus, "memlimit.txt"), "--memlimit", "64MiB"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errb.String())
	}
	want, err := os.ReadFile(filepath.Join(gctraceCorpus, "golden", "memlimit.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("output differs from gctrace/testdata/golden/memlimit.txt:\n%s", out.String())
	}
}

func TestGCTraceStdinJSONAndPlots(t *testing.T) {
	f, err := os.Open(filepath.Join(gctraceCorpus, "forced.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()

	dir := t.TempDir()
	svg, pngPath := filepath.Join(dir, "gc.svg"), filepath.Join(dir, "gc.png")
	var out, errb bytes.Buffer
	code := run([]string{"gctrace", "--json", "--svg", svg, "--png", pngPath, "-"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errb.String())
	}
	var s struct {
		Cycles int `json:"cycles"`
		Forced int `json:"forced"`
		Hints  []struct {
			ID string `json:"id"`
		} `json:"hints"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if s.Cycles != 41 || s.Forced != 41 || len(s.Hints) == 0 || s.Hints[0].ID != "forced-gc" {
		t.Errorf("summary = %+v, want 41 forced cycles and the forced-gc hint first", s)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("SVG not written: %v", err)
	}
	pf, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := png.Decode(pf); err != nil {
		t.Errorf("PNG: %v", err)
	}
}

func TestGCTraceUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"missing file", []string{"gctrace", filepath.Join(t.TempDir(), "none.txt")}, 1, "no such file"},
		{"two files", []string{"gctrace", "a", "b"}, exitUsage, "at most one file"},
		{"bad memlimit", []string{"gctrace", "--memlimit", "lots", "x"}, exitUsage, "--memlimit"},
		{"no command", []string{"gctrace", "--"}, exitUsage, "no command"},
		{"file and command", []string{"gctrace", "x.txt", "--", "true"}, exitUsage, "unexpected"},
		{"unknown flag", []string{"gctrace", "--nope"}, exitUsage, "flag provided but not defined"},
		{"bad plot path", []string{"gctrace", "--svg", filepath.Join(t.TempDir(), "no", "dir.svg"), filepath.Join(gctraceCorpus, "alloc.txt")}, 1, "no such file"},
		{"command not found", []string{"gctrace", "--", filepath.Join(t.TempDir(), "missing")}, 127, "start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, errb.String())
			}
			if !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.wantErr)
			}
		})
	}
}

func TestGCTraceSignalExitCode(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"gctrace", "--", sh, "-c", "kill -9 $$"}, &out, &errb); code != 128+9 {
		t.Errorf("exit %d, want 137 (killed by SIGKILL); stderr: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no GC cycles") {
		t.Errorf("summary missing from stderr: %s", errb.String())
	}
}

func TestGCTraceRunsCommand(t *testing.T) {
	bin := testbin.Build(t, filepath.Join(gctraceCorpus, "child", "main.go"))
	t.Setenv("GOMEMLIMIT", "512MiB")
	t.Setenv("GOGC", "100")
	summary := filepath.Join(t.TempDir(), "summary.json")
	var out, errb bytes.Buffer
	code := run([]string{"gctrace", "--json", "-o", summary, "--", bin, "5"}, &out, &errb)
	if code != 5 {
		t.Fatalf("exit %d, want the child's 5; stderr: %s", code, errb.String())
	}
	fields := strings.Fields(out.String())
	if len(fields) != 2 {
		t.Fatalf("child stdout %q, want two counts", out.String())
	}
	cycles, _ := strconv.Atoi(fields[0])
	forced, _ := strconv.Atoi(fields[1])

	var s struct {
		Cycles      int   `json:"cycles"`
		Forced      int   `json:"forced"`
		LastCycle   int   `json:"last_cycle"`
		MemoryLimit int64 `json:"memory_limit_bytes"`
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary: %v\n%s", err, b)
	}
	if cycles < 2 || s.Cycles != cycles || s.LastCycle != cycles {
		t.Errorf("parsed %d cycles (last gc %d), the child's runtime/metrics says %d", s.Cycles, s.LastCycle, cycles)
	}
	if s.Forced != forced {
		t.Errorf("parsed %d forced cycles, runtime/metrics says %d", s.Forced, forced)
	}
	if s.MemoryLimit != 512<<20 {
		t.Errorf("memory limit %d, want GOMEMLIMIT from the environment", s.MemoryLimit)
	}
	// The child's own standard error passes through, without gc lines.
	got := errb.String()
	if !strings.HasPrefix(got, "child: starting\n") || !strings.HasSuffix(got, "child: done, no newline") {
		t.Errorf("stderr is not the child's own:\n%s", got)
	}
	if strings.Contains(got, " MB goal") {
		t.Errorf("stderr contains gc lines:\n%s", got)
	}
}

func TestGCTraceRecords(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"gctrace", "--records", filepath.Join(gctraceCorpus, "forced.txt")}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	kinds := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct {
			Kind  string `json:"kind"`
			Cycle *struct {
				Num    int  `json:"num"`
				Forced bool `json:"forced"`
			} `json:"gc"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		kinds[r.Kind]++
		if r.Kind == "gc" && (r.Cycle == nil || !r.Cycle.Forced || r.Cycle.Num != kinds["gc"]) {
			t.Errorf("gc record %s: want forced cycle %d", l, kinds["gc"])
		}
	}
	if kinds["gc"] != 41 || kinds["scav"] == 0 || len(kinds) != 2 {
		t.Errorf("record kinds %v, want 41 gc and some scav", kinds)
	}
}

// TestGCTraceSeveralRuns: a log holding several runs gets a table with a
// run column in input order and a plot with one line per run.
func TestGCTraceSeveralRuns(t *testing.T) {
	dir := t.TempDir()
	var all []byte
	for _, name := range []string{"alloc", "leak"} {
		b, err := os.ReadFile(filepath.Join(gctraceCorpus, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	in := filepath.Join(dir, "two-runs.txt")
	if err := os.WriteFile(in, all, 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "gc.svg")
	var out, errb bytes.Buffer
	if code := run([]string{"gctrace", "--svg", svg, in}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), " run      time") || !strings.Contains(out.String(), "several-processes") {
		t.Errorf("no run column or hint:\n%s", out.String())
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.Contains(string(b), "in 2 runs (one line each)") {
		t.Errorf("SVG: %v, title lacks the runs", err)
	}
}
