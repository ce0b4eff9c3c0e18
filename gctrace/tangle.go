package gctrace

import "slices"

// The runtime prints a gc line with one write per print argument ("gc ",
// the number, " @", the time, "s ", …), under a lock that only other runtime
// prints respect. A program that writes its own lines to standard error
// meanwhile can land them between any two arguments:
//
//	gc 24 @child: 180000
//	0.097child: 182000
//	s 3%: 0.12+0.46+0.002 ms clock, …
//
// Each line but the last then holds a fragment of the gc line followed by
// one whole program line. A tangle keeps such lines (a few, bounded) and
// looks for fragment lengths that join into a gc line; the rest of each line
// is the program's, passed on unchanged.

// Bounds on a tangle: lines held (the first, starting with "gc ", and the
// program lines after it), bytes held, and search steps per attempt.
const (
	maxTangleLines = 5
	maxTangleBytes = 2 << 10
	maxSteps       = 4096
)

type tangle struct {
	buf       []byte // the held lines, newlines included, back to back
	ends      []int  // end offset in buf of each held line
	malformed bool   // the first line starts like a gc line: "gc " and a digit
	join      []byte // the joined fragments being tried
	frag      []int  // fragment length chosen for each held line
	bounds    [][]int
	steps     int
}

func (t *tangle) active() bool { return len(t.ends) > 0 }

func (t *tangle) start(line []byte, malformed bool) {
	t.buf = append(t.buf[:0], line...)
	t.ends = append(t.ends[:0], len(line))
	t.malformed = malformed
}

// add holds one more line, if the bounds allow.
func (t *tangle) add(line []byte) bool {
	if len(t.ends) >= maxTangleLines || len(t.buf)+len(line) > maxTangleBytes {
		return false
	}
	t.buf = append(t.buf, line...)
	t.ends = append(t.ends, len(t.buf))
	return true
}

func (t *tangle) line(j int) []byte {
	start := 0
	if j > 0 {
		start = t.ends[j-1]
	}
	return t.buf[start:t.ends[j]]
}

func (t *tangle) reset() { t.ends = t.ends[:0] }

// solve looks for fragments of the held lines that, joined and followed by
// next, parse as a gc line. It prefers the shortest fragments, which leave
// the program's lines as long as possible. On success t.frag holds each
// line's fragment length.
func (t *tangle) solve(next []byte, c *Cycle) bool {
	n := len(t.ends)
	t.frag = append(t.frag[:0], make([]int, n)...)
	for len(t.bounds) < n {
		t.bounds = append(t.bounds, nil)
	}
	t.steps = 0
	t.join = t.join[:0]
	return t.dfs(0, next, c)
}

func (t *tangle) dfs(j int, next []byte, c *Cycle) bool {
	t.steps++
	if t.steps > maxSteps {
		return false
	}
	f := len(t.join)
	if j == len(t.ends) {
		if !joinable(t.join, next) {
			return false
		}
		t.join = append(t.join, next...)
		ok := parseGC(t.join, c)
		t.join = t.join[:f]
		return ok
	}
	line := t.line(j)
	body := trimEOL(line)
	t.join = append(t.join, body...)
	t.bounds[j] = gcBoundaries(t.join, f, t.bounds[j][:0])
	t.join = t.join[:f]
	for _, b := range t.bounds[j] {
		k := b - f
		if j == 0 && k < 3 {
			continue // the first line holds at least "gc "
		}
		if !joinable(t.join, body[:k]) {
			continue
		}
		t.join = append(t.join[:f], body[:k]...)
		t.frag[j] = k
		if t.dfs(j+1, next, c) {
			return true
		}
		t.join = t.join[:f]
	}
	return false
}

func isNum(b byte) bool { return b >= '0' && b <= '9' || b == '.' }

// joinable reports whether b may follow a, when a and b were printed by
// separate print calls: a number is one call, so a digit cannot end a and
// start b.
func joinable(a, b []byte) bool {
	return len(a) == 0 || len(b) == 0 || !isNum(a[len(a)-1]) || !isNum(b[0])
}

// A gc line is this sequence of print arguments. Tokens marked opt appear
// in some releases or cycles only.
type gcToken struct {
	lit string // a literal; empty for a number
	dec bool   // a number with a decimal point allowed
	opt int    // 0, or the optional group it belongs to
}

var gcTokens = []gcToken{
	{lit: "gc "}, {}, {lit: " @"}, {dec: true}, {lit: "s "}, {}, {lit: "%"},
	{lit: " (checking for goroutine leaks)", opt: 1},
	{lit: ": "}, {dec: true}, {lit: "+"}, {dec: true}, {lit: "+"}, {dec: true},
	{lit: " ms clock, "}, {dec: true}, {lit: "+"}, {dec: true}, {lit: "/"}, {dec: true},
	{lit: "/"}, {dec: true}, {lit: "+"}, {dec: true}, {lit: " ms cpu, "},
	{}, {lit: "->"}, {}, {lit: "->"}, {}, {lit: " MB, "}, {}, {lit: " MB goal, "},
	{opt: 2}, {lit: " MB stacks, ", opt: 2}, {opt: 2}, {lit: " MB globals, ", opt: 2},
	{}, {lit: " P"}, {lit: " (forced)", opt: 3},
}

// gcBoundaries appends to dst the offsets in s, from from on, where a
// print argument of a gc line could end, s being read as the start of a gc
// line. The offset from itself counts when from > 0 (callers ensure s[:from]
// ends at a boundary). Offsets where a number's run of digits ends come in
// the first group, shortest first; offsets inside a run (the program's line
// may begin with digits) come after them, being less likely.
func gcBoundaries(s []byte, from int, dst []int) []int {
	var inner []int
	add := func(list []int, b int) []int {
		if b < from || b > len(s) || slices.Contains(list, b) {
			return list
		}
		return append(list, b)
	}
	if from > 0 {
		dst = add(dst, from)
	}
	// Each combination of optional groups is one form of the line.
	for mask := 0; mask < 8; mask++ {
		i := 0
	tokens:
		for _, tk := range gcTokens {
			if tk.opt > 0 && mask&(1<<(tk.opt-1)) == 0 {
				continue
			}
			if tk.lit != "" {
				for k := 0; k < len(tk.lit); k++ {
					if i+k == len(s) || s[i+k] != tk.lit[k] {
						break tokens
					}
				}
				i += len(tk.lit)
				dst = add(dst, i)
				continue
			}
			start, dot := i, false
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || tk.dec && !dot && s[i] == '.' && i > start) {
				dot = dot || s[i] == '.'
				i++
			}
			if i == start || s[i-1] == '.' {
				break
			}
			dst = add(dst, i)
			for k := start + 1; k < i; k++ {
				if s[k-1] != '.' {
					inner = add(inner, k)
				}
			}
		}
	}
	// A run end found in one form may be inside a run in another.
	inner = slices.DeleteFunc(inner, func(b int) bool { return slices.Contains(dst, b) })
	slices.Sort(dst)
	slices.Sort(inner)
	return append(dst, inner...)
}
