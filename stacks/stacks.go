// Package stacks parses, groups and diffs Go goroutine dumps.
//
// CONTRACT FILE: the exported API below is what other vitals packages (leak,
// admin, doctor) code against. The stacks owner implements it and may add to
// it, but must not rename or remove what is here without telling the
// integrator.
package stacks

import "io"

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
}

// Ancestor is an "[originating from goroutine N]:" trace (GODEBUG=tracebackancestors).
type Ancestor struct {
	ID     uint64  `json:"id"`
	Frames []Frame `json:"frames"`
}

// Dump is a parsed goroutine dump.
type Dump struct {
	Goroutines []*Goroutine `json:"goroutines"`
}

// Parse reads a whole dump (any format Go prints; text embedded in other
// output is skipped). It returns a clear error for input that holds no dump.
func Parse(r io.Reader) (*Dump, error) { panic("unimplemented") }

// Similarity says which goroutines count as "the same" when grouping.
type Similarity int

const (
	// ExactArgs: same frames (func+file:line) and same args.
	ExactArgs Similarity = iota
	// IgnoreArgs: same func+file:line; args differ (the default).
	IgnoreArgs
	// IgnoreLines: same functions; lines and args may differ.
	IgnoreLines
)

// Group is a set of goroutines with the same stack.
type Group struct {
	Count     int            `json:"count"`
	States    map[string]int `json:"states"`
	MinWait   int            `json:"min_wait_minutes"`
	MaxWait   int            `json:"max_wait_minutes"`
	IDs       []uint64       `json:"ids"` // the first few
	Frames    []Frame        `json:"frames"`
	CreatedBy *Frame         `json:"created_by,omitempty"`
	Key       uint64         `json:"key"` // hash of the normalized stack; equal across dumps
}

// GroupOption configures grouping.
type GroupOption interface{ apply(*groupConfig) }

type groupConfig struct{}

// GroupBy groups goroutines by stack in linear time, largest group first.
func GroupBy(gs []*Goroutine, opts ...GroupOption) []*Group { panic("unimplemented") }

// Delta is the difference between two groupings.
type Delta struct {
	Appeared []*GroupChange `json:"appeared"`
	Grew     []*GroupChange `json:"grew"`
	Shrank   []*GroupChange `json:"shrank"`
	Vanished []*GroupChange `json:"vanished"`
}

// GroupChange is one group's count before and after.
type GroupChange struct {
	Group  *Group `json:"group"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// Diff compares two groupings made with the same options.
func Diff(old, new []*Group) Delta { panic("unimplemented") }
