package stacks

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// manySamples returns a gzipped goroutine profile of n samples on one
// location.
func manySamples(t *testing.T, n int) []byte {
	t.Helper()
	fn := &profile.Function{ID: 1, Name: "main.f", Filename: "/a.go"}
	loc := &profile.Location{ID: 1, Address: 0x1000, Line: []profile.Line{{Function: fn, Line: 1}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "goroutine", Unit: "count"}},
		Function:   []*profile.Function{fn},
		Location:   []*profile.Location{loc},
	}
	for i := 0; i < n; i++ {
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc}, Value: []int64{1}})
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestProfileLimits(t *testing.T) {
	real, err := os.ReadFile("testdata/pprof_debug0.pb.gz")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		opts []ScanOption
		want string // error text; "" for success
	}{
		{"real profile, defaults", real, nil, ""},
		{"compressed over the limit", real, []ScanOption{MaxProfileBytes(100)}, "compressed profile exceeds 100 bytes (stacks.MaxProfileBytes)"},
		{"decompressed over the limit", real, []ScanOption{MaxProfileBytes(int64(len(real)) + 100)}, "decompressed profile exceeds"},
		{"samples over the limit", manySamples(t, 1001), []ScanOption{MaxProfileSamples(1000)}, "the profile holds 1001 samples and 1 locations, over the limit of 1000 (stacks.MaxProfileSamples)"},
		{"samples at the limit", manySamples(t, 1000), []ScanOption{MaxProfileSamples(1000)}, ""},
		{"samples over the default", manySamples(t, DefaultMaxProfileSamples+1), nil, "over the limit of 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(bytes.NewReader(tt.in), tt.opts...)
			if tt.want == "" {
				if err != nil || len(d.Goroutines) == 0 {
					t.Fatalf("err %v, %d goroutines", err, len(d.Goroutines))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err %v, want %q wrapping ErrTooLarge", err, tt.want)
			}
			// GroupReader takes the same limits.
			var gopts []GroupOption
			for _, o := range tt.opts {
				gopts = append(gopts, o)
			}
			if _, err := GroupReader(bytes.NewReader(tt.in), gopts...); !errors.Is(err, ErrTooLarge) {
				t.Errorf("GroupReader: %v", err)
			}
		})
	}
}

func TestMaxFrames(t *testing.T) {
	var b strings.Builder
	b.WriteString("goroutine 1 [running]:\n")
	for i := 0; i < 50; i++ {
		b.WriteString("main.f(0x1)\n\t/a.go:1 +0x1\n")
	}
	b.WriteString("created by main.main in goroutine 1\n\t/a.go:9 +0x1\n")
	for i := 0; i < 3; i++ {
		b.WriteString("[originating from goroutine 1]:\nmain.g(...)\n\t/b.go:2\n")
	}
	b.WriteString("\ngoroutine 2 [select]:\nmain.h()\n\t/c.go:3 +0x1\n")
	for _, tt := range []struct {
		max, frames, ancestors, dropped int
	}{
		{max: 0, frames: 50, ancestors: 3},     // the default keeps everything
		{max: 10, frames: 10, dropped: 40 + 3}, // ancestors past the limit: their frames count
		{max: 51, frames: 50, ancestors: 1, dropped: 3},
	} {
		d, err := Parse(strings.NewReader(b.String()), MaxFrames(tt.max))
		if err != nil {
			t.Fatal(err)
		}
		g := d.Goroutines[0]
		if len(g.Frames) != tt.frames || len(g.Ancestors) != tt.ancestors || g.DroppedFrames != tt.dropped || d.Stats.DroppedFrames != tt.dropped {
			t.Errorf("MaxFrames(%d): %d frames, %d ancestors, %d dropped (stats %d)", tt.max, len(g.Frames), len(g.Ancestors), g.DroppedFrames, d.Stats.DroppedFrames)
		}
		if g.CreatedBy == nil || g.CreatedBy.Func != "main.main" || len(d.Goroutines) != 2 || len(d.Goroutines[1].Frames) != 1 {
			t.Errorf("MaxFrames(%d): creator or next goroutine lost", tt.max)
		}
	}
}
