package stacks

import (
	"io"
	"sort"
	"strings"
)

// Similarity says which goroutines count as "the same" when grouping.
// A Similarity is itself a [GroupOption]: GroupBy(gs, stacks.IgnoreLines).
type Similarity int

const (
	// ExactArgs: same frames (func+file:line) and same args.
	ExactArgs Similarity = iota
	// IgnoreArgs: same func+file:line; args differ (the default).
	IgnoreArgs
	// IgnoreLines: same functions; lines and args may differ.
	IgnoreLines
)

func (s Similarity) apply(c *groupConfig) { c.sim = s }

// String returns "exact", "args" or "lines", the names `vitals stacks
// --similar` takes.
func (s Similarity) String() string {
	switch s {
	case ExactArgs:
		return "exact"
	case IgnoreArgs:
		return "args"
	case IgnoreLines:
		return "lines"
	}
	return "unknown"
}

// Group is a set of goroutines with the same stack.
type Group struct {
	Count     int            `json:"count"`
	States    map[string]int `json:"states"`
	MinWait   int            `json:"min_wait_minutes"`
	MaxWait   int            `json:"max_wait_minutes"`
	IDs       []uint64       `json:"ids"` // the first few
	Frames    []Frame        `json:"frames"`
	CreatedBy *Frame         `json:"created_by,omitempty"`
	Key       uint64         `json:"key,string"` // hash of the normalized stack; equal across dumps (a decimal string in JSON: 64 bits do not fit a JavaScript number)

	// Leaked counts members the runtime marked " (leaked)".
	Leaked int `json:"leaked,omitempty"`
	// Locked counts members locked to an OS thread.
	Locked int `json:"locked,omitempty"`
	// Labels are the pprof labels every member has (same key, same
	// value); with [ByLabels], the labels the group was split by.
	Labels map[string]string `json:"labels,omitempty"`
	// Elided is the first member's elided frame count (-1: "additional
	// frames elided").
	Elided int `json:"elided,omitempty"`
	// ElidedAt is the first member's [Goroutine.ElidedAt].
	ElidedAt int `json:"elided_at,omitempty"`

	next      *Group // hash collision chain
	ownLabels bool   // Labels is the group's own copy
	first     int    // arrival order, for stable ranking
	sim       Similarity
}

// GroupOption configures grouping: a [Similarity], [MergeStates],
// [WaitBuckets], [ByLabels], [MaxIDs], or a [ScanOption] for [GroupReader].
type GroupOption interface{ apply(*groupConfig) }

type groupConfig struct {
	sim         Similarity
	mergeStates bool
	waitBuckets bool
	maxIDs      int
	byLabels    []string // label keys that split groups; nil: labels do not
	scan        []ScanOption
}

type optFunc func(*groupConfig)

func (f optFunc) apply(c *groupConfig) { f(c) }

// MergeStates puts goroutines with the same stack in one group whatever
// their state ("chan receive" and "select" alike); by default the state is
// part of the group key.
func MergeStates() GroupOption { return optFunc(func(c *groupConfig) { c.mergeStates = true }) }

// WaitBuckets splits groups by how long their goroutines have waited:
// under 1 minute, 1–9, 10–59 and 60 or more minutes. Keys then change as
// goroutines age, so do not use it for [Diff] across time.
func WaitBuckets() GroupOption { return optFunc(func(c *groupConfig) { c.waitBuckets = true }) }

// ByLabels splits groups by pprof labels: goroutines with the same stack
// but different values of the given label keys go to different groups
// (a missing label counts as its own value). With no keys, the whole label
// set must match. [Group.Labels] then holds the grouped labels. Cost: a
// hash of the labels per goroutine added.
func ByLabels(keys ...string) GroupOption {
	keys = append([]string{}, keys...)
	return optFunc(func(c *groupConfig) {
		if keys == nil {
			keys = []string{}
		}
		c.byLabels = keys
	})
}

// MaxIDs sets how many goroutine IDs each group keeps (default 8).
func MaxIDs(n int) GroupOption {
	return optFunc(func(c *groupConfig) { c.maxIDs = max(n, 0) })
}

