package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mkG(id uint64, state string, frames ...Frame) *Goroutine {
	return &Goroutine{ID: id, State: state, Frames: frames}
}

func TestGroupBySimilarity(t *testing.T) {
	a := Frame{Func: "main.a", File: "/x/a.go", Line: 10, Args: "0x1"}
	a2 := a
	a2.Args = "0x2"
	aL := a
	aL.Line = 11
	b := Frame{Func: "main.b", File: "/x/b.go", Line: 20}
	gs := []*Goroutine{
		mkG(1, "chan receive", a, b),
		mkG(2, "chan receive", a2, b),
		mkG(3, "chan receive", aL, b),
		mkG(4, "select", a, b),
	}
	tests := []struct {
		name string
		opts []GroupOption
		want []int
	}{
		{"default", nil, []int{2, 1, 1}},
		{"exact", []GroupOption{ExactArgs}, []int{1, 1, 1, 1}},
		{"lines", []GroupOption{IgnoreLines}, []int{3, 1}},
		{"lines+merge", []GroupOption{IgnoreLines, MergeStates()}, []int{4}},
		{"merge", []GroupOption{MergeStates()}, []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups := GroupBy(gs, tt.opts...)
			var got []int
			total := 0
			for _, g := range groups {
				got = append(got, g.Count)
				total += g.Count
				if len(g.IDs) != g.Count {
					t.Errorf("group %v has %d IDs", g.IDs, g.Count)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("counts %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("counts %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestGroupWaitAndIDs(t *testing.T) {
	f := Frame{Func: "main.a", File: "a.go", Line: 1}
	var gs []*Goroutine
	for i := 1; i <= 20; i++ {
		g := mkG(uint64(i), "select", f)
		g.WaitMinutes = i
		gs = append(gs, g)
	}
	groups := GroupBy(gs, MaxIDs(3))
	if len(groups) != 1 {
		t.Fatalf("%d groups", len(groups))
	}
	g := groups[0]
	if g.MinWait != 1 || g.MaxWait != 20 || len(g.IDs) != 3 || g.IDs[0] != 1 {
		t.Errorf("group: %+v", g)
	}
	if n := len(GroupBy(gs, WaitBuckets())); n != 2 {
		t.Errorf("WaitBuckets: %d groups, want 2 (1-9 and 10-59 minutes)", n)
	}
}

// TestGroupKeyStable checks that the scanner's precomputed hashes and the
// fallback for hand-built goroutines give the same key, so Diff can match
// groups from a parsed dump against groups built any other way.
func TestGroupKeyStable(t *testing.T) {
	d := parseFile(t, "pprof_debug2.txt")
	var copies []*Goroutine
	for _, g := range d.Goroutines {
		c := *g
		c.hs = nil
		copies = append(copies, &c)
	}
	a, b := GroupBy(d.Goroutines), GroupBy(copies)
	if len(a) != len(b) {
		t.Fatalf("%d vs %d groups", len(a), len(b))
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Count != b[i].Count {
			t.Errorf("group %d: key %x/%x count %d/%d", i, a[i].Key, b[i].Key, a[i].Count, b[i].Count)
		}
	}
	// The same program dumped by two processes groups to the same keys.
	other := parseFile(t, "stack_all.txt")
	keys := map[uint64]bool{}
	for _, g := range GroupBy(other.Goroutines) {
		keys[g.Key] = true
	}
	for _, g := range a {
		if g.Frames[0].Func == "main.worker" && !keys[g.Key] {
			t.Error("main.worker group key differs between two dumps of the same program")
		}
	}
}

func TestGroupReaderMatchesGroupBy(t *testing.T) {
	for _, name := range []string{"pprof_debug2.txt", "sigquit_crash.txt", "pprof_debug1.txt", "pprof_debug0.pb.gz", "ancestors.txt"} {
		d := parseFile(t, name)
		want := GroupBy(d.Goroutines)
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := GroupReader(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d groups, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i].Key != want[i].Key || got[i].Count != want[i].Count || got[i].Frames[0].Args != want[i].Frames[0].Args {
				t.Errorf("%s group %d differs", name, i)
			}
		}
	}
}

func TestDiff(t *testing.T) {
	f := func(fn string) Frame { return Frame{Func: fn, File: fn + ".go", Line: 1} }
	var old, cur []*Goroutine
	add := func(list *[]*Goroutine, fn string, n int) {
		for i := 0; i < n; i++ {
			*list = append(*list, mkG(uint64(len(*list)+1), "chan receive", f(fn)))
		}
	}
	add(&old, "steady", 3)
	add(&old, "grows", 1)
	add(&old, "shrinks", 5)
	add(&old, "vanishes", 2)
	add(&cur, "steady", 3)
	add(&cur, "grows", 10)
	add(&cur, "shrinks", 1)
	add(&cur, "appears", 4)
	d := Diff(GroupBy(old), GroupBy(cur))
	check := func(name string, cs []*GroupChange, fn string, before, after int) {
		t.Helper()
		if len(cs) != 1 || cs[0].Group.Frames[0].Func != fn || cs[0].Before != before || cs[0].After != after {
			t.Errorf("%s = %+v, want %s %d->%d", name, cs, fn, before, after)
		}
	}
	check("Appeared", d.Appeared, "appears", 0, 4)
	check("Grew", d.Grew, "grows", 1, 10)
	check("Shrank", d.Shrank, "shrinks", 5, 1)
	check("Vanished", d.Vanished, "vanishes", 2, 0)
}

func TestCurrent(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	for i := 0; i < 3; i++ {
		go func() { <-block }()
	}
	// A goroutine that has not reached the receive yet is runnable, and the
	// state is part of the group key: poll until all three are parked.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := Current()
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, g := range GroupBy(d.Goroutines) {
			for _, f := range g.Frames {
				if strings.HasPrefix(f.Func, "github.com/govitals/vitals/stacks.TestCurrent.func") && g.Count >= 3 {
					found++
				}
			}
		}
		if found == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 3 blocked goroutines are not one group of Current()")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
