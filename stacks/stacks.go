// Package stacks parses, groups and diffs Go goroutine dumps.
//
// It reads every dump format the Go runtime prints (Go 1.18 through 1.27):
// runtime.Stack(buf, true), /debug/pprof/goroutine?debug=2, panics and fatal
// errors, SIGQUIT dumps under any GOTRACEBACK level (with gp=/m= headers,
// fp=/sp=/pc= frame suffixes and register dumps), the aggregated
// ?debug=1 text profile and the ?debug=0 protobuf profile. Dumps embedded in
// other output (log lines before a panic, text after it) are found and the
// surrounding text is skipped.
//
// # Cost
//
// Input is read as a stream through a bufio.Reader; nothing buffers the whole
// input (except the protobuf format, which google/pprof decodes in one piece).
// Function names and file paths are interned, so a dump of 100k goroutines
// that share a few thousand distinct frames holds each name once. [Scanner]
// yields one goroutine at a time; [GroupReader] groups a stream with memory
// that grows with the number of groups, not with the input size.
//
// # Labels
//
// pprof labels are read from every form the runtime prints them in: Go
// 1.27's header suffix (`goroutine 19 [chan receive] {job: sync, "k v":
// "a, b"}:`, on by default in modules declaring go 1.27, GODEBUG
// tracebacklabels), Go 1.26's `[chan receive labels:{"job": "sync"}]`
// under tracebacklabels=1, the debug=1 profile's `# labels:` lines and the
// protobuf profile's sample labels. [ByLabels] groups by them.
//
// # Nothing dropped silently, and limits
//
// A line that starts like a goroutine header ("goroutine N ") but is not
// one the runtime prints is counted in [Stats.Unparsed] (with examples),
// never taken for a goroutine nor skipped without a trace; a debug=1
// profile's stated total is checked against its records. [Stats.Problems]
// says it in words, [WithStats] puts it in every output format.
//
// Hostile input is bounded: a goroutine keeps at most [DefaultMaxFrames]
// frames (the rest are counted), a protobuf profile at most
// [DefaultMaxProfileBytes] compressed and decompressed and
// [DefaultMaxProfileSamples] samples and locations; [MaxFrames],
// [MaxProfileBytes] and [MaxProfileSamples] raise them. Lines are cut at
// 1 MiB. Text output escapes control characters, bidirectional overrides
// and invalid UTF-8 from the dump, so it is safe to print on a terminal.
//
// # Grouping and diffing
//
// [GroupBy] and [Grouper] put goroutines with the same normalized stack in one
// [Group] in linear time by hashing the stack. [Group.Key] is a stable 64-bit
// hash (FNV-1a based, no per-process seed), so groups from two dumps taken at
// different times, even by different processes, can be matched by [Diff].
//
// [Current] parses the calling process's own goroutines.
//
// # Output
//
// [WriteText], [WriteJSON] and [WriteHTML] render groups, [WriteDeltaText]
// and [WriteDeltaJSON] render a [Delta]; [WriteDump] writes a [Dump] back in
// the runtime's own format, so Parse(WriteDump(d)) gives d again. The JSON
// documents are described at [GroupsDoc] and [DeltaDoc]; their "schema"
// field names the version.
package stacks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
)

