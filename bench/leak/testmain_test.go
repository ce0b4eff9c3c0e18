package leak_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkFailingTestMain is the whole cost a failing TestMain check adds
// to `go test`, as a user sees it: one op runs a compiled test binary whose
// TestMain checks with
//
//   - vitals: leak.VerifyTestMain(m), which reruns the tests with ancestor
//     traces when it cannot name a leaking goroutine's test;
//   - vitals-no-rerun: leak.VerifyTestMain(m, leak.Rerun(0));
//   - goleak: goleak.VerifyTestMain(m), which never names the test.
//
// on two packages: the repository's own leaky test package
// (leak/testdata/leaky: 5 leaks, 2 of them need the rerun) and a generated
// package of 100 tests, each starting goroutines that finish, one leaking
// through a helper whose goroutine exited (needs the rerun). The binaries
// are built once, outside the timing. check-ms/op is the wait the check
// itself reports, rerun-ms/op the rerun it reports.
func BenchmarkFailingTestMain(b *testing.B) {
	bins := buildTestMains(b)
	for _, pkg := range []string{"leaky", "hundred"} {
		for _, lib := range []string{"vitals", "vitals-no-rerun", "goleak"} {
			b.Run(pkg+"/"+lib, func(b *testing.B) {
				bin := filepath.Join(bins, pkg+"_"+strings.ReplaceAll(lib, "-", "_")+".test")
				var check, rerun time.Duration
				for b.Loop() {
					out, err := exec.Command(bin, "-test.count=1").CombinedOutput()
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.ExitCode() != 1 {
						b.Fatalf("%s: %v, want exit status 1:\n%s", bin, err, out)
					}
					c, r := reportedTimes(string(out))
					check += c
					rerun += r
					if lib == "vitals" && r == 0 {
						b.Fatalf("no rerun reported:\n%s", out)
					}
				}
				if lib != "goleak" {
					b.ReportMetric(float64(check)/float64(time.Millisecond)/float64(b.N), "check-ms/op")
					b.ReportMetric(float64(rerun)/float64(time.Millisecond)/float64(b.N), "rerun-ms/op")
				}
			})
		}
	}
}

var (
	afterRE = regexp.MustCompile(`unexpected goroutines? after ([0-9.]+m?s)`)
	rerunRE = regexp.MustCompile(`reran the tests with GODEBUG=tracebackancestors=\d+ \(([0-9.]+m?s)\)`)
)

func reportedTimes(out string) (check, rerun time.Duration) {
	if m := afterRE.FindStringSubmatch(out); m != nil {
		check, _ = time.ParseDuration(m[1])
	}
	if m := rerunRE.FindStringSubmatch(out); m != nil {
		rerun, _ = time.ParseDuration(m[1])
	}
	return check, rerun
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// buildTestMains generates a module with the six packages and compiles
// their test binaries into one directory.
func buildTestMains(b *testing.B) string {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "vitals-bench-testmain-")
		if buildErr != nil {
			return
		}
		buildErr = generateTestMains(buildDir)
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "bin")
}

var testMains = map[string]string{
	"vitals":          "func TestMain(m *testing.M) { leak.VerifyTestMain(m) }",
	"vitals_no_rerun": "func TestMain(m *testing.M) { leak.VerifyTestMain(m, leak.Rerun(0)) }",
	"goleak":          "func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }",
}

func generateTestMains(dir string) error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		return err
	}
	leaky, err := os.ReadFile(filepath.Join(root, "leak/testdata/leaky/leaky_test.go"))
	if err != nil {
		return err
	}
	files := map[string]string{
		"go.mod": fmt.Sprintf("module example.com/testmains\n\ngo 1.26\n\nrequire (\n\tgithub.com/govitals/vitals v0.0.0\n\tgo.uber.org/goleak v1.3.0\n)\n\nreplace github.com/govitals/vitals => %s\n", root),
		"go.sum": string(sum),
	}
	for lib, main := range testMains {
		// The leaky package, with its TestMain swapped.
		src := strings.Replace(string(leaky), "func TestMain(m *testing.M) { leak.VerifyTestMain(m) }", main, 1)
		if lib == "goleak" {
			src = strings.Replace(src, `"github.com/govitals/vitals/leak"`, `"go.uber.org/goleak"`, 1)
		}
		files["leaky_"+lib+"/leaky_test.go"] = strings.Replace(src, "package leaky", "package leaky_"+lib, 1)
		files["hundred_"+lib+"/hundred_test.go"] = hundredTests(lib, main)
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("go", "test", "-c", "-o", bin+"/", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c: %v\n%s", err, out)
	}
	return nil
}

// hundredTests is a package of 100 tests; each starts and waits for 5
// goroutines, and Test057 leaks one through a helper that has exited.
func hundredTests(lib, main string) string {
	var b strings.Builder
	imp := `"github.com/govitals/vitals/leak"`
	if lib == "goleak" {
		imp = `"go.uber.org/goleak"`
	}
	fmt.Fprintf(&b, "package hundred_%s\n\nimport (\n\t\"sync\"\n\t\"testing\"\n\n\t%s\n)\n\n%s\n\n", lib, imp, main)
	b.WriteString("func work() {\n\tvar wg sync.WaitGroup\n\tfor range 5 {\n\t\twg.Add(1)\n\t\tgo func() { defer wg.Done() }()\n\t}\n\twg.Wait()\n}\n\n")
	b.WriteString("var block = make(chan struct{})\n\nfunc startWorker() {\n\tdone := make(chan struct{})\n\tgo func() {\n\t\tgo func() { <-block }()\n\t\tclose(done)\n\t}()\n\t<-done\n}\n\n")
	for i := range 100 {
		name := "Test" + fmt.Sprintf("%03d", i)
		body := "\twork()\n"
		if i == 57 {
			body += "\tstartWorker()\n"
		}
		fmt.Fprintf(&b, "func %s(t *testing.T) {\n%s}\n\n", name, body)
	}
	return b.String()
}
