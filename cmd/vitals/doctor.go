package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/govitals/vitals/doctor"
	"github.com/govitals/vitals/internal/adminclient"
)

func init() {
	register("doctor", "audit this machine, running services (URL…) or public ports (--public URL) against the production checklist", runDoctor)
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runDoctor audits this machine (no target), services' admin endpoints
// (URL arguments, -f) and public ports (--public) with package doctor.
// Exit code: 0 all pass, 1 warnings, 2 failures or unreachable targets,
// 64 usage errors.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the audits as JSON (see doctor.Output)")
	root := fs.String("root", "", "this machine only: read /proc and /sys below this directory (a captured tree) instead of /")
	token := fs.String("token", "", "bearer token for the admin endpoints (default $"+adminclient.TokenEnv+")")
	user := fs.String("user", "", "basic auth for the admin endpoints, as user:password")
	timeout := fs.Duration("timeout", doctor.DefaultTimeout, "time allowed for each target")
	parallel := fs.Int("parallel", doctor.DefaultConcurrency, "targets audited at once")
	file := fs.String("f", "", "read targets from this file: an admin URL or \"public URL\" a line, # comments")
	color := fs.String("color", "auto", "color the table: auto (on a terminal), always or never")
	var public listFlag
	fs.Var(&public, "public", "probe this public URL for debug endpoints (repeatable); works on any Go service")
	prom := prometheusFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals doctor [--json] [--root dir]          audit this machine")
		fmt.Fprintln(stderr, "       vitals doctor [flags] URL... [-f targets.txt] audit services through their vitals admin endpoint")
		fmt.Fprintln(stderr, "       vitals doctor --public URL [flags]            probe a public port from outside")
		fmt.Fprintln(stderr, "       vitals doctor --prometheus URL [--job j] [--label k=v] [flags]  audit every target Prometheus scrapes")
		fmt.Fprintln(stderr, "exit code: 0 all pass, 1 warnings, 2 failures or unreachable targets, 64 usage error")
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	urls, code, done := parseFlags(fs, args)
	if done {
		return code
	}

	var targets []doctor.Target
	for _, u := range urls {
		targets = append(targets, doctor.Target{URL: u, Kind: doctor.KindVitals})
	}
	for _, u := range public {
		targets = append(targets, doctor.Target{URL: u, Kind: doctor.KindPublic})
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return exitUsage
		}
		ts, err := doctor.ParseTargets(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return exitUsage
		}
		if len(ts) == 0 {
			fmt.Fprintf(stderr, "vitals doctor: %s lists no targets\n", *file)
			return exitUsage
		}
		targets = append(targets, ts...)
	}
	if *root != "" && len(targets) > 0 {
		fmt.Fprintln(stderr, "vitals doctor: --root applies to this machine only, not to URLs")
		fs.Usage()
		return exitUsage
	}
	if *root != "" {
		// A root that is not there would read as "no cgroup" and pass.
		st, err := os.Stat(*root)
		if err == nil && !st.IsDir() {
			err = fmt.Errorf("%s: not a directory", *root)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vitals doctor: --root: %v\n", err)
			return exitUsage
		}
	}
	colored, err := useColor(*color, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return exitUsage
	}
	opts := []doctor.Option{doctor.WithTimeout(*timeout), doctor.WithConcurrency(*parallel), doctor.WithRoot(*root)}
	creds, err := adminclient.FromFlags(*token, *user, nil)
	if err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return exitUsage
	}
	if creds.Token != "" {
		opts = append(opts, doctor.WithToken(creds.Token))
	}
	if creds.Basic {
		opts = append(opts, doctor.WithBasicAuth(creds.User, creds.Password))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *prom.url != "" {
		return prom.run(ctx, len(targets), opts, *asJSON, colored, stdout, stderr)
	}
	var audits []doctor.Audit
	if len(targets) == 0 {
		audits = []doctor.Audit{doctor.Local(opts...)}
	} else {
		audits = doctor.Run(ctx, targets, opts...)
	}
	if *asJSON {
		if err := doctor.WriteJSON(stdout, audits); err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return exitFail
		}
		return doctor.ExitCode(audits)
	}
	if len(targets) == 0 && audits[0].Report != nil {
		// The report quotes paths and warnings read below --root, which
		// may be a tree someone else made: no raw control characters.
		var b strings.Builder
		if err := audits[0].Report.WriteText(&b); err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return exitFail
		}
		for line := range strings.Lines(b.String()) {
			fmt.Fprintln(stdout, adminclient.CleanN(strings.TrimSuffix(line, "\n"), 0))
		}
		fmt.Fprintln(stdout)
	}
	if err := doctor.WriteText(stdout, audits, colored); err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return exitFail
	}
	return doctor.ExitCode(audits)
}
