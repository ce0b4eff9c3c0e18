package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/govitals/vitals/procscan"
)

func init() {
	register("ps", "list the Go processes on this machine and audit each from outside (no agent needed)", runPS)
}

// runPS scans /proc with package procscan. Exit code: 0 all pass, 1
// warnings, 2 failures, 64 usage errors.
func runPS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (see procscan.Report)")
	noProbe := fs.Bool("no-probe", false, "do not probe listening ports for debug endpoints")
	timeout := fs.Duration("timeout", procscan.DefaultProbeTimeout, "time allowed for probing each listening port")
	parallel := fs.Int("parallel", 16, "processes read and ports probed at once")
	pids := fs.String("pid", "", "only these processes (comma-separated PIDs)")
	color := fs.String("color", "auto", "color the table: auto (on a terminal), always or never")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals ps [--json] [--pid 1,2] [--no-probe] [flags]")
		fmt.Fprintln(stderr, "Lists every Go process this user may read, with its Go version, module, cgroup limits,")
		fmt.Fprintln(stderr, "runtime settings and listening ports, and audits each against the production checklist.")
		fmt.Fprintln(stderr, "Listening ports are probed on loopback only. Exit code: 0 all pass, 1 warnings, 2 failures, 64 usage error.")
		fs.PrintDefaults()
	}
	rest, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "vitals ps: unexpected argument %q\n", termSafeArg(rest[0]))
		fs.Usage()
		return exitUsage
	}
	opts := []procscan.Option{procscan.WithProbeTimeout(*timeout), procscan.WithConcurrency(*parallel)}
	if *noProbe {
		opts = append(opts, procscan.WithoutProbe())
	}
	if *pids != "" {
		for f := range strings.SplitSeq(*pids, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				fmt.Fprintf(stderr, "vitals ps: --pid %q: want comma-separated process IDs\n", *pids)
				return exitUsage
			}
			opts = append(opts, procscan.WithPIDs(n))
		}
	}
	colored, err := useColor(*color, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "vitals ps:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep := procscan.Scan(ctx, opts...)
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout, colored)
	}
	if err != nil {
		fmt.Fprintln(stderr, "vitals ps:", err)
		return 2
	}
	return rep.ExitCode
}
