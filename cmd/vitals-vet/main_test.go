package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// finding is one diagnostic, reduced to what the tests compare.
type finding struct {
	Analyzer string
	File     string // base name
	Line     int
}

func (f finding) String() string { return fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Analyzer) }

// wantSvc is every finding in testdata/mod: one per analyzer, and none on
// line 25, whose runtime.GC carries a //vitals:ignore comment.
var wantSvc = []finding{
	{"finalizer", "main.go", 22},
	{"gccall", "main.go", 20},
	{"gcoff", "main.go", 19},
	{"maxprocs", "main.go", 18},
	{"memstatspoll", "main.go", 34},
	{"pprofexpose", "main.go", 28},
	{"stackbuf", "main.go", 40},
	{"tracebound", "main.go", 44},
}

// build compiles vitals-vet into a temporary directory and returns its path.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vitals-vet")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runIn runs name with args in dir and returns stdout, stderr and the exit
// code; it fails the test when the program could not run at all.
func runIn(t *testing.T, dir, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatalf("%s %v: %v", name, args, err)
	return "", "", 0
}

// jsonTree is the -json output of an analysis driver: package, analyzer,
// then a list of diagnostics or an error object.
type jsonTree map[string]map[string]json.RawMessage

type jsonDiag struct {
	Posn    string `json:"posn"`
	Message string `json:"message"`
}

// parseJSON returns the findings in a -json report, and the analysis errors.
func parseJSON(t *testing.T, out string) ([]finding, []string) {
	t.Helper()
	var fs []finding
	var errs []string
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() { // one object per package under go vet, one in all standalone
		var tree jsonTree
		if err := dec.Decode(&tree); err != nil {
			t.Fatalf("decode -json output: %v\n%s", err, out)
		}
		for pkg, byAnalyzer := range tree {
			for analyzer, raw := range byAnalyzer {
				var ds []jsonDiag
				if err := json.Unmarshal(raw, &ds); err != nil {
					errs = append(errs, fmt.Sprintf("%s %s: %s", pkg, analyzer, raw))
					continue
				}
				for _, d := range ds {
					fs = append(fs, posnFinding(t, analyzer, d.Posn))
				}
			}
		}
	}
	return dedup(fs), errs
}

var posnRE = regexp.MustCompile(`^(.*):(\d+):\d+$`)

func posnFinding(t *testing.T, analyzer, posn string) finding {
	m := posnRE.FindStringSubmatch(posn)
	if m == nil {
		t.Fatalf("bad position %q", posn)
	}
	var line int
	fmt.Sscan(m[2], &line)
	return finding{Analyzer: analyzer, File: filepath.Base(m[1]), Line: line}
}

// dedup sorts fs and drops repeats: a package and its test variant report
// the same finding in a non-test file.
func dedup(fs []finding) []finding {
	sort.Slice(fs, func(i, j int) bool { return fs[i].String() < fs[j].String() })
	out := fs[:0]
	for i, f := range fs {
		if i == 0 || f != fs[i-1] {
			out = append(out, f)
		}
	}
	return out
}

func sortedWant() []finding {
	return dedup(append([]finding(nil), wantSvc...))
}

