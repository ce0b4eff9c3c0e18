package leak

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"strconv"
)

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
