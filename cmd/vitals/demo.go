package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/govitals/vitals/internal/demo"
)

func init() {
	register("demo", "run a small service with vitals, leak goroutines on purpose, and watch vitals catch it", runDemo)
}

// runDemo runs internal/demo until Ctrl-C or --duration. Exit code 0 when the
// leak was caught, 1 when it was not, 2 when it could not run, 64 for usage
// errors.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg demo.Config
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (default: run until Ctrl-C)")
	fs.DurationVar(&cfg.LeakAfter, "leak-after", 5e9, "start leaking goroutines after this long")
	fs.IntVar(&cfg.LeakRate, "leak-rate", 20, "goroutines leaked per second")
	fs.BoolVar(&cfg.Once, "once", false, "stop as soon as the leak is reported and the doctor report printed")
	fs.StringVar(&cfg.AdminAddr, "admin", "127.0.0.1:0", "admin server address (loopback; port 0 picks a free one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals demo [--duration d] [--once] [--leak-after d] [--leak-rate n] [--admin addr]")
		fs.PrintDefaults()
	}
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg.Color = colorTerminal(stdout)
	cfg.Vitals = selfCommand()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := demo.Run(ctx, stdout, cfg)
	switch {
	case errors.Is(err, demo.ErrNotCaught):
		fmt.Fprintln(stderr, "vitals demo:", err)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "vitals demo:", err)
		return exitFail
	}
	return 0
}

// selfCommand is how the user can run this binary again: "vitals" when that
// name on $PATH is this binary, "go run github.com/govitals/vitals/cmd/vitals"
// when this is a go run build (a binary in a temporary go-build directory),
// else this binary's path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "vitals"
	}
	exe, _ = filepath.EvalSymlinks(exe)
	if onPath, err := exec.LookPath("vitals"); err == nil {
		if p, err := filepath.EvalSymlinks(onPath); err == nil && p == exe {
			return "vitals"
		}
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run github.com/govitals/vitals/cmd/vitals"
	}
	return exe
}
