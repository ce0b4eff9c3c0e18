package leak

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/govitals/vitals/stacks"
)

// blame names the test a goroutine is attributed to.
type blame struct {
	test string // "TestA/sub" when observed, "TestA" when derived from a function
	via  string // the function the derived blame rests on; "" when exact
	// origin says where a goroutine no test can be blamed for was
	// started (originInit, originTestMain); "" when unknown.
	origin string
}

// Origins of goroutines started outside any test.
const (
	originInit     = "init"
	originTestMain = "TestMain"
)

// maxChain bounds the walk up the parent chain.
const maxChain = 256

// blameOf walks g's "created by … in goroutine N" chain towards the test
// that started it: through live parents, names recorded by Check and
// VerifyNone, the test function called by testing.tRunner on a parent's
// stack, ancestor traces (GODEBUG=tracebackancestors=N), and, when the
// parent has exited, the creating function itself when it is a test.
func blameOf(g *stacks.Goroutine, byID map[uint64]*stacks.Goroutine, observedName func(uint64) (string, bool)) blame {
	if n := g.Labels[testLabel]; n != "" {
		return blame{test: n}
	}
	cur := g
	for range maxChain {
		if cur != g {
			if n, ok := observedName(cur.ID); ok {
				return blame{test: n}
			}
			if b, ok := testOnStack(cur.Frames); ok {
				return b
			}
		}
		for _, a := range cur.Ancestors {
			if n, ok := observedName(a.ID); ok {
				return blame{test: n}
			}
			if b, ok := testOnStack(a.Frames); ok {
				return b
			}
		}
		pid := cur.ParentID
		if pid == 0 {
			break
		}
		if n, ok := observedName(pid); ok {
			return blame{test: n}
		}
		if p, ok := byID[pid]; ok && p != cur {
			cur = p
			continue
		}
		if cur.CreatedBy != nil {
			if name, ok := testName(*cur.CreatedBy); ok {
				return blame{test: name, via: viaOf(*cur.CreatedBy, name)}
			}
		}
		break
	}
	// No chain (parents gone, no ancestors): the creating function may
	// still be a test even when an intermediate parent is alive.
	if g.CreatedBy != nil {
		if name, ok := testName(*g.CreatedBy); ok {
			return blame{test: name, via: viaOf(*g.CreatedBy, name)}
		}
	}
	return blame{origin: originOf(g)}
}

// originOf tells a goroutine started by package initialization or by
// TestMain from its creating function and ancestor traces, nearest first.
func originOf(g *stacks.Goroutine) string {
	if g.CreatedBy != nil {
		if o := frameOrigin(*g.CreatedBy); o != "" {
			return o
		}
	}
	for _, a := range g.Ancestors {
		for _, f := range a.Frames {
			if o := frameOrigin(f); o != "" {
				return o
			}
		}
	}
	return ""
}

// frameOrigin recognizes "pkg.init", "pkg.init.0", "pkg.init.0.func1"
// (init functions and package variable initializers) and "pkg.TestMain",
// "pkg.TestMain.func1".
func frameOrigin(f stacks.Frame) string {
	if f.Pkg == "runtime" || f.Pkg == "testing" || strings.HasPrefix(f.Func, "runtime.") {
		return ""
	}
	top, _, _ := strings.Cut(funcBase(f), ".")
	switch top {
	case "init":
		return originInit
	case "TestMain":
		return originTestMain
	}
	return ""
}

// testOnStack finds the function testing.tRunner called: the test.
func testOnStack(fs []stacks.Frame) (blame, bool) {
	for i := 1; i < len(fs); i++ {
		if fs[i].Func == "testing.tRunner" || fs[i].Func == "testing.fRunner" {
			if name, ok := testName(fs[i-1]); ok {
				return blame{test: name, via: viaOf(fs[i-1], name)}, true
			}
			return blame{}, false
		}
	}
	return blame{}, false
}

func viaOf(f stacks.Frame, name string) string {
	if base := funcBase(f); base != name {
		return f.Func
	}
	return ""
}

// runningTests returns the names of the tests whose goroutines are alive.
func runningTests(gs []*stacks.Goroutine, observedName func(uint64) (string, bool)) map[string]bool {
	m := map[string]bool{}
	for _, g := range gs {
		if n, ok := observedName(g.ID); ok {
			m[n] = true
			continue
		}
		if b, ok := testOnStack(g.Frames); ok {
			m[b.test] = true
		}
	}
	return m
}

// funcBase strips the package path: "example.com/p.TestA.func1" → "TestA.func1".
func funcBase(f stacks.Frame) string {
	s := f.Func
	if f.Pkg != "" && strings.HasPrefix(s, f.Pkg+".") {
		return s[len(f.Pkg)+1:]
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// testName returns the top-level test a function belongs to: "TestA" for
// "pkg.TestA", "pkg.TestA.func1.2"; ok is false for other functions.
func testName(f stacks.Frame) (string, bool) {
	base := funcBase(f)
	top, _, _ := strings.Cut(base, ".")
	if top == "TestMain" {
		return "", false // runs the tests; not one of them
	}
	for _, p := range [...]string{"Test", "Benchmark", "Fuzz", "Example"} {
		if !strings.HasPrefix(top, p) {
			continue
		}
		rest := top[len(p):]
		if rest == "" {
			return top, true
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsLower(r) {
			return top, true
		}
	}
	return "", false
}
