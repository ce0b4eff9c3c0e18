package gctrace

import "io"

// Option configures a [Reader], a [Summarizer], [Summarize] or [Run]. Each
// option says which of them it concerns; the others ignore it.
type Option interface{ apply(*config) }

type config struct {
	onRecord    func(Record)
	passthrough io.Writer
	memoryLimit int64
	maxPoints   int
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithPassthrough makes the [Reader] write every line that is not a runtime
// trace line to w, byte for byte, as soon as it is read: the program's own
// standard error with the trace lines taken out. Malformed gc lines are
// passed through too, so nothing the program wrote is lost. [Run] sets it to
// the command's Stderr.
func WithPassthrough(w io.Writer) Option {
	return optionFunc(func(c *config) { c.passthrough = w })
}

// WithMemoryLimit tells the [Summarizer] the program's memory limit
// (GOMEMLIMIT) in bytes, which the gc lines do not carry, so the summary can
// compare the heap goal with it. Zero or negative means unknown. [Run]
// reads GOMEMLIMIT from the command's environment when this is not given.
func WithMemoryLimit(bytes int64) Option {
	return optionFunc(func(c *config) { c.memoryLimit = bytes })
}

// WithMaxPoints sets how many points the [Summarizer] keeps for the heap and
// pause series ([Summary.Points]). When more cycles arrive, neighbouring
// points are merged (keeping maxima), so memory stays bounded. The default
// is 1024; values below 16 are raised to 16.
func WithMaxPoints(n int) Option {
	return optionFunc(func(c *config) { c.maxPoints = n })
}

// WithRecordFunc makes [Summarize] and [Run] call f with every record, in
// input order, before adding it to the summary — to print or store the
// cycles themselves. f runs on the reading goroutine, so a slow f slows the
// reading (and, under Run, the traced program once its pipe fills).
func WithRecordFunc(f func(Record)) Option {
	return optionFunc(func(c *config) { c.onRecord = f })
}
