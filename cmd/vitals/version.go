package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

func init() {
	register("version", "print the vitals module version, its VCS revision and the Go version it was built with", runVersion)
}

// runVersion prints "vitals VERSION (REVISION[, modified], TIME) GOVERSION
// OS/ARCH" from the binary's build information.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr, "usage: vitals version\n\nPrints the module version and VCS revision the binary was built from and the Go version that built it.\n")
	if pos, code, done := parseFlags(fs, args); done {
		return code
	} else if len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(bi, ok))
	return exitOK
}

// versionLine formats build information. "go install …@v1.2.3" stamps the
// module version; a build inside a clone stamps the VCS revision (and, since
// Go 1.24, a pseudo-version); "go run" or a test binary may have neither.
func versionLine(bi *debug.BuildInfo, ok bool) string {
	version, rev, modified, when := "(unknown)", "", false, ""
	goVersion := runtime.Version()
	if ok && bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				when = s.Value
			}
		}
	}
	var extra []string
	if rev != "" {
		r := rev
		if len(r) > 12 {
			r = r[:12]
		}
		if modified {
			r += "+modified"
		}
		extra = append(extra, "revision "+r)
	}
	if when != "" {
		extra = append(extra, when)
	}
	line := "vitals " + version
	if len(extra) > 0 {
		line += " (" + strings.Join(extra, ", ") + ")"
	}
	return line + " " + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}
