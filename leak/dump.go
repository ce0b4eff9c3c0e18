package leak

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/govitals/vitals/stacks"
)

// profileDump reads the goroutine profile at debug=1 and parses it: one
// record per distinct stack and label set, with its goroutine count. The
// runtime collects the profile concurrently: the world stops only twice,
// briefly, however many goroutines there are (runtime.Stack(buf, true)
// stops it for the whole traceback: 140-170 ms at 100,000 goroutines).
// Its records have no goroutine IDs, states, wait times or created-by
// frames, and the runtime's own frames at the top of each stack are left
// out (gopark, chanrecv, …).
func profileDump() (*stacks.Dump, error) {
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		return nil, fmt.Errorf("leak: goroutine profile: %w", err)
	}
	d, err := stacks.Parse(&b)
	if err != nil {
		return nil, fmt.Errorf("leak: parse goroutine profile: %w", err)
	}
	return d, nil
}

// fullDump is runtime.Stack(all), parsed: every goroutine with its ID,
// state, wait time and created-by frame, at the price of stopping the
// world for the whole dump (about 50 ms per 10,000 goroutines).
func fullDump() (*stacks.Dump, error) {
	return stacks.Parse(bytes.NewReader(dumpAll(nil)))
}

// profileKey is the key under which the debug=1 goroutine profile would
// print frames: without the runtime's frames at the top of the stack and
// without runtime.goexit at its bottom (as runtime/pprof's
// printStackRecord leaves them out), function and line only.
func profileKey(frames []stacks.Frame) string {
	i := 0
	for i < len(frames) && runtimeFrame(frames[i].Func) {
		i++
	}
	if i == len(frames) {
		i = 0 // all runtime: the profile prints them all
	}
	var b strings.Builder
	for _, f := range frames[i:] {
		if f.Func == "runtime.goexit" {
			continue
		}
		b.WriteString(f.Func)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
	}
	return b.String()
}

func runtimeFrame(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}

// detail is what a full dump adds to a profile group: the created-by
// frame of its goroutines and their first few IDs.
type detail struct {
	createdBy *stacks.Frame
	ids       []uint64
}

// detailsByStack indexes a full dump's goroutines by [profileKey].
func detailsByStack(d *stacks.Dump) map[string]*detail {
	m := make(map[string]*detail)
	for _, g := range d.Goroutines {
		k := profileKey(g.Frames)
		dt := m[k]
		if dt == nil {
			dt = &detail{createdBy: g.CreatedBy}
			m[k] = dt
		}
		if len(dt.ids) < 8 && g.ID != 0 {
			dt.ids = append(dt.ids, g.ID)
		}
	}
	return m
}

// dumpAll returns runtime.Stack(all) output, reusing buf when it is big
// enough. It stops the world for the duration of the traceback.
func dumpAll(buf []byte) []byte {
	if cap(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	buf = buf[:cap(buf)]
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// leakProfileDump returns a full dump taken right after Go's goroutine leak
// detector ran (a GC cycle), so goroutines it proved leaked carry the
// " (leaked)" mark. ok is false where the profile does not exist.
func leakProfileDump() (b []byte, ok bool) {
	p := pprof.Lookup("goroutineleak")
	if p == nil {
		return nil, false
	}
	var w bytes.Buffer
	if err := p.WriteTo(&w, 2); err != nil {
		return nil, false
	}
	return w.Bytes(), true
}

// RuntimeDetector reports whether Go's own goroutine leak detector (the
// goroutineleak profile: Go 1.26 built with GOEXPERIMENT=goroutineleakprofile,
// standard from Go 1.27) is available in this binary.
func RuntimeDetector() bool { return pprof.Lookup("goroutineleak") != nil }

// curID returns the calling goroutine's ID (0 if the header is unreadable).
func curID() uint64 {
	var b [64]byte
	//vitals:ignore stackbuf only the "goroutine N [" header is read, which always fits in 64 bytes
	n := runtime.Stack(b[:], false)
	id, _ := headerID(b[:n])
	return id
}

var goroutinePrefix = []byte("goroutine ")

// headerID parses "goroutine 123 [" at the start of line.
func headerID(line []byte) (uint64, bool) {
	if !bytes.HasPrefix(line, goroutinePrefix) {
		return 0, false
	}
	rest := line[len(goroutinePrefix):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != ' ' {
		return 0, false
	}
	id, err := strconv.ParseUint(string(rest[:i]), 10, 64)
	return id, err == nil
}

// chunk is one goroutine's block in a runtime.Stack(all) dump.
type chunk struct {
	id         uint64
	start, end int
}

// splitDump cuts a dump into per-goroutine blocks by their header lines,
// without parsing frames. Text that is not a goroutine block is skipped.
func splitDump(b []byte) []chunk {
	var out []chunk
	pos := 0
	for pos < len(b) {
		end := bytes.IndexByte(b[pos:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += pos
		}
		if id, ok := headerID(b[pos:end]); ok {
			if n := len(out); n > 0 && out[n-1].end < 0 {
				out[n-1].end = pos
			}
			out = append(out, chunk{id: id, start: pos, end: -1})
		}
		pos = end + 1
	}
	if n := len(out); n > 0 && out[n-1].end < 0 {
		out[n-1].end = len(b)
	}
	return out
}
