// Package auto applies [startup.Setup] (vitals.Setup) with its defaults when it is
// imported, for services that want the start-up checklist in one line:
//
//	import _ "github.com/govitals/vitals/auto"
//
// It logs one line through log/slog to standard error saying what changed
// (set VITALS_LOG=off to silence it). The defaults honour the operator's
// GOMAXPROCS, GOMEMLIMIT, GOTRACEBACK and VITALS_MEMLIMIT_RATIO. Setup
// never stops the program: what it cannot do becomes a warning in the line.
//
// Cost at start-up: one cgroup read (tens of microseconds) and, only when
// the runtime's GOMAXPROCS is wrong for the effective CPU limit, one
// goroutine that re-reads the limit once a second for the life of the
// process. Services that need options, a logger of their own or an undo
// call vitals.Setup themselves instead. It links only the startup and cgroup
// packages: no HTTP server, no metrics library, no expvar.
package auto

import (
	"io"
	"log/slog"
	"os"

	"github.com/govitals/vitals/startup"
)

var report *startup.Report

func init() {
	report = setup(os.Stderr, os.Getenv("VITALS_LOG"))
}

// setup runs vitals.Setup with defaults and logs its one line to w unless
// logSetting is "off".
func setup(w io.Writer, logSetting string) *startup.Report {
	r, err := startup.Setup()
	if logSetting == "off" {
		return r
	}
	l := slog.New(slog.NewTextHandler(w, nil))
	if err != nil { // cannot happen without options; never stop the program
		l.Warn("vitals: setup failed", "err", err)
		return r
	}
	attrs := []any{"gomaxprocs", r.GOMAXPROCS, "gomemlimit", gomemlimit(r.GOMEMLIMIT)}
	var changed []string
	for _, d := range r.Decisions {
		if d.Changed {
			changed = append(changed, d.Setting+"="+d.New+" ("+d.Source+")")
		}
	}
	attrs = append(attrs, "changed", changed)
	if len(r.Warnings) > 0 {
		attrs = append(attrs, "warnings", r.Warnings)
		l.Warn("vitals: start-up settings applied with warnings", attrs...)
		return r
	}
	l.Info("vitals: start-up settings applied", attrs...)
	return r
}

func gomemlimit(n int64) any {
	if n == 1<<63-1 {
		return "off"
	}
	return n
}

// Report returns what the import did: the [startup.Report] of the Setup
// call made when the package was initialised. Do not call Undo on it
// unless you mean to drop every setting it made.
func Report() *startup.Report { return report }
