package stacks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteDump writes d back in the runtime's own format: goroutine text for
// dumps read as text, the debug=1 profile format for profiles (debug=1 or
// protobuf). Parsing the output yields the same model. Cost: one pass over
// d, buffered writes.
func WriteDump(w io.Writer, d *Dump) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	if d.Format == "debug=1" || d.Format == "proto" {
		writeProfile(bw, d)
		return bw.Flush()
	}
	if d.Reason != "" {
		bw.WriteString(d.Reason)
		bw.WriteString("\n\n")
	}
	for i, g := range d.Goroutines {
		if i > 0 {
			bw.WriteByte('\n')
		}
		writeGoroutine(bw, g)
	}
	return bw.Flush()
}

func writeGoroutine(w *bufio.Writer, g *Goroutine) {
	w.WriteString("goroutine ")
	w.WriteString(strconv.FormatUint(g.ID, 10))
	if g.M != "" {
		fmt.Fprintf(w, " gp=%#x m=%s", g.GP, g.M)
		if g.M != "nil" {
			fmt.Fprintf(w, " mp=%#x", g.MP)
		}
	}
	w.WriteString(" [")
	w.WriteString(g.State)
	if g.Leaked {
		w.WriteString(" (leaked)")
	}
	if g.Scan {
		w.WriteString(" (scan)")
	}
	if g.Durable {
		w.WriteString(" (durable)")
	}
	if g.WaitMinutes > 0 {
		fmt.Fprintf(w, ", %d minutes", g.WaitMinutes)
	}
	if g.Locked {
		w.WriteString(", locked to thread")
	}
	if g.Bubble != 0 {
		fmt.Fprintf(w, ", synctest bubble %d", g.Bubble)
	}
	if len(g.Labels) > 0 && g.labelForm == labelsBracket {
		w.WriteString(" labels:")
		w.WriteString(headerLabels(g.Labels, true))
	}
	w.WriteByte(']')
	if len(g.Labels) > 0 && g.labelForm != labelsBracket {
		w.WriteByte(' ')
		w.WriteString(headerLabels(g.Labels, false))
	}
	w.WriteString(":\n")
	if g.Unavailable {
		w.WriteString("\tgoroutine running on other thread; stack unavailable\n")
	}
	for i := range g.Frames {
		if g.Elided > 0 && i == g.ElidedAt {
			fmt.Fprintf(w, "...%d frames elided...\n", g.Elided)
		}
		writeFrame(w, &g.Frames[i])
	}
	if g.Elided > 0 && g.ElidedAt >= len(g.Frames) {
		fmt.Fprintf(w, "...%d frames elided...\n", g.Elided)
	}
	if g.Elided < 0 {
		w.WriteString("...additional frames elided...\n")
	}
	if g.CreatedBy != nil {
		writeCreatedBy(w, g.CreatedBy, g.ParentID)
	}
	for _, a := range g.Ancestors {
		fmt.Fprintf(w, "[originating from goroutine %d]:\n", a.ID)
		for i := range a.Frames {
			writeFrame(w, &a.Frames[i])
		}
		if a.Elided {
			w.WriteString("...additional frames elided...\n")
		}
		if a.CreatedBy != nil {
			writeCreatedBy(w, a.CreatedBy, 0)
		}
	}
}

func writeCreatedBy(w *bufio.Writer, f *Frame, parent uint64) {
	w.WriteString("created by ")
	w.WriteString(f.Func)
	if parent != 0 {
		w.WriteString(" in goroutine ")
		w.WriteString(strconv.FormatUint(parent, 10))
	}
	w.WriteByte('\n')
	writeFileLine(w, f, false)
}

func writeFrame(w *bufio.Writer, f *Frame) {
	w.WriteString(f.Func)
	if f.Func == "non-Go function" && f.File == "" && strings.HasPrefix(f.Extra, " at pc=") {
		w.WriteString(f.Extra)
		w.WriteByte('\n')
		return
	}
	if !f.NoArgs {
		w.WriteByte('(')
		w.WriteString(f.Args)
		w.WriteByte(')')
	}
	w.WriteByte('\n')
	// A symbolized cgo frame (no argument list) always has its second line.
	writeFileLine(w, f, f.NoArgs)
}

