package gctrace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

// severalRuns is three real captures one after another, as a log that
// collects several runs of a program (or a parent and its Go children)
// holds them: the gc numbers start over twice.
func severalRuns(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, name := range []string{"alloc", "leak", "memlimit"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.Bytes()
}

// TestSeveralRuns: each run keeps its own points (none merges two runs),
// runs follow the input order, and the text table says the run of each row
// and stays in input order.
func TestSeveralRuns(t *testing.T) {
	for _, maxPoints := range []int{1024, 16} {
		s, err := Summarize(bytes.NewReader(severalRuns(t)), WithMaxPoints(maxPoints))
		if err != nil {
			t.Fatal(err)
		}
		if s.Restarts != 2 {
			t.Fatalf("Restarts = %d, want 2", s.Restarts)
		}
		seen := map[int]int{}
		for i, p := range s.Points {
			seen[p.Run] += p.Cycles
			if i > 0 {
				prev := s.Points[i-1]
				if p.Run < prev.Run || p.Run > prev.Run+1 {
					t.Errorf("maxPoints %d: point %d of run %d follows run %d", maxPoints, i, p.Run, prev.Run)
				}
				if p.Run == prev.Run && p.At < prev.At {
					t.Errorf("maxPoints %d: run %d goes back in time at point %d", maxPoints, p.Run, i)
				}
			}
		}
		if len(seen) != 3 || seen[0]+seen[1]+seen[2] != int(s.Cycles) {
			t.Errorf("maxPoints %d: cycles per run %v, total %d", maxPoints, seen, s.Cycles)
		}
	}

	s, err := Summarize(bytes.NewReader(severalRuns(t)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	table := out.String()[strings.Index(out.String(), " run      time"):]
	last := 0
	for _, line := range strings.Split(table, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 {
			break
		}
		run := int(f[0][0] - '0')
		if run < last {
			t.Errorf("table goes back from run %d to %d: %q", last, run, line)
		}
		last = run
	}
	if last != 3 {
		t.Errorf("the table's last row is of run %d, want 3:\n%s", last, table)
	}
	goldenfile.Check(t, filepath.Join("testdata", "golden", "several-runs.txt"), out.Bytes())
}

// TestManyRuns bounds the point series when runs outnumber the points
// allowed: one-cycle runs are merged across runs rather than kept.
func TestManyRuns(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "leak.txt"))
	if err != nil {
		t.Fatal(err)
	}
	first := string(data[:bytes.IndexByte(data, '\n')+1])
	if !strings.HasPrefix(first, "gc 1 ") {
		t.Fatalf("leak.txt starts %q", first)
	}
	s, err := Summarize(strings.NewReader(strings.Repeat(first, 5000)), WithMaxPoints(64))
	if err != nil {
		t.Fatal(err)
	}
	if s.Restarts != 4999 || len(s.Points) > 64 {
		t.Errorf("Restarts %d, %d points; want 4999 and at most 64", s.Restarts, len(s.Points))
	}
}
