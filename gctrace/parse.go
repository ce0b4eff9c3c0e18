package gctrace

import (
	"bytes"
	"encoding/json"
	"time"
)

// Kind says which runtime trace line a [Record] came from.
type Kind uint8

// The kinds of line the runtime prints under GODEBUG=gctrace (and the
// scavenger's scavtrace, which older releases printed under gctrace).
const (
	// KindGC is one garbage collection cycle: "gc 12 @3.201s 4%: …".
	KindGC Kind = iota + 1
	// KindForced is the "GC forced" line sysmon's helper prints before it
	// starts the periodic (two-minute) collection.
	KindForced
	// KindScav is a scavenger line: "scav 120 KiB work (bg), 0 KiB work
	// (eager), 900 KiB now, 85% util" (current releases), "scav 120 KiB
	// work, 900 KiB total, 85% util" (the releases before, from Go 1.17) or
	// "scav 3 120 KiB work, …" (Go 1.14–1.16, with a generation number).
	KindScav
	// KindScvg is a scavenger line of Go 1.13 and earlier: "scvg3: 5 MB
	// released" or "scvg3: inuse: 3, idle: 0, sys: 7, released: 0,
	// consumed: 7 (MB)".
	KindScvg
	// KindScan is a GODEBUG=gctrace=2 scan statistics line: "scan: total …"
	// or "scan: class 16B …".
	KindScan
)

// String returns the kind's name as used in JSON output: "gc", "forced",
// "scav", "scvg" or "scan".
func (k Kind) String() string {
	switch k {
	case KindGC:
		return "gc"
	case KindForced:
		return "forced"
	case KindScav:
		return "scav"
	case KindScvg:
		return "scvg"
	case KindScan:
		return "scan"
	}
	return "unknown"
}

// Cycle is one parsed "gc N @…" line. Heap sizes are in bytes but the runtime
// prints them in whole MiB (rounded down), so they are multiples of 1 MiB.
// Times are as printed: two significant digits below 10 ms, whole
// milliseconds above.
type Cycle struct {
	// Num is the GC number, counting from 1 at program start.
	Num uint64 `json:"num"`
	// At is the time from program start to the start of this cycle.
	At time.Duration `json:"at_ns"`
	// CPUPercent is the share of available CPU spent in GC since program
	// start, as the runtime computes it (gc_cpu_fraction, truncated).
	CPUPercent int `json:"cpu_percent"`
	// CheckingLeaks is set when the line says "(checking for goroutine
	// leaks)" (Go 1.26+ goroutine leak profile cycles).
	CheckingLeaks bool `json:"checking_leaks,omitempty"`

	// SweepTerm, Mark and MarkTerm are the wall-clock times of the
	// stop-the-world sweep termination, the concurrent mark and scan, and
	// the stop-the-world mark termination.
	SweepTerm time.Duration `json:"sweep_term_ns"`
	Mark      time.Duration `json:"mark_ns"`
	MarkTerm  time.Duration `json:"mark_term_ns"`

	// SweepTermCPU and MarkTermCPU are the CPU times of the two
	// stop-the-world phases (wall time × Ps). AssistCPU, BackgroundCPU and
	// IdleCPU split the mark phase's CPU into mutator assists, dedicated and
	// fractional background workers, and idle-time marking.
	SweepTermCPU  time.Duration `json:"sweep_term_cpu_ns"`
	AssistCPU     time.Duration `json:"assist_cpu_ns"`
	BackgroundCPU time.Duration `json:"background_cpu_ns"`
	IdleCPU       time.Duration `json:"idle_cpu_ns"`
	MarkTermCPU   time.Duration `json:"mark_term_cpu_ns"`

	// HeapStart, HeapEnd and HeapLive are the heap size when the cycle
	// started, when it ended, and the marked (live) heap.
	HeapStart uint64 `json:"heap_start_bytes"`
	HeapEnd   uint64 `json:"heap_end_bytes"`
	HeapLive  uint64 `json:"heap_live_bytes"`
	// HeapGoal is the heap goal the pacer worked towards.
	HeapGoal uint64 `json:"heap_goal_bytes"`
	// Stacks and Globals are the scannable stack and global sizes; they are
	// printed since Go 1.18 and HasScanSizes says whether they were.
	Stacks       uint64 `json:"stacks_bytes"`
	Globals      uint64 `json:"globals_bytes"`
	HasScanSizes bool   `json:"has_scan_sizes"`
	// Procs is the number of Ps (GOMAXPROCS) during the cycle.
	Procs int `json:"procs"`
	// Forced is set when the line ends with "(forced)": runtime.GC or
	// debug.FreeOSMemory asked for this cycle.
	Forced bool `json:"forced,omitempty"`
	// Periodic is set when a "GC forced" line came just before: sysmon
	// started this cycle because no GC had run for two minutes.
	Periodic bool `json:"periodic,omitempty"`
}

