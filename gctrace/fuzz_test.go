package gctrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// addCorpus seeds f with the captured corpus, whole and line by line.
func addCorpus(f *testing.F, whole bool) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if whole {
			f.Add(b)
		}
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i < 8 {
				f.Add(l)
			}
		}
	}
}

// FuzzReader checks that no input makes the Reader or the Summarizer panic,
// that every line is accounted for, and that input without trace lines
// passes through byte for byte.
func FuzzReader(f *testing.F) {
	addCorpus(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		var pass bytes.Buffer
		r := NewReader(bytes.NewReader(data), WithPassthrough(&pass))
		z := NewSummarizer(WithMaxPoints(16))
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			onlyOwnPart(t, rec)
			z.Add(rec)
		}
		st := r.Stats()
		if st.Bytes != int64(len(data)) {
			t.Errorf("Bytes = %d, want %d", st.Bytes, len(data))
		}
		// A line is trace, other or malformed; an embedded gc line is
		// trace and other on one line.
		if got := st.Trace + st.Other + st.Malformed - st.Embedded; got != st.Lines {
			t.Errorf("trace+other+malformed-embedded = %d, lines = %d (%+v)", got, st.Lines, st)
		}
		if pass.Len() > len(data) {
			t.Errorf("passthrough wrote %d bytes for %d of input", pass.Len(), len(data))
		}
		if st.Trace == 0 && !bytes.Equal(pass.Bytes(), data) {
			t.Errorf("no trace lines, but passthrough differs from input:\n%q\n%q", pass.Bytes(), data)
		}
		s := z.Summary()
		s.Input = st
		if len(s.Points) > 16 {
			t.Errorf("%d points, want at most 16", len(s.Points))
		}
		if err := s.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON: %s", js)
		}
	})
}

// onlyOwnPart checks that a record carries only its kind's part.
func onlyOwnPart(t *testing.T, rec Record) {
	t.Helper()
	hasCycle, hasScav, hasScan := rec.Cycle != (Cycle{}), rec.Scav != (Scav{}), rec.Scan != (Scan{})
	ok := false
	switch rec.Kind {
	case KindGC:
		ok = !hasScav && !hasScan
	case KindScav, KindScvg:
		ok = !hasCycle && !hasScan
	case KindScan:
		ok = !hasCycle && !hasScav
	case KindForced:
		ok = !hasCycle && !hasScav && !hasScan
	}
	if !ok {
		t.Errorf("record of kind %v carries other parts: %+v", rec.Kind, rec)
	}
}

// FuzzGCLine checks the parser against a formatter that prints a Cycle the
// way the runtime does: whatever the parser accepts, printed again, must
// parse to the same values.
func FuzzGCLine(f *testing.F) {
	addCorpus(f, false)
	f.Fuzz(func(t *testing.T, line []byte) {
		var c Cycle
		if !parseGC(line, &c) {
			return
		}
		once := formatGC(&c)
		var c2 Cycle
		if !parseGC([]byte(once), &c2) {
			t.Fatalf("runtime-formatted line does not parse:\n%s\nfrom %q", once, line)
		}
		var c3 Cycle
		if !parseGC([]byte(formatGC(&c2)), &c3) {
			t.Fatalf("second round does not parse: %s", formatGC(&c2))
		}
		if d := cmp.Diff(c2, c3); d != "" {
			t.Errorf("format/parse not stable (-first +second):\n%s", d)
		}
	})
}

// formatGC prints c the way runtime.gcMarkTermination does.
func formatGC(c *Cycle) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gc %d @%ss %d%%", c.Num, fmtDiv(uint64(c.At/time.Millisecond), 3), c.CPUPercent)
	if c.CheckingLeaks {
		b.WriteString(" (checking for goroutine leaks)")
	}
	fmt.Fprintf(&b, ": %s+%s+%s ms clock, ", fmtMS(c.SweepTerm), fmtMS(c.Mark), fmtMS(c.MarkTerm))
	fmt.Fprintf(&b, "%s+%s/%s/%s+%s ms cpu, ", fmtMS(c.SweepTermCPU), fmtMS(c.AssistCPU), fmtMS(c.BackgroundCPU), fmtMS(c.IdleCPU), fmtMS(c.MarkTermCPU))
	fmt.Fprintf(&b, "%d->%d->%d MB, %d MB goal, ", c.HeapStart>>20, c.HeapEnd>>20, c.HeapLive>>20, c.HeapGoal>>20)
	if c.HasScanSizes {
		fmt.Fprintf(&b, "%d MB stacks, %d MB globals, ", c.Stacks>>20, c.Globals>>20)
	}
	fmt.Fprintf(&b, "%d P", c.Procs)
	if c.Forced {
		b.WriteString(" (forced)")
	}
	return b.String()
}

// fmtDiv prints v/10^dec with exactly dec decimals.
func fmtDiv(v uint64, dec int) string {
	s := fmt.Sprint(v)
	if dec == 0 {
		return s
	}
	for len(s) <= dec {
		s = "0" + s
	}
	return s[:len(s)-dec] + "." + s[len(s)-dec:]
}

// fmtMS prints like the runtime's fmtNSAsMS: whole ms from 10 ms, else two
// significant digits with at most three decimals.
func fmtMS(d time.Duration) string {
	ns := uint64(d)
	if ns >= 10e6 {
		return fmtDiv(ns/1e6, 0)
	}
	x := ns / 1e3
	if x == 0 {
		return "0"
	}
	dec := 3
	for x >= 100 {
		x /= 10
		dec--
	}
	return fmtDiv(x, dec)
}

func TestFormatGCMatchesCorpus(t *testing.T) {
	// The test formatter must reproduce real lines exactly, or FuzzGCLine
	// proves nothing.
	b, err := os.ReadFile(filepath.Join("testdata", "alloc.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c Cycle
		if !parseGC([]byte(l), &c) {
			continue
		}
		n++
		if got := formatGC(&c); got != l {
			t.Errorf("formatGC:\n got %s\nwant %s", got, l)
		}
	}
	if n == 0 {
		t.Fatal("no gc lines in alloc.txt")
	}
}
