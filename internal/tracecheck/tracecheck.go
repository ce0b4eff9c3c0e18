// Package tracecheck reads a Go execution trace end to end with
// golang.org/x/exp/trace, so tests can prove the traces vitals writes are
// readable by the tools people use.
package tracecheck

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/exp/trace"
)

// Result summarises a trace that parsed.
type Result struct {
	Events int
	// Logs holds the messages of user log events (trace.Log), by category.
	Logs map[string][]string
}

// Read parses every event of the trace in r. It costs a full decode: about
// as long as the trace took to write.
func Read(r io.Reader) (Result, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return Result{}, fmt.Errorf("tracecheck: %w", err)
	}
	res := Result{Logs: map[string][]string{}}
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("tracecheck: event %d: %w", res.Events, err)
		}
		res.Events++
		if ev.Kind() == trace.EventLog {
			l := ev.Log()
			res.Logs[l.Category] = append(res.Logs[l.Category], l.Message)
		}
	}
	if res.Events == 0 {
		return res, errors.New("tracecheck: trace holds no events")
	}
	return res, nil
}

// ReadFile is [Read] on a file.
func ReadFile(path string) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("tracecheck: %w", err)
	}
	defer f.Close()
	res, err := Read(f)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}
