package vitals_test

import (
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/govitals/vitals"

// allowedImports is ARCHITECTURE.md's package map: the vitals packages each
// package may import directly. A package missing here fails the test, so a
// new package must be placed on the map.
var allowedImports = map[string][]string{
	"cgroup":                      {},
	"startup":                     {"cgroup"},
	"auto":                        {"startup"},
	"checklist":                   {},
	"stacks":                      {},
	"leak":                        {"stacks"},
	"metrics":                     {"cgroup"},
	"metrics/promexport":          {"metrics"},
	"metrics/otelexport":          {"metrics"},
	"metrics/otelexport/producer": {"metrics"},
	"tracecap":                    {},
	"incident":                    {"cgroup", "stacks", "tracecap"},
	"incident/inspect":            {"incident", "stacks"},
	"admin":                       {"stacks", "tracecap"},
	"admin/admintest":             {},
	"dashboard":                   {"metrics"},
	"doctor":                      {"checklist", "startup", "cgroup", "internal/adminclient"},
	"internal/adminclient":        {},
	"gctrace":                     {},
	"procscan":                    {"cgroup", "checklist", "doctor"},
	"promtargets":                 {},
	"gctrace/plot":                {"gctrace"},
	"deploy/prometheus":           {},
	"deploy/grafana":              {},
	"internal/cgrouptest":         {},
	"internal/tracecheck":         {},
	"internal/testbin":            {},
	"internal/golden":             {},
	"internal/browsertest":        {},
	"internal/demo":               {"", "admin", "doctor", "leak"},
	"":                            {"startup", "cgroup", "checklist", "leak", "metrics", "metrics/promexport", "tracecap", "admin", "dashboard", "incident"},
	"cmd/vitals":                  {"*"},
	"cmd/vitals-vet":              {"passes"},
	"passes":                      {"passes/*"},
}

// TestArchitecture holds every package to the import rules of
// ARCHITECTURE.md.
func TestArchitecture(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command needed (CI=true): %v", err)
		}
		t.Skipf("skipping, no go command: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := rel(fields[0])
		if pkg == "internal/depsprobe" {
			continue
		}
		seen++
		allowed, ok := allowedImports[pkg]
		switch {
		case ok:
		case strings.HasPrefix(pkg, "passes/internal/"):
			allowed = nil
		case strings.HasPrefix(pkg, "passes/"):
			allowed = []string{"passes/internal/*"}
		default:
			t.Errorf("package %q is not on the map in ARCHITECTURE.md (and allowedImports)", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "net/http/pprof" {
				t.Errorf("%s imports net/http/pprof, which registers on http.DefaultServeMux", fields[0])
			}
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if !permitted(allowed, rel(imp)) {
				t.Errorf("%s imports %s; ARCHITECTURE.md allows only %v", show(pkg), show(rel(imp)), allowed)
			}
		}
	}
	if seen < len(allowedImports) {
		t.Errorf("go list saw %d packages, fewer than the %d on the map: remove the stale entries", seen, len(allowedImports))
	}
}

// TestLeanPackagesLinkNoExpvar checks rule 4's reason: the packages a
// service links for the start-up checklist alone bring no expvar (which
// registers /debug/vars on http.DefaultServeMux) and no HTTP stack.
func TestLeanPackagesLinkNoExpvar(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go command needed (CI=true): %v", err)
		}
		t.Skipf("skipping, no go command: %v", err)
	}
	for _, pkg := range []string{"startup", "cgroup", "checklist", "stacks", "leak", "gctrace", "metrics", "tracecap"} {
		out, err := exec.Command(gobin, "list", "-deps", path.Join(module, pkg)).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		var bad []string
		for _, dep := range strings.Fields(string(out)) {
			if dep == "expvar" || dep == "net/http/pprof" || strings.HasPrefix(dep, "github.com/prometheus/") {
				bad = append(bad, dep)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s links %v", pkg, bad)
		}
	}
}

func rel(imp string) string {
	if imp == module {
		return ""
	}
	return strings.TrimPrefix(imp, module+"/")
}

func show(pkg string) string {
	if pkg == "" {
		return "vitals (root)"
	}
	return pkg
}

func permitted(allowed []string, imp string) bool {
	for _, a := range allowed {
		if a == "*" || a == imp {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(imp, prefix) {
			return true
		}
	}
	return false
}
