// Package ignore reads the suppression comments of the vitals analyzers.
//
// A finding is suppressed by a line comment naming the analyzer and giving a
// reason, on the line of the finding or alone on the line above it:
//
//	runtime.GC() //vitals:ignore gccall releases the 2 GiB arena before fork
//
//	//vitals:ignore gccall,memstatspoll calibration loop, runs once at start
//	runtime.GC()
//
// The reason is required: a directive without one suppresses nothing and is
// itself reported, so every exception in a code base says why it is one.
package ignore

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Prefix starts every suppression comment.
const Prefix = "//vitals:ignore"

// Directives holds the suppression comments of one package that name one
// analyzer. Build it once per pass with [New]; lookups are map reads.
type Directives struct {
	name  string
	lines map[line]bool
}

type line struct {
	file string
	n    int
}

// New scans the comments of every file in pass for directives naming the
// analyzer name, and reports each such directive that has no reason. It costs
// one walk over the comments of the package.
func New(pass *analysis.Pass, name string) *Directives {
	d := &Directives{name: name, lines: make(map[line]bool)}
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				names, reason, ok := parse(c.Text)
				if !ok || !contains(names, name) {
					continue
				}
				if reason == "" {
					pass.Report(analysis.Diagnostic{
						Pos:     c.Pos(),
						End:     c.End(),
						Message: fmt.Sprintf("%s %s has no reason, so it suppresses nothing (write %s %s <why this use is fine>)", Prefix, name, Prefix, name),
					})
					continue
				}
				p := pass.Fset.Position(c.Pos())
				d.lines[line{p.Filename, p.Line}] = true
				if alone(pass, c) {
					d.lines[line{p.Filename, p.Line + 1}] = true
				}
			}
		}
	}
	return d
}

// Suppressed reports whether a finding starting at pos is covered by a
// directive with a reason.
func (d *Directives) Suppressed(fset *token.FileSet, pos token.Pos) bool {
	p := fset.Position(pos)
	return d.lines[line{p.Filename, p.Line}]
}

// Report reports diag through pass unless a directive suppresses it.
func (d *Directives) Report(pass *analysis.Pass, diag analysis.Diagnostic) {
	if d.Suppressed(pass.Fset, diag.Pos) {
		return
	}
	pass.Report(diag)
}

// parse splits "//vitals:ignore a,b reason words" into its names and reason.
func parse(text string) (names []string, reason string, ok bool) {
	rest, ok := strings.CutPrefix(text, Prefix)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return nil, "", false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return nil, "", true
	}
	names = strings.Split(fields[0], ",")
	reason = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), fields[0]))
	return names, reason, true
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// alone reports whether comment c is the first token on its line, so that it
// applies to the next line too. It reads the file, which happens only for
// files that hold a directive.
func alone(pass *analysis.Pass, c *ast.Comment) bool {
	tf := pass.Fset.File(c.Pos())
	if tf == nil {
		return false
	}
	src, err := pass.ReadFile(tf.Name())
	if err != nil {
		return false
	}
	start := tf.Offset(tf.LineStart(tf.Line(c.Pos())))
	end := tf.Offset(c.Pos())
	if start > end || end > len(src) {
		return false
	}
	return strings.TrimSpace(string(src[start:end])) == ""
}

// InTestFile reports whether pos lies in a _test.go file. The analyzers
// report production pitfalls; tests set GOMAXPROCS, collect, turn the GC off
// and watch finalizers on purpose.
func InTestFile(pass *analysis.Pass, pos token.Pos) bool {
	f := pass.Fset.File(pos)
	return f != nil && strings.HasSuffix(f.Name(), "_test.go")
}
