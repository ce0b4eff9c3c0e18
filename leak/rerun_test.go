package leak

import (
	"slices"
	"strings"
	"testing"

	"github.com/govitals/vitals/stacks"
)

func TestRerunArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
		ok   bool
	}{
		{"go test's flags kept", []string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.count=1", "-test.run=^TestA$", "-test.v=test2json"},
			[]string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.count=1", "-test.run=^TestA$", "-test.v=test2json"}, true},
		{"output files dropped", []string{"-test.coverprofile=/tmp/c.out", "-test.testlogfile=/tmp/log", "-test.cpuprofile", "cpu.out", "-test.short", "-test.gocoverdir=/tmp/cov"},
			[]string{"-test.short"}, true},
		{"user arguments kept", []string{"-test.run=X", "-flag", "v"}, []string{"-test.run=X", "-flag", "v"}, true},
		{"fuzzing is not repeated", []string{"-test.fuzz=FuzzX"}, nil, false},
		{"nor a fuzz worker", []string{"-test.fuzzworker"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rerunArgs(tt.args)
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("rerunArgs(%q) = %q, %v; want %q, %v", tt.args, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	fr := func(fn string) stacks.Frame {
		pkg := "example.com/p"
		return stacks.Frame{Func: fn, Pkg: pkg}
	}
	tests := []struct {
		name      string
		createdBy string
		ancestors [][]string
		want      string
	}{
		{"init function", "example.com/p.init.0", nil, originInit},
		{"package variable", "example.com/p.init", nil, originInit},
		{"TestMain", "example.com/p.TestMain", nil, originTestMain},
		{"TestMain closure", "example.com/p.TestMain.func1", nil, originTestMain},
		{"helper called by TestMain, from its ancestors", "example.com/p.start", [][]string{{"example.com/p.start", "example.com/p.TestMain"}}, originTestMain},
		{"helper called by init, from its ancestors", "example.com/p.start", [][]string{{"example.com/p.start", "example.com/p.init.1"}}, originInit},
		{"initialize is not init", "example.com/p.initialize", nil, ""},
		{"a plain helper", "example.com/p.start", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := fr(tt.createdBy)
			g := &stacks.Goroutine{CreatedBy: &cb}
			for _, a := range tt.ancestors {
				var fs []stacks.Frame
				for _, f := range a {
					fs = append(fs, fr(f))
				}
				g.Ancestors = append(g.Ancestors, stacks.Ancestor{Frames: fs})
			}
			if got := originOf(g); got != tt.want {
				t.Errorf("originOf = %q, want %q", got, tt.want)
			}
		})
	}
	if _, ok := testName(fr("example.com/p.TestMain")); ok {
		t.Error("TestMain taken for a test")
	}
}

func TestAttributeFromRerun(t *testing.T) {
	frame := func(fn string) stacks.Frame {
		return stacks.Frame{Func: "example.com/p." + fn, Pkg: "example.com/p", File: "/p/p_test.go", Line: len(fn)}
	}
	group := func(fn string, n int) *Group {
		cb := frame("start" + fn)
		return &Group{Group: &stacks.Group{Count: n, Frames: []stacks.Frame{frame(fn)}, CreatedBy: &cb}}
	}
	key := func(g *Group) string { return stackKey(g.Frames, g.CreatedBy) }
	one, shared, gone, singleton, fromInit, known := group("one", 1), group("shared", 2), group("gone", 1), group("singleton", 1), group("init", 1), group("known", 1)
	known.Test = "TestKnown"
	e := &Error{Groups: []*Group{one, shared, gone, singleton, fromInit, known}}
	res := rerunResult{Goroutines: []rerunEntry{
		{Key: key(one), Test: "TestOne", Via: "example.com/p.TestOne.func1"},
		{Key: key(shared), Test: "TestB"},
		{Key: key(shared), Test: "TestA"},
		{Key: key(shared), Test: "TestA"},
		{Key: key(singleton)},
		{Key: key(fromInit), Origin: originInit},
		{Key: "a stack the first run did not leak", Test: "TestOther"},
	}}
	reproduced, unknown, named := attribute(e, res)
	if reproduced != 5 || unknown != 6 || named != 3 {
		t.Errorf("reproduced %d of %d, named %d; want 5 of 6, named 3", reproduced, unknown, named)
	}
	e.explain()
	tests := []struct {
		g                  *Group
		test, via, unknown string
		rerun              bool
	}{
		{one, "TestOne", "example.com/p.TestOne.func1", "", true},
		{shared, "TestA, TestB", "", "", true},
		{gone, "", "", "the rerun did not leak it again", false},
		{singleton, "", "", "its creation chain passes through no test", false},
		{fromInit, "", "", "started during package initialization", false},
		{known, "TestKnown", "", "", false},
	}
	for _, tt := range tests {
		g := tt.g
		if g.Test != tt.test || g.Via != tt.via || g.Rerun != tt.rerun || !strings.HasPrefix(g.Unknown, tt.unknown) || (tt.unknown == "") != (g.Unknown == "") {
			t.Errorf("%s: Test %q Via %q Rerun %v Unknown %q; want %q %q %v %q…",
				g.Frames[0].Func, g.Test, g.Via, g.Rerun, g.Unknown, tt.test, tt.via, tt.rerun, tt.unknown)
		}
	}
}
