package leak

import (
	"slices"
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
