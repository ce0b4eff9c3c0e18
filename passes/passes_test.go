package passes_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/govitals/vitals/passes"
)

// TestAll checks that every analyzer package under passes/ is listed, that
// the list is sorted, and that each analyzer is valid and documented.
func TestAll(t *testing.T) {
	all := passes.All()
	if err := analysis.Validate(all); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.Name)
		doc, err := os.ReadFile(filepath.Join(a.Name, "doc.go"))
		if err != nil {
			t.Errorf("%s: %v", a.Name, err)
			continue
		}
		if !strings.Contains(string(doc), "# Analyzer "+a.Name+"\n") {
			t.Errorf("%s/doc.go has no \"# Analyzer %s\" section", a.Name, a.Name)
		}
		if !strings.HasSuffix(a.URL, "/passes/"+a.Name) {
			t.Errorf("%s: URL %q does not name its package", a.Name, a.URL)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("All() is not sorted by name: %v", names)
	}
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && d.Name() != "internal" && !slices.Contains(names, d.Name()) {
			t.Errorf("passes/%s is not in All()", d.Name())
		}
	}
}

func ExampleAll() {
	for _, a := range passes.All() {
		fmt.Println(a.Name)
	}
	// Output:
	// finalizer
	// gccall
	// gcoff
	// maxprocs
	// memstatspoll
	// pprofexpose
	// stackbuf
	// tracebound
}
