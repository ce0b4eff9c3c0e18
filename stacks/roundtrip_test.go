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
	f.Add([]byte("goroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(bytes.NewReader(data))
		if err != nil {
			if d == nil {
				t.Fatal("nil dump with error")
			}
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
		if d.Format != "text" {
			return
		}
		d2 := roundTrip(t, d)
		if diff := cmp.Diff(d, d2, cmpDump); diff != "" {
			var buf bytes.Buffer
			WriteDump(&buf, d)
			t.Fatalf("round trip (-want +got):\n%s\nrendered:\n%q", diff, buf.String())
		}
	})
}