// Grouper groups goroutines as they arrive. Its memory grows with the
// number of groups, not with the number of goroutines added: each new group
// copies one example stack, later members only update counters.
// A Grouper is not safe for concurrent use.
type Grouper struct {
	cfg    groupConfig
	m      map[uint64]*Group
	groups []*Group
	states map[string]uint64
	total  int
}

// NewGrouper returns an empty Grouper.
func NewGrouper(opts ...GroupOption) *Grouper {
	c := groupConfig{sim: IgnoreArgs, maxIDs: 8}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return &Grouper{cfg: c, m: make(map[uint64]*Group), states: make(map[string]uint64)}
}

// Add puts g in its group. Cost: O(frames); an allocation only when g
// starts a new group. Add does not keep g or its frames.
func (gr *Grouper) Add(g *Goroutine) {
	if g == nil {
		return
	}
	key := gr.key(g)
	n := max(g.Count, 1)
	gr.total += n
	var grp *Group
	for c := gr.m[key]; c != nil; c = c.next {
		if gr.same(c, g) {
			grp = c
			break
		}
	}
	if grp == nil {
		grp = gr.newGroup(g, key)
	}
	grp.Count += n
	grp.States[g.State] += n
	if g.WaitMinutes < grp.MinWait {
		grp.MinWait = g.WaitMinutes
	}
	if g.WaitMinutes > grp.MaxWait {
		grp.MaxWait = g.WaitMinutes
	}
	if g.Leaked {
		grp.Leaked += n
	}
	if g.Locked {
		grp.Locked += n
	}
	if grp.Count > n && len(grp.Labels) > 0 && gr.cfg.byLabels == nil {
		gr.shareLabels(grp, g.Labels)
	}
	if g.ID != 0 && len(grp.IDs) < gr.cfg.maxIDs {
		grp.IDs = append(grp.IDs, g.ID)
	}
}

func (gr *Grouper) newGroup(g *Goroutine, key uint64) *Group {
	grp := &Group{
		States:   make(map[string]int, 1),
		MinWait:  g.WaitMinutes,
		MaxWait:  g.WaitMinutes,
		Key:      key,
		Labels:   gr.groupLabels(g.Labels),
		Elided:   g.Elided,
		ElidedAt: g.ElidedAt,
		first:    len(gr.groups),
		sim:      gr.cfg.sim,
	}
	grp.Frames = make([]Frame, len(g.Frames))
	copy(grp.Frames, g.Frames)
	for i := range grp.Frames {
		if a := grp.Frames[i].Args; a != "" && a != "..." {
			grp.Frames[i].Args = strings.Clone(a) // the scanner may reuse its buffer
		}
	}
	if g.CreatedBy != nil {
		cb := *g.CreatedBy
		grp.CreatedBy = &cb
	}
	if gr.cfg.maxIDs > 0 {
		grp.IDs = make([]uint64, 0, min(gr.cfg.maxIDs, 8))
	}
	grp.next = gr.m[key]
	gr.m[key] = grp
	gr.groups = append(gr.groups, grp)
	return grp
}

// Groups returns the groups, largest first (ties in order of first
// appearance). Cost: a sort of the groups.
func (gr *Grouper) Groups() []*Group {
	out := make([]*Group, len(gr.groups))
	copy(out, gr.groups)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].first < out[j].first
	})
	return out
}

// Total returns the number of goroutines added (profile records count
// for the goroutines they stand for).
func (gr *Grouper) Total() int { return gr.total }

// GroupBy groups goroutines by stack in linear time, largest group first.
// By default goroutines with the same function+file:line frames, the same
// creator and the same state form one group; see [GroupOption].
func GroupBy(gs []*Goroutine, opts ...GroupOption) []*Group {
	gr := NewGrouper(opts...)
	for _, g := range gs {
		gr.Add(g)
	}
	return gr.Groups()
}

// GroupReader parses the dump read from r and groups it without keeping
// the goroutines: memory grows with the number of groups, not with the
// input size. It returns the groups, largest first, and the parse error
// if any (the groups read before it are returned too). [ScanOption]s
// among opts set the parser's limits. Use [GroupReaderStats] to learn
// what could not be parsed.
func GroupReader(r io.Reader, opts ...GroupOption) ([]*Group, error) {
	gs, _, err := GroupReaderStats(r, opts...)
	return gs, err
}

