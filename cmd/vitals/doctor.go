package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/doctor"
)

func init() {
	register("doctor", "audit this machine, running services (URL…) or public ports (--public URL) against the production checklist", runDoctor)
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runDoctor audits this machine (no target), services' admin endpoints
// (URL arguments, -f) and public ports (--public) with package doctor.
// Exit code: 0 all pass, 1 warnings, 2 failures or unreachable targets (and
// usage errors).
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the audits as JSON (see doctor.Output)")
	root := fs.String("root", "", "this machine only: read /proc and /sys below this directory (a captured tree) instead of /")
	token := fs.String("token", "", "bearer token for the admin endpoints (default $"+admin.TokenEnv+")")
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
		fmt.Fprintln(stderr, "exit code: 0 all pass, 1 warnings, 2 failures")
		fs.PrintDefaults()
	}
	var urls []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		args = fs.Args()[1:]
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
			return 2
		}
		ts, err := doctor.ParseTargets(f)
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return 2
		}
		if len(ts) == 0 {
			fmt.Fprintf(stderr, "vitals doctor: %s lists no targets\n", *file)
			return 2
		}
		targets = append(targets, ts...)
	}
	if *root != "" && len(targets) > 0 {
		fmt.Fprintln(stderr, "vitals doctor: --root applies to this machine only, not to URLs")
		fs.Usage()
		return 2
	}
	useColor := false
	switch *color {
	case "always":
		useColor = true
	case "never":
	case "auto":
		useColor = colorTerminal(stdout)
	default:
		fmt.Fprintf(stderr, "vitals doctor: --color %q: want auto, always or never\n", *color)
		return 2
	}
	opts := []doctor.Option{doctor.WithTimeout(*timeout), doctor.WithConcurrency(*parallel), doctor.WithRoot(*root)}
	tok := *token
	if tok == "" {
		tok = os.Getenv(admin.TokenEnv)
	}
	if tok != "" {
		opts = append(opts, doctor.WithToken(tok))
	}
	if *user != "" {
		u, p, ok := strings.Cut(*user, ":")
		if !ok {
			fmt.Fprintln(stderr, "vitals doctor: --user wants user:password")
			return 2
		}
		opts = append(opts, doctor.WithBasicAuth(u, p))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *prom.url != "" {
		return prom.run(ctx, len(targets), opts, *asJSON, useColor, stdout, stderr)
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
			return 2
		}
		return doctor.ExitCode(audits)
	}
	if len(targets) == 0 && audits[0].Report != nil {
		if err := audits[0].Report.WriteText(stdout); err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return 2
		}
		fmt.Fprintln(stdout)
	}
	if err := doctor.WriteText(stdout, audits, useColor); err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return 2
	}
	return doctor.ExitCode(audits)
}