func writeFileLine(w *bufio.Writer, f *Frame, force bool) {
	if !force && f.File == "" && f.Line == 0 && f.Offset == 0 && f.Extra == "" {
		return
	}
	w.WriteByte('\t')
	if f.File != "" || f.Line != 0 {
		w.WriteString(f.File)
		w.WriteByte(':')
		w.WriteString(strconv.Itoa(f.Line))
	}
	if f.Offset != 0 {
		fmt.Fprintf(w, " +%#x", f.Offset)
	}
	w.WriteString(f.Extra)
	w.WriteByte('\n')
}

func writeProfile(w *bufio.Writer, d *Dump) {
	total := 0
	for _, g := range d.Goroutines {
		total += max(g.Count, 1)
	}
	fmt.Fprintf(w, "goroutine profile: total %d\n", total)
	for _, g := range d.Goroutines {
		fmt.Fprintf(w, "%d @", max(g.Count, 1))
		for _, f := range g.Frames {
			fmt.Fprintf(w, " %#x", f.PC)
		}
		w.WriteByte('\n')
		if len(g.Labels) > 0 {
			w.WriteString("# labels: ")
			w.WriteString(profileLabels(g.Labels))
			w.WriteByte('\n')
		}
		for _, f := range g.Frames {
			fmt.Fprintf(w, "#\t%#x\t%s+%#x\t%s:%d\n", f.PC, f.Func, f.Offset, f.File, f.Line)
		}
		w.WriteByte('\n')
	}
}

// RenderOption configures [WriteText] and [WriteHTML].
type RenderOption interface{ applyRender(*renderConfig) }

type renderConfig struct {
	color    bool
	fullPath bool
	title    string
	stats    *Stats
}

type renderFunc func(*renderConfig)

func (f renderFunc) applyRender(c *renderConfig) { f(c) }

// Color turns ANSI colors on or off in [WriteText] (default off; the
// vitals command turns them on only when stdout is a terminal).
func Color(on bool) RenderOption { return renderFunc(func(c *renderConfig) { c.color = on }) }

// FullPaths keeps file paths as printed; by default the GOROOT prefix and
// the module cache prefix (…/pkg/mod/) are trimmed.
func FullPaths() RenderOption { return renderFunc(func(c *renderConfig) { c.fullPath = true }) }

// WithStats makes [WriteText], [WriteJSON] and [WriteHTML] report what the
// parse could not read (from [Scanner.Stats], [Dump.Stats] or
// [GroupReaderStats]): a warning line per problem in text and HTML, a
// "stats" object in JSON.
func WithStats(st Stats) RenderOption {
	return renderFunc(func(c *renderConfig) { c.stats = &st })
}

// Title sets the heading of [WriteHTML] output.
func Title(s string) RenderOption { return renderFunc(func(c *renderConfig) { c.title = s }) }

func newRenderConfig(opts []RenderOption) renderConfig {
	c := renderConfig{title: "goroutines"}
	for _, o := range opts {
		if o != nil {
			o.applyRender(&c)
		}
	}
	return c
}

// pathTrimmer shortens file paths: GOROOT (found from the runtime's own
// frames, so it works for dumps from other machines) and the module cache.
type pathTrimmer struct{ goroot string }

func newPathTrimmer(groups []*Group) pathTrimmer {
	// The standard library's frames give GOROOT away: their package path
	// has no dot in its first element and their file sits under …/src/.
	for _, g := range groups {
		for _, f := range g.Frames {
			first, _, _ := strings.Cut(f.Pkg, "/")
			if f.Pkg == "" || f.Pkg == "main" || strings.Contains(first, ".") {
				continue
			}
			if i := strings.LastIndex(f.File, "/src/"); i >= 0 && !strings.Contains(f.File, "/pkg/mod/") {
				return pathTrimmer{goroot: f.File[:i+len("/src/")]}
			}
		}
	}
	return pathTrimmer{}
}

