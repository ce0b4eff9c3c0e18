package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"

	"github.com/govitals/vitals/gctrace"
	"github.com/govitals/vitals/gctrace/plot"
)

func init() {
	register("gctrace", "summarize GODEBUG=gctrace=1 output, or run a command under it", runGCTrace)
}

const gctraceUsage = `usage: vitals gctrace [flags] [FILE|-]
       vitals gctrace [flags] -- CMD [ARG...]

The first form reads gctrace output (a program's standard error run with
GODEBUG=gctrace=1) from FILE or standard input and prints a summary with
hints. Lines that are not the runtime's are counted and skipped.

The second form runs CMD with gctrace=1 added to its GODEBUG, passes its
standard output and its own standard error through untouched (without the
gctrace lines), prints the summary on standard error when it exits, and
exits with its exit code. GOMEMLIMIT in the environment is picked up.

flags:
`

func runGCTrace(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gctrace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, gctraceUsage)
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	svg := fs.String("svg", "", "draw heap and pauses over time to this SVG `file`")
	png := fs.String("png", "", "draw heap and pauses over time to this PNG `file`")
	memlimit := fs.String("memlimit", "", "the program's memory limit in GOMEMLIMIT syntax (e.g. 512MiB), to draw and compare with the heap goal")
	out := fs.String("o", "", "write the summary to this `file` instead of stdout (stderr with --)")
	records := fs.Bool("records", false, "print every parsed line as one JSON object per line instead of the summary")

	var command []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, command = args[:i], args[i+1:]
		if len(command) == 0 {
			fmt.Fprintln(stderr, "vitals gctrace: no command after --")
			return exitUsage
		}
	}
	// Flags may come before or after the file name.
	files, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	var opts []gctrace.Option
	if *memlimit != "" {
		n, err := gctrace.ParseMemoryLimit(*memlimit)
		if err != nil {
			fmt.Fprintf(stderr, "vitals gctrace: --memlimit: %v\n", err)
			return exitUsage
		}
		opts = append(opts, gctrace.WithMemoryLimit(n))
	}

	dst := stdout
	if command != nil {
		if len(files) > 0 {
			fmt.Fprintf(stderr, "vitals gctrace: unexpected %q before --\n", files[0])
			return exitUsage
		}
		dst = stderr
	} else if len(files) > 1 {
		fmt.Fprintln(stderr, "vitals gctrace: want at most one file")
		return exitUsage
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "vitals gctrace: %v\n", err)
			return 1
		}
		defer f.Close()
		dst = f
	}
	var recErr error
	if *records {
		enc := json.NewEncoder(dst)
		opts = append(opts, gctrace.WithRecordFunc(func(r gctrace.Record) {
			if err := enc.Encode(r); err != nil && recErr == nil {
				recErr = err
			}
		}))
	}

	var s *gctrace.Summary
	if command != nil {
		s, code = runUnderTrace(command, stdout, stderr, opts)
		if s == nil {
			return code
		}
	} else {
		var in io.Reader
		name := "standard input"
		if len(files) == 0 || files[0] == "-" {
			in = openStdin("gctrace", "gctrace output (GODEBUG=gctrace=1 standard error)", stderr)
		} else {
			name = files[0]
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "vitals gctrace: %v\n", err)
				return 1
			}
			defer f.Close()
			in = f
		}
		var err error
		s, err = gctrace.Summarize(in, opts...)
		if err != nil {
			fmt.Fprintf(stderr, "vitals gctrace: %s: %v\n", name, err)
			code = 1
		}
	}

	if *records {
		if recErr != nil {
			fmt.Fprintf(stderr, "vitals gctrace: write records: %v\n", recErr)
			code = max(code, 1)
		}
	} else if err := writeSummary(dst, s, *asJSON); err != nil {
		fmt.Fprintf(stderr, "vitals gctrace: write summary: %v\n", err)
		code = max(code, 1)
	}
	for _, img := range []struct {
		path   string
		format plot.Format
	}{{*svg, plot.SVG}, {*png, plot.PNG}} {
		if img.path == "" {
			continue
		}
		if err := writePlot(img.path, s, img.format); err != nil {
			fmt.Fprintf(stderr, "vitals gctrace: %v\n", err)
			code = max(code, 1)
		}
	}
	return code
}

func writeSummary(w io.Writer, s *gctrace.Summary, asJSON bool) error {
	if !asJSON {
		return s.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func writePlot(path string, s *gctrace.Summary, f plot.Format) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := plot.Write(file, s, f); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// runUnderTrace runs command under gctrace and returns its summary and exit
// code: the command's own, 128+signal if a signal killed it, 127 if it could
// not start (then the summary is nil). SIGINT, SIGTERM and SIGHUP sent to
// vitals while the command runs are passed on to it, so vitals lives to
// print the summary.
func runUnderTrace(command []string, stdout, stderr io.Writer, opts []gctrace.Option) (*gctrace.Summary, int) {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case sig := <-sigs:
				if cmd.Process != nil {
					_ = cmd.Process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	s, err := gctrace.Run(cmd, opts...)
	signal.Stop(sigs)
	close(done)
	<-forwarded

	if s == nil {
		fmt.Fprintf(stderr, "vitals gctrace: %v\n", err)
		return nil, 127
	}
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		fmt.Fprintf(stderr, "vitals gctrace: %v\n", err)
		code = 1
	}
	return s, code
}