// GroupReaderStats is [GroupReader] that also returns the parse's
// [Stats]: goroutine headers it could not read, a debug=1 total that does
// not match its records, frames dropped past [MaxFrames]. Pass the Stats
// to [WithStats] so the output reports them.
func GroupReaderStats(r io.Reader, opts ...GroupOption) ([]*Group, Stats, error) {
	gr := NewGrouper(opts...)
	s := NewScanner(r, gr.cfg.scan...)
	s.reuse = true
	for s.Next() {
		gr.Add(s.Goroutine())
	}
	return gr.Groups(), s.Stats(), s.Err()
}

const mixK = 0x9E3779B97F4A7C15

func mix(h, v uint64) uint64 {
	h = (h ^ v) * mixK
	return h ^ h>>32
}

// key hashes the normalized stack of g.
func (gr *Grouper) key(g *Goroutine) uint64 {
	c := &gr.cfg
	h := uint64(0xcbf29ce484222325)
	pre := len(g.hs) == len(g.Frames)
	for i := range g.Frames {
		fr := &g.Frames[i]
		var fh fhash
		if pre {
			fh = g.hs[i]
		} else {
			fh = frameHash(fr)
		}
		h = mix(h, fh.fn)
		h = mix(h, fh.file)
		if c.sim != IgnoreLines {
			h = mix(h, uint64(fr.Line))
		}
		if c.sim == ExactArgs {
			h = mix(h, hashString(fr.Args))
		}
	}
	h = mix(h, uint64(len(g.Frames)))
	if cb := g.CreatedBy; cb != nil {
		fh := frameHash(cb)
		h = mix(h, fh.fn)
		h = mix(h, fh.file)
		if c.sim != IgnoreLines {
			h = mix(h, uint64(cb.Line))
		}
	}
	if !c.mergeStates {
		sh, ok := gr.states[g.State]
		if !ok {
			sh = hashString(g.State)
			gr.states[g.State] = sh
		}
		h = mix(h, sh)
	}
	if c.waitBuckets {
		h = mix(h, uint64(waitBucket(g.WaitMinutes))+1)
	}
	if c.byLabels != nil {
		h = mix(h, gr.labelHash(g.Labels))
	}
	return h
}

// shareLabels keeps in grp.Labels only the labels m has too. The group
// owns its map (copied on the first change).
func (gr *Grouper) shareLabels(grp *Group, m map[string]string) {
	for k, v := range grp.Labels {
		if w, ok := m[k]; ok && w == v {
			continue
		}
		if !grp.ownLabels {
			own := make(map[string]string, len(grp.Labels))
			for k2, v2 := range grp.Labels {
				own[k2] = v2
			}
			grp.Labels, grp.ownLabels = own, true
		}
		delete(grp.Labels, k)
	}
	if len(grp.Labels) == 0 {
		grp.Labels = nil
	}
}

// groupLabels returns the labels a new group keeps: all of them, or with
// ByLabels(keys…) only those keys.
func (gr *Grouper) groupLabels(m map[string]string) map[string]string {
	keys := gr.cfg.byLabels
	if len(keys) == 0 || m == nil {
		return m
	}
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = make(map[string]string, len(keys))
			}
			out[k] = v
		}
	}
	return out
}

// labelHash hashes the labels that split groups, independent of map order.
func (gr *Grouper) labelHash(m map[string]string) uint64 {
	var h uint64
	pair := func(k, v string) uint64 { return mix(mix(0x51ed27, hashString(k)), hashString(v)) }
	if keys := gr.cfg.byLabels; len(keys) > 0 {
		for i, k := range keys {
			if v, ok := m[k]; ok {
				h = mix(h, pair(k, v))
			} else {
				h = mix(h, uint64(i)+1)
			}
		}
		return h
	}
	for k, v := range m {
		h += pair(k, v) // order-independent
	}
	return mix(h, uint64(len(m)))
}

