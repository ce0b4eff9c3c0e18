package gctrace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Run runs cmd with gctrace=1 added to its GODEBUG (see [EnableTrace]),
// reads the command's standard error as it runs, writes every line that is
// not a trace line to the Stderr cmd had (nothing if nil) untouched, and
// returns the summary once the command has exited and its standard error is
// closed. Options are those of [Summarize]; [WithPassthrough] is set by Run.
// Without [WithMemoryLimit], the command's GOMEMLIMIT, if any, is used.
//
// The returned error is the one from starting or waiting for cmd (an
// *exec.ExitError for a non-zero exit), or a passthrough write error; the
// summary is valid either way once the command has started. If the command
// leaves children that keep its standard error open, Run waits for them too.
// Run costs one pipe and the command's lifetime; the parsing is cheaper than
// the runtime's printing.
func Run(cmd *exec.Cmd, opts ...Option) (*Summary, error) {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = EnableTrace(env)
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	if c.memoryLimit == 0 {
		if v, ok := lookupEnv(cmd.Env, "GOMEMLIMIT"); ok {
			if n, err := ParseMemoryLimit(v); err == nil {
				opts = append(opts, WithMemoryLimit(n))
			}
		}
	}
	dst := cmd.Stderr
	if dst == nil {
		dst = io.Discard
	}
	cmd.Stderr = nil
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("gctrace: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gctrace: start %s: %w", cmd.Path, err)
	}
	opts = append(opts, WithPassthrough(dst))
	rd := NewReader(pipe, opts...)
	z := NewSummarizer(opts...)
	f := z.cfg.onRecord
	var readErr error
	for {
		rec, err := rd.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
				// Keep the child from blocking on a full pipe.
				_, _ = io.Copy(io.Discard, pipe)
			}
			break
		}
		if f != nil {
			f(rec)
		}
		z.Add(rec)
	}
	waitErr := cmd.Wait()
	s := z.Summary()
	s.Input = rd.Stats()
	return s, errors.Join(waitErr, readErr, rd.PassthroughErr())
}

// EnableTrace returns a copy of env (a list of "KEY=value") whose GODEBUG
// turns gctrace on. An existing GODEBUG keeps its settings and gets
// ",gctrace=1" appended, unless its last gctrace setting is already 1 or more
// (gctrace=2 adds scan statistics, which are kept). Later settings win in
// GODEBUG, so appending overrides an earlier gctrace=0.
func EnableTrace(env []string) []string {
	out := make([]string, 0, len(env)+1)
	godebug, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug, found = v, true
			continue
		}
		out = append(out, kv)
	}
	level := 0
	for _, f := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(f), "gctrace="); ok {
			level, _ = strconv.Atoi(v)
		}
	}
	switch {
	case level >= 1:
	case !found || godebug == "":
		godebug = "gctrace=1"
	default:
		godebug += ",gctrace=1"
	}
	return append(out, "GODEBUG="+godebug)
}

func lookupEnv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			val, found = v, true // the last one wins, as in os/exec
		}
	}
	return val, found
}

// ParseMemoryLimit parses a memory limit in GOMEMLIMIT's syntax: a
// non-negative integer with an optional unit B, KiB, MiB, GiB or TiB, or
// "off" (returned as 0, no limit). It returns the limit in bytes.
func ParseMemoryLimit(s string) (int64, error) {
	if s == "off" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("gctrace: memory limit %q: want an integer with an optional unit B, KiB, MiB, GiB or TiB", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("gctrace: memory limit %q: out of range", s)
	}
	return n << shift, nil
}
