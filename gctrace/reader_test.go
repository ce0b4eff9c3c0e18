package gctrace

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

const (
	gc1 = "gc 1 @0.000s 19%: 0.39+0.19+0.005 ms clock, 0.78+0.13/0/0+0.010 ms cpu, 3->4->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P"
	gc2 = "gc 2 @0.001s 18%: 0.082+0.14+0.001 ms clock, 0.16+0.097/0/0+0.003 ms cpu, 7->7->7 MB, 7 MB goal, 0 MB stacks, 0 MB globals, 2 P"
	gc3 = "gc 3 @120.003s 13%: 0.078+0.22+0.001 ms clock, 0.15+0.12/0/0+0.002 ms cpu, 14->15->15 MB, 15 MB goal, 0 MB stacks, 0 MB globals, 2 P"
)

// readAll drains r and returns the kinds of its records.
func readAll(t *testing.T, r *Reader) []Record {
	t.Helper()
	var recs []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

func TestReaderPassthrough(t *testing.T) {
	long := strings.Repeat("x", 3*maxLine+17) + "\n"
	tests := []struct {
		name      string
		in        string
		wantPass  string
		wantKinds []Kind
		wantStats Stats
	}{
		{
			name:      "mixed",
			in:        "starting\n" + gc1 + "\nlog line\n" + gc2 + "\n",
			wantPass:  "starting\nlog line\n",
			wantKinds: []Kind{KindGC, KindGC},
			wantStats: Stats{Lines: 4, Trace: 2, Other: 2},
		},
		{
			name:      "embedded after text without newline",
			in:        "progress " + gc1 + "\ndone\n",
			wantPass:  "progress done\n",
			wantKinds: []Kind{KindGC},
			wantStats: Stats{Lines: 2, Trace: 1, Other: 2, Embedded: 1},
		},
		{
			name:      "crlf and final line without newline",
			in:        "a\r\n" + gc1 + "\r\n" + gc2,
			wantPass:  "a\r\n",
			wantKinds: []Kind{KindGC, KindGC},
			wantStats: Stats{Lines: 3, Trace: 2, Other: 1},
		},
		{
			name:      "malformed passes through",
			in:        gc1[:40] + "\n" + gc2 + "\n",
			wantPass:  gc1[:40] + "\n",
			wantKinds: []Kind{KindGC},
			wantStats: Stats{Lines: 2, Trace: 1, Malformed: 1},
		},
		{
			name:      "gc line split by a log line",
			in:        gc1[:13] + "worker: done\n" + gc1[13:] + "\n" + gc2[:18] + "x\n" + gc2[18:] + "\nend\n",
			wantPass:  "worker: done\nx\nend\n",
			wantKinds: []Kind{KindGC, KindGC},
			wantStats: Stats{Lines: 5, Trace: 2, Other: 3, Repaired: 2},
		},
		{
			name:      "gc line split by two log lines, right after gc",
			in:        "gc child: 1\nchild: 2\n" + gc1[3:] + "\ngc 2 @child: 3\n" + gc2[6:] + "\n",
			wantPass:  "child: 1\nchild: 2\nchild: 3\n",
			wantKinds: []Kind{KindGC, KindGC},
			wantStats: Stats{Lines: 5, Trace: 2, Other: 3, Repaired: 2},
		},
		{
			// Captured from a real run: two program lines inside one gc
			// line, the second after the time's digits.
			name:      "gc line split twice",
			in:        "gc 24 @child: 180000\n0.097child: 182000\ns 3%: 0.12+0.46+0.002 ms clock, 0.24+0/0.088/0.12+0.004 ms cpu, 16->17->6 MB, 19 MB goal, 0 MB stacks, 0 MB globals, 2 P\n",
			wantPass:  "child: 180000\nchild: 182000\n",
			wantKinds: []Kind{KindGC},
			wantStats: Stats{Lines: 3, Trace: 1, Other: 2, Repaired: 1},
		},
		{
			// The program's line starts with digits: the number printed
			// by the runtime is one write, so it cannot go on after them.
			name:      "program line starting with digits",
			in:        "gc 7 @0.5 items\n" + "0.120s 1%: 0.018+1.1+0.020 ms clock, 0.14+0.10/1.9/3.4+0.16 ms cpu, 4->4->1 MB, 5 MB goal, 8 P\n",
			wantPass:  "0.5 items\n",
			wantKinds: []Kind{KindGC},
			wantStats: Stats{Lines: 2, Trace: 1, Other: 1, Repaired: 1},
		},
		{
			name:      "program line starting with gc",
			in:        "gc settings: default\nscan: 3 files\n",
			wantPass:  "gc settings: default\nscan: 3 files\n",
			wantStats: Stats{Lines: 2, Other: 2},
		},
		{
			name:      "damaged line not repairable",
			in:        gc1[:30] + "\nnext\n" + gc1[:30],
			wantPass:  gc1[:30] + "\nnext\n" + gc1[:30],
			wantStats: Stats{Lines: 3, Other: 1, Malformed: 2},
		},
		{
			name:      "line longer than the buffer",
			in:        gc1 + "\n" + long + gc2 + "\n",
			wantPass:  long,
			wantKinds: []Kind{KindGC, KindGC},
			wantStats: Stats{Lines: 3, Trace: 2, Other: 1},
		},
		{
			name:      "long last line without newline",
			in:        gc1 + "\n" + long[:len(long)-1],
			wantPass:  long[:len(long)-1],
			wantKinds: []Kind{KindGC},
			wantStats: Stats{Lines: 2, Trace: 1, Other: 1},
		},
		{
			name:      "periodic GC",
			in:        gc1 + "\nGC forced\n" + gc3 + "\n",
			wantKinds: []Kind{KindGC, KindForced, KindGC},
			wantStats: Stats{Lines: 3, Trace: 3},
		},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pass bytes.Buffer
			// OneByteReader makes every line arrive in pieces.
			r := NewReader(iotest.OneByteReader(strings.NewReader(tt.in)), WithPassthrough(&pass))
			recs := readAll(t, r)
			var kinds []Kind
			for _, rec := range recs {
				kinds = append(kinds, rec.Kind)
			}
			if d := cmp.Diff(tt.wantKinds, kinds); d != "" {
				t.Errorf("kinds (-want +got):\n%s", d)
			}
			if got := pass.String(); got != tt.wantPass {
				t.Errorf("passthrough = %.200q, want %.200q", got, tt.wantPass)
			}
			want := tt.wantStats
			want.Bytes = int64(len(tt.in))
			if d := cmp.Diff(want, r.Stats()); d != "" {
				t.Errorf("stats (-want +got):\n%s", d)
			}
			if tt.name == "periodic GC" {
				if recs[0].Cycle.Periodic || !recs[2].Cycle.Periodic {
					t.Errorf("Periodic = %v, %v; want false, true", recs[0].Cycle.Periodic, recs[2].Cycle.Periodic)
				}
				if recs[2].Line != 3 {
					t.Errorf("Line = %d, want 3", recs[2].Line)
				}
			}
		})
	}
}

func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader(gc1+"\n"), iotest.ErrReader(boom)))
	if rec, err := r.Next(); err != nil || rec.Cycle.Num != 1 {
		t.Fatalf("Next = %v, %v; want cycle 1", rec.Cycle.Num, err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "gctrace: read: ") {
			t.Fatalf("Next error = %v, want wrapped boom", err)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("closed")
}

func TestReaderPassthroughErrorKeepsReading(t *testing.T) {
	w := &failWriter{}
	r := NewReader(strings.NewReader("a\nb\n"+gc1+"\nc\n"+gc2+"\n"), WithPassthrough(w))
	if got := len(readAll(t, r)); got != 2 {
		t.Errorf("records = %d, want 2", got)
	}
	if w.n != 1 {
		t.Errorf("writes after the first error: %d, want none", w.n-1)
	}
	if err := r.PassthroughErr(); err == nil || !strings.Contains(err.Error(), "gctrace: passthrough: closed") {
		t.Errorf("PassthroughErr = %v", err)
	}
}
