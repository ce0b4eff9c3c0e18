// Package goversion gates analyzer advice on the Go version of the file being
// checked, so that no diagnostic suggests an API the file cannot use or warns
// about a runtime behaviour its toolchain does not have.
//
// The version of a file is the one the type checker used: the go directive
// of its module, overridden by a //go:build go1.N constraint in the file. An
// unknown version counts as the newest, as the go command does for code with
// no go.mod.
package goversion

import (
	"go/ast"
	"go/token"
	"go/version"

	"golang.org/x/tools/go/analysis"
)

// Of returns the Go version ("go1.24") of the file of pass that contains pos,
// or "" when it is unknown. It costs a scan of the package's file list.
func Of(pass *analysis.Pass, pos token.Pos) string {
	for _, f := range pass.Files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return File(pass, f)
		}
	}
	return pass.Pkg.GoVersion()
}

// File returns the Go version of file f, or "" when it is unknown.
func File(pass *analysis.Pass, f *ast.File) string {
	if pass.TypesInfo != nil && pass.TypesInfo.FileVersions != nil {
		if v := pass.TypesInfo.FileVersions[f]; v != "" {
			return v
		}
	}
	return pass.Pkg.GoVersion()
}

// AtLeast reports whether the file of pass that contains pos is written for
// Go version min ("go1.25") or later. An unknown version is at least min.
func AtLeast(pass *analysis.Pass, pos token.Pos, min string) bool {
	v := Of(pass, pos)
	return v == "" || version.Compare(v, min) >= 0
}