func (p pathTrimmer) trim(file string) string {
	if p.goroot != "" && strings.HasPrefix(file, p.goroot) {
		return file[len(p.goroot):]
	}
	if i := strings.LastIndex(file, "/pkg/mod/"); i >= 0 {
		return file[i+len("/pkg/mod/"):]
	}
	return file
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

// stateText is "chan receive ×3, select ×1, 2–5 minutes".
func stateText(g *Group) string {
	keys := make([]string, 0, len(g.States))
	for k := range g.States {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if g.States[keys[i]] != g.States[keys[j]] {
			return g.States[keys[i]] > g.States[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if k == "" {
			k = "?"
		}
		b.WriteString(termSafe(k))
		if len(keys) > 1 {
			fmt.Fprintf(&b, " ×%d", g.States[k])
		}
	}
	switch {
	case g.MaxWait == 0:
	case g.MinWait == g.MaxWait:
		fmt.Fprintf(&b, ", %d minutes", g.MaxWait)
	default:
		fmt.Fprintf(&b, ", %d–%d minutes", g.MinWait, g.MaxWait)
	}
	if g.Leaked > 0 {
		fmt.Fprintf(&b, ", %d leaked", g.Leaked)
	}
	if g.Locked > 0 {
		fmt.Fprintf(&b, ", %d locked to thread", g.Locked)
	}
	return b.String()
}

func idsText(g *Group) string {
	if len(g.IDs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("goroutine")
	if g.Count > 1 {
		b.WriteString("s")
	}
	for _, id := range g.IDs {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(id, 10))
	}
	if len(g.IDs) < g.Count {
		b.WriteString(" …")
	}
	return b.String()
}

// frameLines returns the call and location columns of a group's stack.
func frameLines(g *Group, pt pathTrimmer, full bool) (calls, locs []string) {
	loc := func(f *Frame) string {
		if f.File == "" {
			if f.PC != 0 {
				return fmt.Sprintf("pc=%#x", f.PC)
			}
			return ""
		}
		file := f.File
		if !full {
			file = pt.trim(file)
		}
		return termSafe(file) + ":" + strconv.Itoa(f.Line)
	}
	for i := range g.Frames {
		f := &g.Frames[i]
		if g.Elided > 0 && i == g.ElidedAt {
			calls = append(calls, fmt.Sprintf("…%d frames elided…", g.Elided))
			locs = append(locs, "")
		}
		c := termSafe(f.Func)
		if !f.NoArgs {
			c += "(" + termSafe(f.Args) + ")"
		}
		calls = append(calls, c)
		locs = append(locs, loc(f))
	}
	if g.Elided < 0 {
		calls = append(calls, "…additional frames elided…")
		locs = append(locs, "")
	}
	if g.CreatedBy != nil {
		calls = append(calls, "created by "+termSafe(g.CreatedBy.Func))
		locs = append(locs, loc(g.CreatedBy))
	}
	return calls, locs
}

// WriteText writes groups as aligned text, most frequent first: a heading
// per group (count, states, wait range, IDs) and its stack, call and
// location in two columns. With [WithStats], a warning line follows the
// heading for each thing the parse could not read. Every string from the
// dump is escaped for a terminal: control characters (ESC, BEL, NUL, …),
// bidirectional overrides and invalid UTF-8 are written as \xNN or
// \uNNNN, so a hostile dump cannot move the cursor, retitle the window or
// reorder what is shown. Cost: one pass, buffered writes.
func WriteText(w io.Writer, groups []*Group, opts ...RenderOption) error {
	c := newRenderConfig(opts)
	pt := newPathTrimmer(groups)
	bw := bufio.NewWriterSize(w, 32<<10)
	col := func(code, s string) string {
		if !c.color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	total := 0
	for _, g := range groups {
		total += g.Count
	}
	fmt.Fprintf(bw, "%d goroutines in %d groups\n", total, len(groups))
	if c.stats != nil {
		for _, p := range c.stats.Problems() {
			fmt.Fprintf(bw, "%s %s\n", col(ansiRed, "warning:"), termSafe(p))
		}
	}
	for _, g := range groups {
		bw.WriteByte('\n')
		fmt.Fprintf(bw, "%s %s", col(ansiBold, strconv.Itoa(g.Count)), col(ansiGreen, stateText(g)))
		if ids := idsText(g); ids != "" {
			bw.WriteString("  ")
			bw.WriteString(col(ansiDim, "["+ids+"]"))
		}
		if len(g.Labels) > 0 {
			bw.WriteString("  ")
			bw.WriteString(col(ansiDim, "labels "+headerLabels(g.Labels, false)))
		}
		bw.WriteByte('\n')
		calls, locs := frameLines(g, pt, c.fullPath)
		width := 0
		for _, s := range calls {
			width = max(width, len([]rune(s)))
		}
		width = min(width, 100)
		for i, s := range calls {
			pad := max(width-len([]rune(s)), 0) + 2
			bw.WriteString("    ")
			if strings.HasPrefix(s, "created by ") || strings.HasPrefix(s, "…") {
				bw.WriteString(col(ansiDim, s))
			} else {
				bw.WriteString(col(ansiCyan, s))
			}
			if locs[i] != "" {
				bw.WriteString(strings.Repeat(" ", pad))
				bw.WriteString(locs[i])
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteDeltaText writes a [Delta] as text: appeared and grown groups
// first (the leak suspects), then shrunk and vanished ones.
func WriteDeltaText(w io.Writer, d Delta, opts ...RenderOption) error {
	c := newRenderConfig(opts)
	var all []*Group
	for _, cs := range [][]*GroupChange{d.Appeared, d.Grew, d.Shrank, d.Vanished} {
		for _, ch := range cs {
			all = append(all, ch.Group)
		}
	}
	pt := newPathTrimmer(all)
	bw := bufio.NewWriterSize(w, 32<<10)
	section := func(name, code string, cs []*GroupChange) {
		fmt.Fprintf(bw, "%s: %d groups\n", name, len(cs))
		for _, ch := range cs {
			delta := fmt.Sprintf("%+d", ch.After-ch.Before)
			if c.color {
				delta = code + delta + ansiReset
			}
			fmt.Fprintf(bw, "  %s (%d → %d) %s\n", delta, ch.Before, ch.After, stateText(ch.Group))
			calls, locs := frameLines(ch.Group, pt, c.fullPath)
			for i := range calls {
				if locs[i] != "" {
					fmt.Fprintf(bw, "      %s  %s\n", calls[i], locs[i])
				} else {
					fmt.Fprintf(bw, "      %s\n", calls[i])
				}
			}
		}
	}
	section("appeared", ansiRed, d.Appeared)
	section("grew", ansiRed, d.Grew)
	section("shrank", ansiGreen, d.Shrank)
	section("vanished", ansiGreen, d.Vanished)
	return bw.Flush()
}

// SchemaGroups and SchemaDelta name the JSON documents [WriteJSON] and
// [WriteDeltaJSON] write; they change only when a field changes meaning
// or goes away (added fields keep the name).
const (
	SchemaGroups = "vitals.stacks.groups/v1"
	SchemaDelta  = "vitals.stacks.delta/v1"
)

// GroupsDoc is the JSON document of [WriteJSON]:
//
//	{
//	  "schema": "vitals.stacks.groups/v1",
//	  "goroutines": 123,            // total goroutines in all groups
//	  "groups": [                   // largest first
//	    {
//	      "count": 5,
//	      "states": {"chan receive": 5},
//	      "min_wait_minutes": 0, "max_wait_minutes": 3,
//	      "ids": [18, 19],           // the first few goroutine IDs
//	      "frames": [{"func": "main.worker", "pkg": "main", "file": "/app/main.go",
//	                  "line": 20, "offset": 37, "args": "0xc000010000"}],
//	      "created_by": {"func": "main.main", "file": "/app/main.go", "line": 9},
//	      "key": "12345678901234567890", // stable group key, a decimal string
//	      "leaked": 0, "locked": 0, "labels": {"k": "v"}, "elided": 0
//	    }
//	  ]
//	}
//
// Frame fields are those of [Frame]; empty ones are omitted.
type GroupsDoc struct {
	Schema     string   `json:"schema"`
	Goroutines int      `json:"goroutines"`
	Groups     []*Group `json:"groups"`
	// Stats is present when the document was written with [WithStats];
	// Problems repeats [Stats.Problems] as sentences.
	Stats    *Stats   `json:"stats,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// DeltaDoc is the JSON document of [WriteDeltaJSON]: the schema name and
// the fields of [Delta], each change holding "group", "before", "after".
type DeltaDoc struct {
	Schema string `json:"schema"`
	Delta
}

// WriteJSON writes groups as a [GroupsDoc], indented. Of the options only
// [WithStats] matters here.
func WriteJSON(w io.Writer, groups []*Group, opts ...RenderOption) error {
	c := newRenderConfig(opts)
	total := 0
	for _, g := range groups {
		total += g.Count
	}
	if groups == nil {
		groups = []*Group{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	doc := GroupsDoc{Schema: SchemaGroups, Goroutines: total, Groups: groups, Stats: c.stats}
	if c.stats != nil {
		doc.Problems = c.stats.Problems()
	}
	return enc.Encode(doc)
}

// WriteDeltaJSON writes d as a [DeltaDoc], indented.
func WriteDeltaJSON(w io.Writer, d Delta) error {
	for _, p := range []*[]*GroupChange{&d.Appeared, &d.Grew, &d.Shrank, &d.Vanished} {
		if *p == nil {
			*p = []*GroupChange{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(DeltaDoc{Schema: SchemaDelta, Delta: d})
}
