package never

import (
	"io"
	"runtime/trace"
	"testing"
)

func TestTrace(t *testing.T) {
	trace.Start(io.Discard) // tests: not reported
}
