package leak

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
)

// testLabel is the pprof label [Check] puts on a test's goroutine. Every
// goroutine the test starts, directly or through others, inherits it, so a
// leak is blamed on the exact (sub)test even after its parents exited.
const testLabel = "vitals_leak_test"

func labelTest(name string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(testLabel, name)))
}

var (
	tlMu   sync.Mutex
	tlRefs int
	tlPrev string
	tlHad  bool
	tlSet  bool
)

// enableTracebackLabels makes stack dumps print goroutine labels
// (GODEBUG=tracebacklabels=1, read by the runtime when GODEBUG changes)
// until the returned undo has been called as many times as this was. The
// caller's goroutine must carry the test label already: when its header
// prints it (Go 1.27 in a module declaring go 1.27 prints labels by
// default), GODEBUG is left alone — rewriting it would make the runtime
// reset tracebacklabels to 0 when it is restored.
func enableTracebackLabels() (undo func()) {
	tlMu.Lock()
	defer tlMu.Unlock()
	tlRefs++
	if tlRefs == 1 {
		tlPrev, tlHad = os.LookupEnv("GODEBUG")
		tlSet = false
		if !strings.Contains(tlPrev, "tracebacklabels=") && !labelsPrinted() {
			v := "tracebacklabels=1"
			if tlPrev != "" {
				v = tlPrev + "," + v
			}
			tlSet = os.Setenv("GODEBUG", v) == nil
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			tlMu.Lock()
			defer tlMu.Unlock()
			tlRefs--
			if tlRefs == 0 && tlSet {
				if tlHad {
					os.Setenv("GODEBUG", tlPrev)
				} else {
					os.Unsetenv("GODEBUG")
				}
				tlSet = false
			}
		})
	}
}

// labelsPrinted reports whether the calling goroutine's header in a stack
// dump shows its test label.
func labelsPrinted() bool {
	var b [512]byte
	//vitals:ignore stackbuf only the header line is read; a truncated one reads as "not printed", which is safe
	n := runtime.Stack(b[:], false)
	line, _, _ := bytes.Cut(b[:n], []byte("\n"))
	return bytes.Contains(line, []byte(testLabel))
}
