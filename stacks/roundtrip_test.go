package stacks

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpDump = cmp.Options{cmpopts.IgnoreUnexported(Goroutine{}), cmpopts.IgnoreFields(Dump{}, "Stats"), cmpopts.EquateEmpty()}

// roundTrip writes d back in the runtime's format and parses it again.
func roundTrip(t testing.TB, d *Dump) *Dump {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDump(&buf, d); err != nil {
		t.Fatal(err)
	}
	d2, err := Parse(&buf)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, buf.String())
	}
	return d2
}

func fixtures(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"testdata/*.txt", "testdata/*.pb.gz"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 20 {
		t.Fatalf("only %d fixtures", len(out))
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := parseFile(t, filepath.Base(f))
			d2 := roundTrip(t, d)
			if d.Format == "proto" {
				d.Format = "debug=1"             // written back as a debug=1 profile,
				for _, g := range d.Goroutines { // which cannot mark inlined calls
					for i := range g.Frames {
						g.Frames[i].Inlined = false
					}
				}
			}
			if diff := cmp.Diff(d, d2, cmpDump); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range fixtures(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	matrix, _ := filepath.Glob("testdata/matrix/*.txt")
	for _, name := range matrix {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("goroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n"))
	for _, in := range fuzzFindings {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(bytes.NewReader(data))
		if d == nil {
			t.Fatal("nil dump")
		}
		// Nothing is dropped silently: every line that starts like a
		// goroutine header is a goroutine or is counted as unparsed.
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && d.Format != "debug=1" {
			if n := countHeaders(data); d.Stats.Goroutines+d.Stats.Unparsed != n {
				t.Fatalf("%d parsed + %d unparsed != %d header lines", d.Stats.Goroutines, d.Stats.Unparsed, n)
			}
		}
		if d.Stats.Goroutines != len(d.Goroutines) {
			t.Fatalf("Stats.Goroutines %d, %d goroutines", d.Stats.Goroutines, len(d.Goroutines))
		}
		if err != nil {
			return
		}
		// Grouping and rendering never fail on a parsed dump.
		gs := GroupBy(d.Goroutines)
		var sink strings.Builder
		if err := WriteText(&sink, gs); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&sink, gs); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&sink, gs); err != nil {
			t.Fatal(err)
		}
		if d.Format != "text" || d.Stats.DroppedFrames > 0 {
			return
		}
		d2 := roundTrip(t, d)
		if d2.Stats.Unparsed != 0 {
			t.Fatalf("WriteDump wrote a header Parse cannot read: %q", d2.Stats.UnparsedExamples)
		}
		if diff := cmp.Diff(d, d2, cmpDump); diff != "" {
			var buf bytes.Buffer
			WriteDump(&buf, d)
			t.Fatalf("round trip (-want +got):\n%s\nrendered:\n%q", diff, buf.String())
		}
	})
}

// fuzzFindings are inputs FuzzParse once failed on (issue 14, point 13).
var fuzzFindings = []string{
	// mp= without gp= and m=: read as a goroutine, mp was lost on the way back.
	"goroutine 0 mp=01 []:\n0()\n\t0:0\n",
	// a suffix with text after its number: the text was lost.
	"goroutine 0 [chan receive, synctest bubble 1 (durable)]:\n0()\n\t0:0\n",
	"goroutine 0 [chan receive, synctest bubble 1\x00 (durable)]:\n0()\n\t0:0\n",
	"goroutine 0 [chan receive\x00, synctest bubble 1 (durable)]:\n0()\n\t0:0\n",
	"goroutine 0 [a (scan), b]:\n0()\n\t0:0\n",
	"goroutine 0 [a, locked to thread, 3 minutes]:\n0()\n\t0:0\n",
	"goroutine 0 [a, 0 minutes]:\n0()\n\t0:0\n",
}

// TestFuzzFindings: each input FuzzParse found reads back the same after
// WriteDump, and a header that is not the runtime's is counted, not lost.
func TestFuzzFindings(t *testing.T) {
	for _, in := range fuzzFindings {
		d, err := Parse(strings.NewReader(in))
		if err != nil {
			if d.Stats.Unparsed != 1 {
				t.Errorf("%q: %v, stats %+v", in, err, d.Stats)
			}
			continue
		}
		d2 := roundTrip(t, d)
		if diff := cmp.Diff(d, d2, cmpDump); diff != "" {
			t.Errorf("%q round trip (-want +got):\n%s", in, diff)
		}
	}
}
