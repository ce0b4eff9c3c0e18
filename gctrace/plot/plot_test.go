package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/gctrace"
)

func summary(t *testing.T, name string, limit int64) *gctrace.Summary {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := gctrace.Summarize(f, gctrace.WithMemoryLimit(limit))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWriteSVG(t *testing.T) {
	s := summary(t, "memlimit", 64<<20)
	var buf bytes.Buffer
	if err := Write(&buf, s, SVG); err != nil {
		t.Fatal(err)
	}
	// The SVG must be well-formed XML and carry the series' legends.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, want := range []string{"live heap", "heap goal", "GOMEMLIMIT 64 MiB", "stop-the-world pause", "seconds since program start"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
}

func TestWritePNG(t *testing.T) {
	s := summary(t, "forced", 0)
	var buf bytes.Buffer
	if err := Write(&buf, s, PNG); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 768 || b.Dy() != 576 {
		t.Errorf("PNG is %dx%d, want 768x576", b.Dx(), b.Dy())
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write(io.Discard, &gctrace.Summary{}, SVG); err == nil || !strings.Contains(err.Error(), "no GC cycles") {
		t.Errorf("empty summary: %v", err)
	}
	s := summary(t, "alloc", 0)
	if err := Write(io.Discard, s, "gif"); err == nil || !strings.HasPrefix(err.Error(), "gctrace/plot: unknown format") {
		t.Errorf("bad format: %v", err)
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		name    string
		want    Format
		wantErr bool
	}{
		{"heap.svg", SVG, false},
		{"HEAP.PNG", PNG, false},
		{"heap.jpg", "", true},
		{"svg", "", true},
	}
	for _, tt := range tests {
		got, err := FormatOf(tt.name)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("FormatOf(%q) = %q, %v", tt.name, got, err)
		}
	}
}

// TestSeveralRunsOneLineEach draws three real captures that follow one
// another in one input (the gc numbers start over twice): each heap series
// is drawn as one line per run, never joined across a restart, and the
// time axis spans every run.
func TestSeveralRunsOneLineEach(t *testing.T) {
	var in bytes.Buffer
	for _, name := range []string{"alloc", "leak", "memlimit"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
	}
	s, err := gctrace.Summarize(&in)
	if err != nil {
		t.Fatal(err)
	}
	runs := Runs(s)
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	one := summary(t, "alloc", 0)
	live := func(s *gctrace.Summary) int {
		var buf bytes.Buffer
		if err := Write(&buf, s, SVG); err != nil {
			t.Fatal(err)
		}
		r, g, b, _ := colLive.RGBA()
		stroke := fmt.Sprintf("stroke:#%02X%02X%02X", r>>8, g>>8, b>>8)
		return strings.Count(buf.String(), stroke)
	}
	// The legend's sample line is drawn once in both.
	if n1, n3 := live(one), live(s); n3-n1 != 2 {
		t.Errorf("live heap strokes: %d for one run, %d for three; want two more lines", n1, n3)
	}
}