// sameLabels reports whether m matches a group's labels under ByLabels.
func (gr *Grouper) sameLabels(grp map[string]string, m map[string]string) bool {
	if keys := gr.cfg.byLabels; len(keys) > 0 {
		for _, k := range keys {
			a, aok := grp[k]
			b, bok := m[k]
			if aok != bok || a != b {
				return false
			}
		}
		return true
	}
	if len(grp) != len(m) {
		return false
	}
	for k, v := range grp {
		if w, ok := m[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func frameHash(fr *Frame) fhash {
	var fh fhash
	fh.fn = hashString(fr.Func)
	if fr.File != "" {
		fh.file = hashString(fr.File)
	}
	return fh
}

func waitBucket(m int) int {
	switch {
	case m < 1:
		return 0
	case m < 10:
		return 1
	case m < 60:
		return 2
	}
	return 3
}

// same reports whether g belongs in grp (guards against hash collisions).
func (gr *Grouper) same(grp *Group, g *Goroutine) bool {
	c := &gr.cfg
	if len(grp.Frames) != len(g.Frames) {
		return false
	}
	for i := range g.Frames {
		a, b := &grp.Frames[i], &g.Frames[i]
		if a.Func != b.Func || a.File != b.File {
			return false
		}
		if c.sim != IgnoreLines && a.Line != b.Line {
			return false
		}
		if c.sim == ExactArgs && a.Args != b.Args {
			return false
		}
	}
	if (grp.CreatedBy == nil) != (g.CreatedBy == nil) {
		return false
	}
	if grp.CreatedBy != nil && (grp.CreatedBy.Func != g.CreatedBy.Func || grp.CreatedBy.File != g.CreatedBy.File) {
		return false
	}
	if !c.mergeStates {
		for st := range grp.States {
			if st != g.State {
				return false
			}
		}
	}
	if c.waitBuckets && waitBucket(grp.MinWait) != waitBucket(g.WaitMinutes) {
		return false
	}
	if c.byLabels != nil && !gr.sameLabels(grp.Labels, g.Labels) {
		return false
	}
	return true
}

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

// Diff compares two groupings made with the same options, matching groups
// by [Group.Key]. Appeared and Grew are sorted by how many goroutines were
// added, Shrank and Vanished by how many went away, largest first.
// Cost: O(len(old)+len(new)) plus the sorts.
func Diff(old, new []*Group) Delta {
	type acc struct {
		g *Group
		n int
	}
	sum := func(gs []*Group) (map[uint64]*acc, []uint64) {
		m := make(map[uint64]*acc, len(gs))
		var order []uint64
		for _, g := range gs {
			if g == nil {
				continue
			}
			if a, ok := m[g.Key]; ok {
				a.n += g.Count
				continue
			}
			m[g.Key] = &acc{g, g.Count}
			order = append(order, g.Key)
		}
		return m, order
	}
	om, oorder := sum(old)
	nm, norder := sum(new)
	var d Delta
	for _, k := range norder {
		a := nm[k]
		b, ok := om[k]
		switch {
		case !ok:
			d.Appeared = append(d.Appeared, &GroupChange{Group: a.g, After: a.n})
		case a.n > b.n:
			d.Grew = append(d.Grew, &GroupChange{Group: a.g, Before: b.n, After: a.n})
		case a.n < b.n:
			d.Shrank = append(d.Shrank, &GroupChange{Group: a.g, Before: b.n, After: a.n})
		}
	}
	for _, k := range oorder {
		if _, ok := nm[k]; !ok {
			b := om[k]
			d.Vanished = append(d.Vanished, &GroupChange{Group: b.g, Before: b.n})
		}
	}
	byDelta := func(cs []*GroupChange) {
		sort.SliceStable(cs, func(i, j int) bool {
			di, dj := cs[i].After-cs[i].Before, cs[j].After-cs[j].Before
			if di < 0 {
				di = -di
			}
			if dj < 0 {
				dj = -dj
			}
			return di > dj
		})
	}
	byDelta(d.Appeared)
	byDelta(d.Grew)
	byDelta(d.Shrank)
	byDelta(d.Vanished)
	return d
}
