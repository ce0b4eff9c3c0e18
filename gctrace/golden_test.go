package gctrace

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

// corpus lists the captured files (testdata/gen.go makes them) with what the
// program that printed them is known to have done, and the memory limit it
// ran with.
var corpus = []struct {
	name     string
	memLimit int64
	hints    []string // hint IDs that must be present
	check    func(t *testing.T, s *Summary)
}{
	{name: "alloc"},
	{
		name:  "forced",
		hints: []string{"forced-gc"},
		check: func(t *testing.T, s *Summary) {
			// The program calls runtime.GC 40 times and nothing else
			// allocates enough to trigger a cycle on its own.
			// 40 runtime.GC calls and one debug.FreeOSMemory, which
			// collects first.
			if s.Forced != 41 || s.Cycles != 41 {
				t.Errorf("Forced, Cycles = %d, %d; want 41, 41", s.Forced, s.Cycles)
			}
			if s.ScavLines == 0 || s.ScavForced != 1 {
				t.Errorf("ScavLines, ScavForced = %d, %d; want >0, 1 (debug.FreeOSMemory)", s.ScavLines, s.ScavForced)
			}
		},
	},
	{
		name:     "memlimit",
		memLimit: 64 << 20,
		hints:    []string{"heap-pinned"},
	},
	{
		name:     "gogcoff",
		memLimit: 48 << 20,
		check: func(t *testing.T, s *Summary) {
			if !slices.ContainsFunc(s.Hints, func(h Hint) bool { return h.ID == "goal-at-limit" || h.ID == "over-limit" }) {
				t.Errorf("no memory limit hint: %v", s.Hints)
			}
		},
	},
	{
		name:  "leak",
		hints: []string{"live-growth"},
	},
	{
		name: "mixed",
		check: func(t *testing.T, s *Summary) {
			if s.Input.Embedded == 0 {
				t.Errorf("no embedded gc line found after the program's \"progress \" writes")
			}
			// The capture has log lines written while the runtime was
			// in the middle of a gc line; they must be put back together.
			if s.Input.Repaired == 0 {
				t.Errorf("no gc line split by a log line was repaired")
			}
		},
	},
	{
		name: "gctrace2",
		check: func(t *testing.T, s *Summary) {
			if s.ScanLines <= s.Cycles {
				t.Errorf("ScanLines = %d, want more than one per cycle (%d)", s.ScanLines, s.Cycles)
			}
		},
	},
}

func TestGolden(t *testing.T) {
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", c.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Summarize(bytes.NewReader(in), WithMemoryLimit(c.memLimit))
			if err != nil {
				t.Fatal(err)
			}
			checkCorpus(t, in, s)
			for _, id := range c.hints {
				if !slices.ContainsFunc(s.Hints, func(h Hint) bool { return h.ID == id }) {
					t.Errorf("hint %q missing; hints: %v", id, s.Hints)
				}
			}
			if c.check != nil {
				c.check(t, s)
			}
			var text bytes.Buffer
			if err := s.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".txt", text.Bytes())
			golden(t, c.name+".json", append(js, '\n'))
		})
	}
}

// checkCorpus checks the summary against the raw text: every line that the
// runtime printed as a gc line is counted, numbers are consecutive, and the
// last line's number is the cycle count.
func checkCorpus(t *testing.T, in []byte, s *Summary) {
	t.Helper()
	var gcLines int64
	for _, l := range strings.Split(string(in), "\n") {
		// The end of the line: a line the program wrote while the
		// runtime printed may have split off the beginning.
		if strings.Contains(l, " MB goal, ") {
			gcLines++
		}
	}
	if s.Cycles != gcLines || s.Cycles == 0 {
		t.Errorf("Cycles = %d, text has %d gc lines", s.Cycles, gcLines)
	}
	if s.FirstCycle != 1 || s.LastCycle != uint64(s.Cycles) || s.Missing != 0 {
		t.Errorf("cycles %d–%d, %d missing; want 1–%d, none", s.FirstCycle, s.LastCycle, s.Missing, s.Cycles)
	}
	if s.Input.Malformed != 0 {
		t.Errorf("Malformed = %d", s.Input.Malformed)
	}
	if s.Input.Bytes != int64(len(in)) {
		t.Errorf("Bytes = %d, want %d", s.Input.Bytes, len(in))
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}
