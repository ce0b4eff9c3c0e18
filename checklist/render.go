package checklist

import (
	"fmt"
	"io"
	"strings"
)

const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiDim    = "\x1b[2m"
)

// WriteText writes results as an aligned table for people: one line per rule
// with its status, title and evidence, and the fix indented below any rule
// that did not pass. With color, statuses are coloured with ANSI escapes
// (callers pass true only when writing to a terminal).
func WriteText(w io.Writer, results []Result, color bool) error {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Title))
	}
	var b strings.Builder
	for _, r := range results {
		st := strings.ToUpper(r.Status.String())
		if color {
			st = statusColor(r.Status) + st + ansiReset
		}
		fmt.Fprintf(&b, "%s  %-*s  %s\n", st, width, r.Title, r.Evidence)
		if r.Fix != "" {
			fix := "fix: " + r.Fix
			if color {
				fix = ansiDim + fix + ansiReset
			}
			fmt.Fprintf(&b, "      %s\n", fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statusColor(s Status) string {
	switch s {
	case Pass:
		return ansiGreen
	case Warn:
		return ansiYellow
	case Fail:
		return ansiRed
	}
	return ansiDim
}