// Pause returns the cycle's stop-the-world wall time: sweep termination plus
// mark termination.
func (c *Cycle) Pause() time.Duration { return c.SweepTerm + c.MarkTerm }

// CPU returns the total CPU time the cycle spent in GC work, all phases.
func (c *Cycle) CPU() time.Duration {
	return c.SweepTermCPU + c.AssistCPU + c.BackgroundCPU + c.IdleCPU + c.MarkTermCPU
}

// Scav is one parsed scavenger line ([KindScav] or [KindScvg]). Fields the
// line's format does not carry are zero. Sizes are bytes, with the
// granularity of the printed unit (KiB, or MiB for [KindScvg]).
type Scav struct {
	// Gen is the scavenger generation printed by Go 1.16 and earlier
	// ("scav 3 …", "scvg3: …"); -1 for debug.FreeOSMemory in scvg lines,
	// 0 when not printed.
	Gen int `json:"gen,omitempty"`
	// Work is the memory returned to the OS since the previous line
	// (background plus eager where the line splits them).
	Work uint64 `json:"work_bytes"`
	// WorkBg and WorkEager split Work in current releases' lines.
	WorkBg    uint64 `json:"work_bg_bytes,omitempty"`
	WorkEager uint64 `json:"work_eager_bytes,omitempty"`
	// Released is the heap memory currently released to the OS.
	Released uint64 `json:"released_bytes"`
	// UtilPercent is heap in-use as a percentage of retained heap.
	UtilPercent int `json:"util_percent"`
	// Forced is set by "(forced)": debug.FreeOSMemory returned everything.
	Forced bool `json:"forced,omitempty"`
	// ControllerReset is set by "[controller reset]".
	ControllerReset bool `json:"controller_reset,omitempty"`
	// InUse, Idle, Sys and Consumed are the heap statistics of a legacy
	// "scvgN: inuse: …" line (HasHeapStats reports one).
	InUse        uint64 `json:"inuse_bytes,omitempty"`
	Idle         uint64 `json:"idle_bytes,omitempty"`
	Sys          uint64 `json:"sys_bytes,omitempty"`
	Consumed     uint64 `json:"consumed_bytes,omitempty"`
	HasHeapStats bool   `json:"has_heap_stats,omitempty"`
}

// Scan is one GODEBUG=gctrace=2 "scan:" line, printed after the cycle's gc
// line. Class is "total", "L" (large objects) or a size class such as "16B".
// Objs is the number of objects scanned; Spans the number of spans scanned
// whole (Green Tea GC only, else 0).
type Scan struct {
	Class string `json:"class"`
	Objs  uint64 `json:"objs"`
	Spans uint64 `json:"spans"`
}

// Record is one runtime trace line. Exactly one of Cycle, Scav or Scan is
// filled, chosen by Kind (none for [KindForced]). It encodes to JSON as
// {"kind":"gc","line":12,"gc":{…}} with only its kind's part ("gc",
// "scav" or "scan"), durations in nanoseconds and sizes in bytes.
type Record struct {
	Kind Kind
	// Line is the 1-based line number in the input.
	Line  int64
	Cycle Cycle
	Scav  Scav
	Scan  Scan
}

