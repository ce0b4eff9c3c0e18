// Package versiontest runs the Go-version gate cases of an analyzer: each
// testdata/versions/*.txtar archive holds a go.mod whose go directive (or a
// //go:build go1.N line) sets the version of its files, and Go sources with
// "// want" comments, checked by analysistest in module mode.
package versiontest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/txtar"
)

// Run extracts every testdata/versions/*.txtar archive into a temporary
// directory and runs analysistest.Run on "./..." there, as one subtest per
// archive. It fails when there is no archive. Each archive costs one
// go/packages load.
func Run(t *testing.T, a *analysis.Analyzer) {
	t.Helper()
	archives, err := filepath.Glob(filepath.Join("testdata", "versions", "*.txtar"))
	if err != nil || len(archives) == 0 {
		t.Fatalf("versiontest: no archives in testdata/versions (%v)", err)
	}
	for _, path := range archives {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatalf("versiontest: %v", err)
			}
			dir := t.TempDir()
			for _, f := range ar.Files {
				p := filepath.Join(dir, filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatalf("versiontest: %v", err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatalf("versiontest: %v", err)
				}
			}
			analysistest.Run(t, dir, a, "./...")
		})
	}
}
