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
		{"two files", []string{"gctrace", "a", "b"}, 2, "at most one file"},
		{"bad memlimit", []string{"gctrace", "--memlimit", "lots", "x"}, 2, "--memlimit"},
		{"no command", []string{"gctrace", "--"}, 2, "no command"},
		{"file and command", []string{"gctrace", "x.txt", "--", "true"}, 2, "unexpected"},
		{"unknown flag", []string{"gctrace", "--nope"}, 2, "flag provided but not defined"},
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

// gctraceChildSrc is a Go program that allocates, forces one cycle, and then makes
// sure no cycle can start or still be printing before it reads its own GC
// count: SetGCPercent(-1) waits for a cycle in mark, and ReadMemStats stops
// the world, which waits for a cycle in mark termination, whose trace line
// is printed before the world is let go. It prints the runtime/metrics
// counts on stdout and exits with the code in its first argument. It writes
// to standard error only when no cycle can be running (at start and at the
// end), so the exact count does not depend on how the program's lines and the
// runtime's pieces of a gc line interleave; untangling those is tested on the
// captured corpus (gctrace/testdata, the mixed program).
const gctraceChildSrc = `package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
)

var sink []byte
var live [][]byte

func main() {
	fmt.Fprintln(os.Stderr, "child: starting")
	for i := 0; i < 200000; i++ {
		sink = make([]byte, 1<<10)
		if i%2000 == 0 {
			live = append(live, make([]byte, 64<<10))
		}
		if i == 100000 {
			runtime.GC()
		}
	}
	debug.SetGCPercent(-1)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	fmt.Fprintln(os.Stderr, "child: done")
	fmt.Printf("%d %d\n", s[0].Value.Uint64(), s[1].Value.Uint64())
	code, _ := strconv.Atoi(os.Args[1])
	os.Exit(code)
}
`

// buildGCTraceChild builds gctraceChildSrc once per test with go build. Without a go
// command the test skips, except under CI=true, where it fails.
func buildGCTraceChild(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command not found: %v", err)
		}
		t.Skipf("go command not found: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "child.go")
	if err := os.WriteFile(src, []byte(gctraceChildSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "child")
	cmd := exec.Command(gobin, "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestGCTraceRunsCommand(t *testing.T) {
	bin := buildGCTraceChild(t)
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
	if !strings.HasPrefix(got, "child: starting\n") || !strings.HasSuffix(got, "child: done\n") {
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