// MarshalText returns the kind's name, as [Kind.String].
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// MarshalJSON encodes the record with only its own kind's part.
func (r Record) MarshalJSON() ([]byte, error) {
	j := struct {
		Kind  Kind   `json:"kind"`
		Line  int64  `json:"line"`
		Cycle *Cycle `json:"gc,omitempty"`
		Scav  *Scav  `json:"scav,omitempty"`
		Scan  *Scan  `json:"scan,omitempty"`
	}{Kind: r.Kind, Line: r.Line}
	switch r.Kind {
	case KindGC:
		j.Cycle = &r.Cycle
	case KindScav, KindScvg:
		j.Scav = &r.Scav
	case KindScan:
		j.Scan = &r.Scan
	}
	return json.Marshal(j)
}

// scanner is a cursor over one line. Every method reports failure by
// returning false; none panics on any input.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) lit(l string) bool {
	if len(s.b)-s.i < len(l) || string(s.b[s.i:s.i+len(l)]) != l {
		return false
	}
	s.i += len(l)
	return true
}

func (s *scanner) done() bool { return s.i == len(s.b) }

// uint reads a decimal integer of at most 19 digits.
func (s *scanner) uint() (uint64, bool) {
	start := s.i
	var v uint64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		if s.i-start >= 19 {
			return 0, false
		}
		v = v*10 + uint64(s.b[s.i]-'0')
		s.i++
	}
	return v, s.i > start
}

