// Command vitals inspects Go services and this machine: doctor, demo, stacks,
// gctrace, incident and version. Run "vitals help" for the list and the exit
// codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes shared by every subcommand. Doctor's 1 and 2 are verdicts (warn,
// fail), so a usage error has a code of its own: sysexits.h's EX_USAGE.
const (
	exitOK    = 0
	exitWarn  = 1 // doctor: warnings; demo: the leak was not caught; others: the input could not be read
	exitFail  = 2 // doctor: failures or unreachable targets
	exitUsage = 64
)

const exitCodes = `exit codes:
  0   success (doctor: every rule passed)
  1   doctor: warnings; demo: the leak was not caught; stacks, gctrace:
      the input could not be read or written
  2   doctor: failures, or a target that could not be audited
  64  usage error: unknown command, bad flag or argument
  gctrace -- CMD exits with CMD's own code (128+signal, 127 if it did not start)
`

// command is one subcommand. run gets the arguments after the subcommand name
// and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by each subcommand's file in its init function, so the
// subcommands live in separate files that do not touch each other.
var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	commands[name] = command{summary: summary, run: run}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		// "vitals help CMD" is "vitals CMD -h".
		switch len(args) {
		case 1:
			usage(stdout)
			return exitOK
		case 2:
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "vitals help: unknown command %q\n\n", args[1])
		default:
			fmt.Fprintln(stderr, "vitals help: one command at a time")
		}
		usage(stderr)
		return exitUsage
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vitals: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vitals <command> [arguments]")
	fmt.Fprintln(w, "       vitals help <command>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, exitCodes)
}

// parseFlags parses args with fs, collecting the positional arguments so that
// flags may also follow them. It returns the positional arguments, or done
// with the exit code when parsing ended the command: exitOK for -h (the
// usage was printed), exitUsage for a bad flag.
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, code int, done bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		if fs.NArg() == 0 {
			return pos, 0, false
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// useColor resolves a --color flag (auto, always or never) for output to
// w; an unknown value is an error that names the flag.
func useColor(flagValue string, w io.Writer) (bool, error) {
	switch flagValue {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return colorTerminal(w), nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", flagValue)
}

// colorTerminal reports whether w is a terminal that accepts colours: a
// character device, with neither NO_COLOR set nor TERM=dumb. Every
// subcommand's "--color auto" uses it.
func colorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(f)
}

// isTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && isatty(f)
}

// openStdin returns standard input for command cmd. When it is a terminal it
// first says so on stderr, so that a command started without a file does not
// sit waiting in silence.
func openStdin(cmd, what string, stderr io.Writer) io.Reader {
	if isTerminal(os.Stdin) {
		fmt.Fprintf(stderr, "vitals %s: reading %s from standard input (a terminal); end with Ctrl-D, or pass a file (vitals help %s)\n", cmd, what, cmd)
	}
	return &stickyEOF{r: os.Stdin}
}

// stickyEOF returns io.EOF for good once its reader did: a terminal answers
// Ctrl-D with one end of file and then blocks again, and a parser that
// peeks once more would wait for a second Ctrl-D.
type stickyEOF struct {
	r   io.Reader
	eof bool
}

func (s *stickyEOF) Read(p []byte) (int, error) {
	if s.eof {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// newFlagSet returns a flag set for subcommand name that reports errors on
// stderr and whose usage is header followed by the flags.
func newFlagSet(name string, stderr io.Writer, header string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, header)
		if hasFlags(fs) {
			fmt.Fprintln(stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}
