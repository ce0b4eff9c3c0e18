// Package never starts traces and stops none anywhere.
package never

import (
	"io"
	"runtime/trace"
	rt "runtime/trace"
)

func never(w io.Writer) {
	trace.Start(w) // want `trace.Start is never stopped: the trace grows .* or keep a trace.FlightRecorder for always-on tracing$`
}

func aliasedNever(w io.Writer) error {
	return rt.Start(w) // want `trace.Start is never stopped`
}