// int reads an optionally negative decimal integer.
func (s *scanner) int() (int64, bool) {
	neg := s.lit("-")
	v, ok := s.uint()
	if !ok || v > 1<<62 {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// dec reads a decimal number "123" or "1.234" and returns it multiplied by
// unit, keeping up to 9 fraction digits. It is used for milliseconds and
// seconds, so unit is a time.Duration's nanoseconds per printed unit.
func (s *scanner) dec(unit int64) (time.Duration, bool) {
	whole, ok := s.uint()
	if !ok || whole > uint64(1<<62)/uint64(unit) {
		return 0, false
	}
	v := int64(whole) * unit
	if s.lit(".") {
		start := s.i
		scale := unit
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			scale /= 10
			v += int64(s.b[s.i]-'0') * scale
			s.i++
		}
		if s.i == start {
			return 0, false
		}
	}
	return time.Duration(v), true
}

// size reads an integer count of unit-sized blocks as bytes.
func (s *scanner) size(shift uint) (uint64, bool) {
	v, ok := s.uint()
	if !ok || v > (1<<63)>>shift {
		return 0, false
	}
	return v << shift, true
}

// phases reads n durations in milliseconds separated by the bytes in seps
// (one separator per gap).
func (s *scanner) phases(dst []*time.Duration, seps string) bool {
	for k, d := range dst {
		if k > 0 && !s.lit(seps[k-1:k]) {
			return false
		}
		v, ok := s.dec(int64(time.Millisecond))
		if !ok {
			return false
		}
		*d = v
	}
	return true
}

// parseGC parses a "gc N @…" line. It accepts the Go 1.18+ line with stacks
// and globals, the older one without, and the Go 1.26 "(checking for
// goroutine leaks)" marker.
func parseGC(line []byte, c *Cycle) bool {
	s := scanner{b: line}
	*c = Cycle{}
	var ok bool
	if !s.lit("gc ") {
		return false
	}
	if c.Num, ok = s.uint(); !ok || !s.lit(" @") {
		return false
	}
	if c.At, ok = s.dec(int64(time.Second)); !ok || !s.lit("s ") {
		return false
	}
	pct, ok := s.uint()
	if !ok || pct > 1e6 || !s.lit("%") {
		return false
	}
	c.CPUPercent = int(pct)
	if s.lit(" (checking for goroutine leaks)") {
		c.CheckingLeaks = true
	}
	if !s.lit(": ") ||
		!s.phases([]*time.Duration{&c.SweepTerm, &c.Mark, &c.MarkTerm}, "++") ||
		!s.lit(" ms clock, ") ||
		!s.phases([]*time.Duration{&c.SweepTermCPU, &c.AssistCPU, &c.BackgroundCPU, &c.IdleCPU, &c.MarkTermCPU}, "+//+") ||
		!s.lit(" ms cpu, ") {
		return false
	}
	if c.HeapStart, ok = s.size(20); !ok || !s.lit("->") {
		return false
	}
	if c.HeapEnd, ok = s.size(20); !ok || !s.lit("->") {
		return false
	}
	if c.HeapLive, ok = s.size(20); !ok || !s.lit(" MB, ") {
		return false
	}
	if c.HeapGoal, ok = s.size(20); !ok || !s.lit(" MB goal, ") {
		return false
	}
	n, ok := s.uint()
	if !ok {
		return false
	}
	if s.lit(" MB stacks, ") {
		if n > 1<<43 {
			return false
		}
		c.Stacks = n << 20
		if c.Globals, ok = s.size(20); !ok || !s.lit(" MB globals, ") {
			return false
		}
		c.HasScanSizes = true
		if n, ok = s.uint(); !ok {
			return false
		}
	}
	if n > 1<<31 || !s.lit(" P") {
		return false
	}
	c.Procs = int(n)
	if s.lit(" (forced)") {
		c.Forced = true
	}
	return s.done()
}

// parseScav parses the "scav …" forms of Go 1.14 and later.
func parseScav(line []byte, v *Scav) bool {
	s := scanner{b: line}
	*v = Scav{}
	if !s.lit("scav ") {
		return false
	}
	a, ok := s.uint()
	if !ok || a > 1<<53 || !s.lit(" ") {
		return false
	}
	var kib uint64
	if s.lit("KiB work") {
		kib = a
	} else {
		// Go 1.14–1.16: "scav <gen> <work> KiB work, …".
		if a > 1<<31 {
			return false
		}
		v.Gen = int(a)
		if kib, ok = s.uint(); !ok || kib > 1<<53 || !s.lit(" KiB work") {
			return false
		}
	}
	if s.lit(" (bg), ") {
		// Current form: "… KiB work (bg), N KiB work (eager), N KiB now, …".
		v.WorkBg = kib << 10
		e, ok := s.uint()
		if !ok || e > 1<<53 || !s.lit(" KiB work (eager), ") {
			return false
		}
		v.WorkEager = e << 10
		v.Work = v.WorkBg + v.WorkEager
		if v.Released, ok = s.size(10); !ok || !s.lit(" KiB now, ") {
			return false
		}
	} else {
		v.Work = kib << 10
		if !s.lit(", ") {
			return false
		}
		if v.Released, ok = s.size(10); !ok || !s.lit(" KiB total, ") {
			return false
		}
	}
	u, ok := s.uint()
	if !ok || u > 1e6 || !s.lit("% util") {
		return false
	}
	v.UtilPercent = int(u)
	switch {
	case s.lit(" (forced)"):
		v.Forced = true
	case s.lit(" [controller reset]"):
		v.ControllerReset = true
	}
	return s.done()
}

// parseScvg parses the "scvgN: …" lines of Go 1.13 and earlier.
func parseScvg(line []byte, v *Scav) bool {
	s := scanner{b: line}
	*v = Scav{}
	if !s.lit("scvg") {
		return false
	}
	g, ok := s.int()
	if !ok || g < -1 || g > 1<<31 || !s.lit(": ") {
		return false
	}
	v.Gen = int(g)
	if mb, ok := s.size(20); ok {
		v.Work = mb
		return s.lit(" MB released") && s.done()
	}
	fields := []struct {
		name string
		dst  *uint64
	}{
		{"inuse: ", &v.InUse}, {", idle: ", &v.Idle}, {", sys: ", &v.Sys},
		{", released: ", &v.Released}, {", consumed: ", &v.Consumed},
	}
	for _, f := range fields {
		if !s.lit(f.name) {
			return false
		}
		if *f.dst, ok = s.size(20); !ok {
			return false
		}
	}
	v.HasHeapStats = true
	return s.lit(" (MB)") && s.done()
}

// parseScan parses a gctrace=2 "scan: …" line.
func parseScan(line []byte, v *Scan) bool {
	s := scanner{b: line}
	*v = Scan{}
	if !s.lit("scan: ") {
		return false
	}
	switch {
	case s.lit("total "):
		v.Class = "total"
	case s.lit("class L "):
		v.Class = "L"
	case s.lit("class "):
		start := s.i
		if _, ok := s.uint(); !ok || !s.lit("B ") {
			return false
		}
		v.Class = classNames.intern(s.b[start : s.i-1])
	default:
		return false
	}
	// "a objs" or "a+b+c=n objs, x+y=m spans".
	n, ok := s.sum()
	if !ok || !s.lit(" objs") {
		return false
	}
	v.Objs = n
	if s.lit(", ") {
		if v.Spans, ok = s.sum(); !ok || !s.lit(" spans") {
			return false
		}
	}
	return s.done()
}

// sum reads "n" or "a+b+…=n" and returns n.
func (s *scanner) sum() (uint64, bool) {
	v, ok := s.uint()
	if !ok {
		return 0, false
	}
	if s.i < len(s.b) && s.b[s.i] == '+' {
		for s.lit("+") {
			if _, ok := s.uint(); !ok {
				return 0, false
			}
		}
		if !s.lit("=") {
			return 0, false
		}
		return s.uint()
	}
	return v, true
}

// internTable keeps the few size class names so scan lines do not allocate
// a string each. It is bounded: past its capacity names are allocated.
type internTable struct{ names []string }

var classNames = &internTable{}

func (t *internTable) intern(b []byte) string {
	for _, n := range t.names {
		if n == string(b) {
			return n
		}
	}
	return string(b)
}

func init() {
	// The size classes of every Go release since 1.18 (68 classes).
	for _, n := range []int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768} {
		classNames.names = append(classNames.names, itoa(n)+"B")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// gcStart returns the offset of an embedded "gc N @" in line, or -1. The
// runtime writes a gc line in several write calls, so when the program
// printed text without a newline just before, the gc line starts
// mid-line.
func gcStart(line []byte) int {
	off := 0
	for {
		k := bytes.Index(line[off:], []byte("gc "))
		if k < 0 {
			return -1
		}
		at := off + k
		j := at + 3
		d := j
		for d < len(line) && line[d] >= '0' && line[d] <= '9' {
			d++
		}
		if d > j && d+1 < len(line) && line[d] == ' ' && line[d+1] == '@' {
			return at
		}
		off = at + 1
	}
}

// parseLine classifies and parses one line without its newline. It returns
// the record kind (0 for a line that is not a runtime trace line) and
// whether a line that looked like a trace line failed to parse.
func parseLine(line []byte, rec *Record) (kind Kind, malformed bool) {
	if len(line) < 2 {
		return 0, false
	}
	switch line[0] {
	case 'g':
		if line[1] == 'c' && len(line) > 3 && line[2] == ' ' && line[3] >= '0' && line[3] <= '9' {
			if parseGC(line, &rec.Cycle) {
				return KindGC, false
			}
			return 0, true
		}
	case 'G':
		if string(line) == "GC forced" {
			return KindForced, false
		}
	case 's':
		switch {
		// A program's own "scan: …" output that does not parse is its
		// own line, not a damaged trace line, so these never count as
		// malformed.
		case bytes.HasPrefix(line, []byte("scav ")):
			if parseScav(line, &rec.Scav) {
				return KindScav, false
			}
		case bytes.HasPrefix(line, []byte("scvg")):
			if parseScvg(line, &rec.Scav) {
				return KindScvg, false
			}
		case bytes.HasPrefix(line, []byte("scan: ")):
			if parseScan(line, &rec.Scan) {
				return KindScan, false
			}
		}
	}
	return 0, false
}