// Frame is one call in a goroutine's stack.
type Frame struct {
	Func     string `json:"func"`               // full name as printed: "net/http.(*conn).serve"
	Pkg      string `json:"pkg,omitempty"`      // import path: "net/http"
	Receiver string `json:"receiver,omitempty"` // "(*conn)" or ""
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Offset   uint64 `json:"offset,omitempty"` // the +0x… pc offset
	Inlined  bool   `json:"inlined,omitempty"`
	Args     string `json:"args,omitempty"` // raw text between the parentheses

	// PC is the absolute program counter when the dump prints one: the
	// pc= of GOTRACEBACK=system frames, the address of debug=1 profile
	// frames, or the pc of a cgo "non-Go function at pc=" frame.
	PC uint64 `json:"pc,omitempty"`
	// NoArgs is set for frames printed without a parenthesised argument
	// list (symbolized cgo frames and "non-Go function" lines).
	NoArgs bool `json:"no_args,omitempty"`
	// Extra is the raw text that followed file:line +0x… (" fp=… sp=… pc=…"),
	// kept so a dump can be written back exactly.
	Extra string `json:"extra,omitempty"`
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID          uint64            `json:"id"`
	State       string            `json:"state"` // "chan receive", "running", ...
	WaitMinutes int               `json:"wait_minutes,omitempty"`
	Locked      bool              `json:"locked,omitempty"` // locked to thread
	Leaked      bool              `json:"leaked,omitempty"` // " (leaked)": the runtime proved it
	Labels      map[string]string `json:"labels,omitempty"`
	Frames      []Frame           `json:"frames"`
	Elided      int               `json:"elided,omitempty"` // frames the runtime elided (-1: "additional frames")
	CreatedBy   *Frame            `json:"created_by,omitempty"`
	ParentID    uint64            `json:"parent_id,omitempty"` // "created by … in goroutine N"
	Ancestors   []Ancestor        `json:"ancestors,omitempty"`
	Unavailable bool              `json:"unavailable,omitempty"` // running on other thread
	Count       int               `json:"count,omitempty"`       // debug=1 / debug=0 profiles: goroutines sharing this stack

	// ElidedAt is the index in Frames where "...N frames elided..." was
	// printed (frames before it are the innermost ones); 0 when Elided is
	// 0 or -1.
	ElidedAt int `json:"elided_at,omitempty"`
	// Scan is the " (scan)" flag: the GC was scanning the stack.
	Scan bool `json:"scan,omitempty"`
	// Durable is the " (durable)" flag of goroutines blocked inside a
	// testing/synctest bubble; the suffix is removed from State.
	Durable bool `json:"durable,omitempty"`
	// Bubble is the synctest bubble ID (", synctest bubble N"), 0 if none.
	Bubble uint64 `json:"bubble,omitempty"`
	// GP, M and MP are the runtime's g pointer, M id ("nil" when none) and
	// m pointer printed in "goroutine N gp=… m=… mp=…" headers
	// (GOTRACEBACK=system and crashes). M is "" when the header has none.
	GP uint64 `json:"gp,omitempty"`
	M  string `json:"m,omitempty"`
	MP uint64 `json:"mp,omitempty"`
	// Truncated is set when the input ended in the middle of this
	// goroutine (a frame without its file line), as the 64 MiB cut of
	// debug=2 does.
	Truncated bool `json:"truncated,omitempty"`
	// DroppedFrames counts the frames (its own and its ancestors') the
	// parser did not keep because the goroutine had more than
	// [MaxFrames]; the frames kept are the innermost ones.
	DroppedFrames int `json:"dropped_frames,omitempty"`

	hs        []fhash // per-frame hashes of function and file, set by the Scanner
	labelForm uint8   // how the header printed Labels: labelsBracket (Go 1.26) or labelsAfterHdr (Go 1.27)
}

// Ancestor is an "[originating from goroutine N]:" trace (GODEBUG=tracebackancestors).
type Ancestor struct {
	ID     uint64  `json:"id"`
	Frames []Frame `json:"frames"`

	// Elided is set when the runtime printed "...additional frames elided...".
	Elided bool `json:"elided,omitempty"`
	// CreatedBy is the function that created the ancestor goroutine.
	CreatedBy *Frame `json:"created_by,omitempty"`
}

// Dump is a parsed goroutine dump.
type Dump struct {
	Goroutines []*Goroutine `json:"goroutines"`

	// Reason is the first "panic: …", "fatal error: …" or signal line
	// ("SIGQUIT: quit") printed before the goroutines, if any.
	Reason string `json:"reason,omitempty"`
	// Format is the format the dump was read from: "text" (debug=2,
	// runtime.Stack, panics), "debug=1" or "proto".
	Format string `json:"format,omitempty"`
	// Stats says what the parse read and what it could not (unparsed
	// goroutine headers, a debug=1 total that does not match).
	Stats Stats `json:"stats"`
}

// ErrNoDump is returned (wrapped) when the input holds no goroutine dump.
var ErrNoDump = errors.New("stacks: no goroutine dump found")

// Parse reads a whole dump (any format Go prints; text embedded in other
// output is skipped). It returns a clear error for input that holds no dump.
// Goroutine headers it cannot read are counted in [Dump.Stats], never
// dropped silently. Options set the limits ([MaxFrames], …).
//
// Parse keeps every goroutine in memory: about 1.5 KiB per goroutine of
// five frames (names and files are interned and shared; argument text is
// copied). To process a huge dump
// without holding it, use [NewScanner] or [GroupReader].
func Parse(r io.Reader, opts ...ScanOption) (*Dump, error) {
	s := NewScanner(r, opts...)
	d := &Dump{}
	for s.Next() {
		d.Goroutines = append(d.Goroutines, s.Goroutine())
	}
	d.Reason = s.Reason()
	d.Format = s.Format()
	d.Stats = s.Stats()
	if err := s.Err(); err != nil {
		return d, err
	}
	return d, nil
}

// Current returns the goroutines of this process, read from the runtime's
// goroutine profile at debug=2 (the same text as runtime.Stack(buf, true),
// with pprof labels when GODEBUG=tracebacklabels=1).
//
// Cost: the runtime stops the world while it walks every goroutine's stack
// (about a millisecond per 1–10k goroutines), and the text is buffered
// in memory before parsing (roughly 500 bytes per goroutine).
func Current() (*Dump, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return nil, fmt.Errorf("stacks: goroutine profile: %w", err)
	}
	return Parse(&buf)
}
