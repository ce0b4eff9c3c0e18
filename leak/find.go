package leak

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govitals/vitals/stacks"
)

// observed maps goroutine IDs of tests seen by [Check] and [VerifyNone] to
// the test's name. Goroutine IDs are never reused, so entries stay valid
// after the goroutine exits; there is one per checked test.
var observed sync.Map // uint64 -> string

// reported holds IDs already reported by a scoped check, so one leak fails
// one test rather than every test after it.
var reported sync.Map // uint64 -> struct{}

func observe(id uint64, name string) {
	if id != 0 && name != "" {
		observed.Store(id, name)
	}
}

func observedName(id uint64) (string, bool) {
	v, ok := observed.Load(id)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// Find looks for goroutines that should not be running: every goroutine
// except the caller's, the runtime's and the testing framework's (see the
// package documentation), minus those the options ignore. It returns nil as
// soon as there are none, and otherwise polls with exponential backoff (10 µs
// doubling to 50 ms) until they have stayed unchanged for [Settle] or
// [Timeout] has passed. The error is an [*Error] grouping the goroutines by
// stack, or an error saying why the check itself could not run.
//
// Each poll takes a goroutine dump, which stops the world for about 5 µs per
// goroutine; goroutines that are ignored by ID ([IgnoreCurrent]) are skipped
// without being parsed.
func Find(opts ...Option) error {
	c := buildConfig(opts)
	if e := c.find(curID(), ""); e != nil {
		return e
	}
	return nil
}

// Error is a failed leak check: the goroutines still running, grouped by
// the test blamed for them and by stack.
type Error struct {
	// Goroutines is the number of unexpected goroutines.
	Goroutines int
	// Waited is how long the check polled before giving up.
	Waited time.Duration
	// Groups are the unexpected goroutines grouped by blamed test and
	// stack, most goroutines first.
	Groups []*Group
	// Rerun says what [VerifyTestMain]'s rerun with ancestor traces did
	// to name the tests of goroutines it could not attribute ("" when
	// there was no rerun).
	Rerun string
	// Err is set instead of the above when the check itself failed (for
	// example, a dump that could not be parsed).
	Err error
}

// Group is a set of leaked goroutines with the same stack, blamed on the
// same test.
type Group struct {
	*stacks.Group
	// Test is the test that started the goroutines (directly or through
	// goroutines it started), "" when it could not be told.
	Test string
	// Via is the function the blame rests on when the test's exact name
	// was not observed (the test function or its closure, as in
	// "pkg.TestTable.func1"); empty when Test is exact.
	Via string
	// Proven is set when Go's own leak detector proved the goroutines
	// leaked (they wait on something no running goroutine can reach).
	Proven bool
	// Rerun is set when Test was found by [VerifyTestMain]'s rerun of
	// the tests with ancestor traces (see the package documentation).
	// Test then lists every test the rerun found leaking this stack,
	// comma-separated.
	Rerun bool
	// Unknown says, when Test is "", why no test could be named and what
	// to do about it, in one line.
	Unknown string

	origin string // originInit, originTestMain, originNotReproduced, ...
}

// Error renders the report: one paragraph per group.
func (e *Error) Error() string {
	if e.Err != nil {
		return "leak: " + e.Err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "leak: %d unexpected %s after %v, in %d %s",
		e.Goroutines, plural(e.Goroutines, "goroutine"), e.Waited.Round(time.Millisecond),
		len(e.Groups), plural(len(e.Groups), "group"))
	if e.Rerun != "" {
		b.WriteString("\n")
		b.WriteString(e.Rerun)
	}
	for i, g := range e.Groups {
		b.WriteString("\n\n")
		writeGroup(&b, i+1, len(e.Groups), g)
	}
	return b.String()
}

// Unwrap returns the error that stopped the check from running, if any.
func (e *Error) Unwrap() error { return e.Err }

const maxFramesShown = 24

func writeGroup(b *strings.Builder, i, n int, g *Group) {
	fmt.Fprintf(b, "[%d/%d] %d %s", i, n, g.Count, plural(g.Count, "goroutine"))
	if st := states(g.States); st != "" {
		fmt.Fprintf(b, " in %s", st)
	}
	if g.MaxWait > 0 {
		if g.MinWait == g.MaxWait {
			fmt.Fprintf(b, " for %d min", g.MaxWait)
		} else {
			fmt.Fprintf(b, " for %d-%d min", g.MinWait, g.MaxWait)
		}
	}
	switch {
	case g.Test != "" && g.Via != "":
		fmt.Fprintf(b, ", leaked by %s (via %s)", g.Test, g.Via)
	case g.Test != "":
		fmt.Fprintf(b, ", leaked by %s", g.Test)
	case g.Unknown != "":
		fmt.Fprintf(b, ", test unknown: %s", g.Unknown)
	default:
		b.WriteString(", test unknown")
	}
	if g.Rerun {
		b.WriteString(" (found by the rerun)")
	}
	if g.Proven {
		b.WriteString(" [proven leaked by the Go runtime]")
	}
	b.WriteByte('\n')
	for j, f := range g.Frames {
		if j == maxFramesShown {
			fmt.Fprintf(b, "    ...%d more frames...\n", len(g.Frames)-j)
			break
		}
		if g.Elided > 0 && j == g.ElidedAt && j > 0 {
			fmt.Fprintf(b, "    ...%d frames elided by the runtime...\n", g.Elided)
		}
		writeFrame(b, "", f)
	}
	if g.Elided < 0 {
		b.WriteString("    ...more frames elided by the runtime...\n")
	}
	if g.CreatedBy != nil {
		writeFrame(b, "created by ", *g.CreatedBy)
	}
	ids := make([]string, 0, len(g.IDs))
	for _, id := range g.IDs {
		ids = append(ids, strconv.FormatUint(id, 10))
	}
	if len(ids) > 0 {
		more := ""
		if g.Count > len(ids) {
			more = ", ..."
		}
		fmt.Fprintf(b, "    %s %s%s", plural(len(ids), "goroutine"), strings.Join(ids, ", "), more)
	}
}

func writeFrame(b *strings.Builder, prefix string, f stacks.Frame) {
	fmt.Fprintf(b, "    %s%s\n", prefix, f.Func)
	if f.File != "" {
		fmt.Fprintf(b, "        %s:%d\n", f.File, f.Line)
	}
}

func states(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 1 {
		return keys[0]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d)", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// leaked is one unexpected goroutine with its blame.
type leaked struct {
	g     *stacks.Goroutine
	blame blame
}

// find runs the polling loop and builds the report. cur is the checking
// goroutine's ID; checker is the checking test's name ("" for an unscoped
// check).
func (c *config) find(cur uint64, checker string) *Error {
	start := c.now()
	leaks, err := c.findLeaks(cur, checker)
	if err != nil {
		return &Error{Err: err}
	}
	if len(leaks) == 0 {
		return nil
	}
	e, gerr := report(leaks)
	if gerr != nil {
		return &Error{Err: gerr}
	}
	e.Waited = c.now().Sub(start)
	e.explain()
	return e
}

// findLeaks polls until the unexpected goroutines are gone or settled and
// returns those left.
func (c *config) findLeaks(cur uint64, checker string) ([]leaked, error) {
	start := c.now()
	backoff := firstBackoff
	var (
		buf         []byte
		lastSig     string
		stableSince = start
		leaks       []leaked
		err         error
	)
	for {
		buf = c.dump(buf)
		leaks, err = c.scan(buf, cur, checker)
		if err != nil || len(leaks) == 0 {
			return nil, err
		}
		now := c.now()
		if sig := signature(leaks); sig != lastSig {
			lastSig, stableSince = sig, now
		}
		elapsed := now.Sub(start)
		if elapsed >= c.timeout || (c.settle > 0 && now.Sub(stableSince) >= c.settle) {
			break
		}
		d := min(backoff, c.timeout-elapsed)
		c.sleep(d)
		backoff = min(2*backoff, maxBackoff)
	}
	if c.useLeakProfile {
		// One more look, right after Go's own detector ran: marks what
		// the runtime proved leaked. Costs a GC, on failure only.
		if b, ok := leakProfileDump(); ok {
			l2, err := c.scan(b, cur, checker)
			if err == nil {
				if len(l2) == 0 {
					return nil, nil
				}
				leaks = l2
			}
		}
	}
	if checker != "" {
		kept := leaks[:0]
		for _, l := range leaks {
			if _, dup := reported.LoadOrStore(l.g.ID, struct{}{}); !dup {
				kept = append(kept, l)
			}
		}
		leaks = kept
	}
	return leaks, nil
}

// signature summarizes the leak set: which goroutines, in what kind of
// state. Running and runnable count as one state so a busy goroutine looks
// stable.
func signature(ls []leaked) string {
	var b strings.Builder
	for _, l := range ls {
		st := l.g.State
		switch {
		case st == "running" || st == "runnable" || strings.HasPrefix(st, "syscall"):
			st = "active"
		}
		b.WriteString(strconv.FormatUint(l.g.ID, 10))
		b.WriteByte(':')
		b.WriteString(st)
		b.WriteByte(';')
	}
	return b.String()
}

// scan returns the unexpected goroutines of one dump. Goroutines ignored by
// ID are dropped before parsing; the full dump is parsed only when
// something unexpected remains (blame needs the parents).
func (c *config) scan(buf []byte, cur uint64, checker string) (ls []leaked, err error) {
	defer func() {
		if r := recover(); r != nil {
			ls, err = nil, fmt.Errorf("parse goroutine dump: internal error: %v", r)
		}
	}()
	var d, all *stacks.Dump
	if len(c.ignoreIDs) == 0 {
		// Nothing to skip unparsed: one parse serves filter and blame.
		if all, err = stacks.Parse(bytes.NewReader(buf)); err != nil {
			return nil, fmt.Errorf("parse goroutine dump: %w", err)
		}
		d = all
	} else {
		var sub []byte
		for _, ch := range splitDump(buf) {
			if ch.id == cur || c.ignoreIDs[ch.id] {
				continue
			}
			sub = append(sub, buf[ch.start:ch.end]...)
			if !bytes.HasSuffix(sub, []byte("\n\n")) {
				sub = append(sub, '\n')
			}
		}
		if len(sub) == 0 {
			return nil, nil
		}
		if d, err = stacks.Parse(bytes.NewReader(sub)); err != nil {
			return nil, fmt.Errorf("parse goroutine dump: %w", err)
		}
	}
	want := map[uint64]bool{}
	for _, g := range d.Goroutines {
		if g.ID != cur && !c.ignoreIDs[g.ID] && !c.ignored(g) {
			want[g.ID] = true
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if all == nil {
		if all, err = stacks.Parse(bytes.NewReader(buf)); err != nil {
			return nil, fmt.Errorf("parse goroutine dump: %w", err)
		}
	}
	byID := make(map[uint64]*stacks.Goroutine, len(all.Goroutines))
	for _, g := range all.Goroutines {
		byID[g.ID] = g
	}
	var running map[string]bool
	if checker != "" {
		running = runningTests(all.Goroutines, c.names)
	}
	for _, g := range all.Goroutines {
		if !want[g.ID] {
			continue
		}
		b := blameOf(g, byID, c.names)
		if checker != "" && b.test != "" && b.test != checker &&
			!strings.HasPrefix(b.test, checker+"/") && running[b.test] {
			continue // another test, still running, owns it
		}
		ls = append(ls, leaked{g: g, blame: b})
	}
	return ls, nil
}

// report groups leaks by (test, proven, stack).
func report(ls []leaked) (e *Error, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("group goroutines: internal error: %v", r)
		}
	}()
	type key struct {
		b      blame
		proven bool
	}
	buckets := map[key][]*stacks.Goroutine{}
	var order []key
	for _, l := range ls {
		k := key{l.blame, l.g.Leaked}
		if _, ok := buckets[k]; !ok {
			order = append(order, k)
		}
		buckets[k] = append(buckets[k], l.g)
	}
	e = &Error{Goroutines: len(ls)}
	for _, k := range order {
		for _, sg := range stacks.GroupBy(buckets[k]) {
			e.Groups = append(e.Groups, &Group{Group: sg, Test: k.b.test, Via: k.b.via, Proven: k.proven, origin: k.b.origin})
		}
	}
	sortGroups(e.Groups)
	return e, nil
}

// sortGroups orders groups by test name, unattributed last, then by size.
func sortGroups(gs []*Group) {
	slices.SortStableFunc(gs, func(a, b *Group) int {
		if a.Test != b.Test {
			if a.Test == "" {
				return 1
			}
			if b.Test == "" {
				return -1
			}
			return strings.Compare(a.Test, b.Test)
		}
		return b.Count - a.Count
	})
}

// explain sets Unknown on every group without a test: which case it is
// and what to do, in one line.
func (e *Error) explain() {
	for _, g := range e.Groups {
		if g.Test != "" {
			g.Unknown = ""
			continue
		}
		creator := "the function that starts it"
		if g.CreatedBy != nil {
			creator = g.CreatedBy.Func
		}
		switch g.origin {
		case originInit:
			g.Unknown = fmt.Sprintf("started during package initialization, before any test ran; start it from the test that needs it, or ignore it with leak.IgnoreCreatedBy(%q)", creator)
		case originTestMain:
			g.Unknown = fmt.Sprintf("started by TestMain, outside any test; stop it once m.Run returns, or ignore it with leak.IgnoreCreatedBy(%q)", creator)
		case originNotReproduced:
			g.Unknown = "the rerun did not leak it again (it depends on timing); call leak.Check(t) in the tests you suspect, which checks each test where it runs"
		case originNoTest:
			g.Unknown = fmt.Sprintf("its creation chain passes through no test; if it is a process-wide singleton, ignore it with leak.IgnoreCreatedBy(%q)", creator)
		case originRerunFailed:
			g.Unknown = fmt.Sprintf("its creators have exited and the rerun could not trace it; run the tests with GODEBUG=tracebackancestors=%d to trace it", rerunAncestors)
		default:
			g.Unknown = fmt.Sprintf("its creators have exited; call leak.Check(t) in the test that starts it, or run with GODEBUG=tracebackancestors=%d to trace it", rerunAncestors)
		}
	}
}