// TestCommand builds vitals-vet and runs it on the module in testdata/mod
// both ways a user does: standalone (text and -json) and as go vet's
// -vettool. The go vet run prints plain text findings, whose messages name
// no analyzer, so it is compared by line.
func TestCommand(t *testing.T) {
	bin := build(t)
	mod := filepath.Join("testdata", "mod")

	t.Run("standalone", func(t *testing.T) {
		_, stderr, code := runIn(t, mod, bin, "./...")
		if code != 3 {
			t.Fatalf("exit code %d, want 3 (findings)\n%s", code, stderr)
		}
		if got, want := lines(t, stderr), wantLines(); !cmp.Equal(got, want) {
			t.Errorf("finding lines (-want +got):\n%s\n%s", cmp.Diff(want, got), stderr)
		}
	})

	t.Run("json", func(t *testing.T) {
		stdout, stderr, code := runIn(t, mod, bin, "-json", "./...")
		if code != 0 {
			t.Fatalf("exit code %d, want 0 with -json\n%s", code, stderr)
		}
		got, errs := parseJSON(t, stdout)
		if len(errs) > 0 {
			t.Errorf("analysis errors: %v", errs)
		}
		if diff := cmp.Diff(sortedWant(), got); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})

	t.Run("govet", func(t *testing.T) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runIn(t, mod, "go", "vet", "-vettool="+abs, "./...")
		if code != 1 {
			t.Fatalf("go vet exit code %d, want 1\n%s", code, stderr)
		}
		if got, want := lines(t, stderr), wantLines(); !cmp.Equal(got, want) {
			t.Errorf("finding lines (-want +got):\n%s\n%s", cmp.Diff(want, got), stderr)
		}
	})

	t.Run("govet-json", func(t *testing.T) {
		abs, _ := filepath.Abs(bin)
		stdout, stderr, code := runIn(t, mod, "go", "vet", "-vettool="+abs, "-json", "./...")
		if code != 0 {
			t.Fatalf("go vet -json exit code %d, want 0\n%s", code, stderr)
		}
		// go vet -json writes one JSON object per package (to stdout since
		// Go 1.24, to stderr before), with "# pkg" comment lines between.
		var js strings.Builder
		for _, l := range strings.Split(stdout+stderr, "\n") {
			if !strings.HasPrefix(l, "#") {
				js.WriteString(l + "\n")
			}
		}
		got, errs := parseJSON(t, js.String())
		if len(errs) > 0 {
			t.Errorf("analysis errors: %v", errs)
		}
		if diff := cmp.Diff(sortedWant(), got); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})

	t.Run("repo", func(t *testing.T) {
		if os.Getenv("VITALS_VET_LONG") == "" {
			t.Skip("set VITALS_VET_LONG=1 to vet the whole repository with its own analyzers (a minute or two on 2 cores; CI runs the same as a lint step)")
		}
		abs, _ := filepath.Abs(bin)
		start := time.Now()
		_, stderr, code := runIn(t, filepath.Join("..", ".."), "go", "vet", "-vettool="+abs, "./...")
		t.Logf("go vet -vettool=vitals-vet ./... took %v", time.Since(start))
		fs := textFindings(stderr)
		for _, f := range fs {
			t.Logf("finding: %s", f)
		}
		if code != 0 || len(fs) > 0 {
			t.Errorf("vitals is not clean under its own analyzers (exit %d): fix the findings or suppress each with //vitals:ignore <analyzer> <reason>\n%s", code, stderr)
		}
	})

	t.Run("std", func(t *testing.T) {
		if os.Getenv("VITALS_VET_LONG") == "" {
			t.Skip("set VITALS_VET_LONG=1 to run every analyzer over the standard library (about a minute of CPU and 5 GB of memory)")
		}
		start := time.Now()
		stdout, stderr, code := runIn(t, ".", bin, "-json", "std")
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("vitals-vet -json std: exit %d\n%s", code, stderr)
		}
		n := countStd(t)
		t.Logf("vitals-vet -json std: %d packages in %v, %v per package", n, took, took/time.Duration(n))
		fs, errs := parseJSON(t, stdout)
		for _, e := range errs {
			t.Errorf("analysis error: %s", e)
		}
		t.Logf("%d findings (a package and its test variant count once)", len(fs))
		// Log every finding once, with its message.
		var tree map[string]map[string]json.RawMessage
		if err := json.Unmarshal([]byte(stdout), &tree); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		var logged []string
		for _, byAnalyzer := range tree {
			for a, raw := range byAnalyzer {
				var ds []jsonDiag
				_ = json.Unmarshal(raw, &ds)
				for _, d := range ds {
					l := fmt.Sprintf("%s: %s: %s", strings.TrimPrefix(d.Posn, runtimeGOROOT()), a, d.Message)
					if !seen[l] {
						seen[l] = true
						logged = append(logged, l)
					}
				}
			}
		}
		sort.Strings(logged)
		for _, l := range logged {
			t.Log(l)
		}
	})
}

// lines returns the sorted line numbers of the findings in text output
// ("path/main.go:18:2: message").
func lines(t *testing.T, out string) []int {
	var ls []int
	for _, f := range textFindings(out) {
		var line int
		fmt.Sscan(strings.Split(f, ":")[1], &line)
		ls = append(ls, line)
	}
	sort.Ints(ls)
	return ls
}

var textRE = regexp.MustCompile(`^(\S+\.go):(\d+):(\d+): `)

// textFindings returns the "file:line:col" of each finding in text output.
func textFindings(out string) []string {
	var fs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := textRE.FindStringSubmatch(sc.Text()); m != nil {
			fs = append(fs, filepath.Base(m[1])+":"+m[2]+":"+m[3])
		}
	}
	return fs
}

func wantLines() []int {
	var ls []int
	for _, f := range wantSvc {
		ls = append(ls, f.Line)
	}
	sort.Ints(ls)
	return ls
}

func countStd(t *testing.T) int {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	return len(strings.Fields(string(out)))
}

func runtimeGOROOT() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out)) + "/src/"
}
