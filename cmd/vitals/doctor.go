package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/govitals/vitals"
)

func init() {
	register("doctor", "print this machine's start-up report (what vitals.Setup would do)", runDoctor)
}

// runDoctor prints the report of vitals.Plan: it computes the decisions
// without changing this process's settings.
func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (stable field names, see vitals.Report)")
	root := fs.String("root", "", "read /proc and /sys below this directory (a captured tree) instead of /")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals doctor [--json] [--root dir]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	var opts []vitals.Option
	if *root != "" {
		opts = append(opts, vitals.WithCgroupRoot(*root))
	}
	r, err := vitals.Plan(opts...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return 1
		}
		return 0
	}
	if err := r.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return 1
	}
	return 0
}
