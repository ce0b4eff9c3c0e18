package stacks

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) *Dump {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return d
}

func find(d *Dump, pred func(*Goroutine) bool) *Goroutine {
	for _, g := range d.Goroutines {
		if pred(g) {
			return g
		}
	}
	return nil
}

func hasFrame(g *Goroutine, fn string) bool {
	for _, f := range g.Frames {
		if f.Func == fn {
			return true
		}
	}
	return false
}

// TestParseFixtures checks each real dump against facts known from the
// program that printed it (stacks/testdata/gen.go).
func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file   string
		format string
		min    int // at least this many goroutines
		reason string
		check  func(t *testing.T, d *Dump)
	}{
		{file: "stack_all.txt", format: "text", min: 18, check: func(t *testing.T, d *Dump) {
			g := find(d, func(g *Goroutine) bool { return hasFrame(g, "main.worker") })
			if g == nil || g.State != "chan receive" || g.CreatedBy == nil || g.CreatedBy.Func != "main.setup.gowrap1" && !strings.HasPrefix(g.CreatedBy.Func, "main.setup") {
				t.Errorf("worker goroutine: %+v", g)
			}
			if g != nil && g.ParentID != 1 {
				t.Errorf("worker ParentID = %d, want 1", g.ParentID)
			}
			gen := find(d, func(g *Goroutine) bool { return hasFrame(g, "main.Wait[...]") })
			if gen == nil {
				t.Error("no generic frame main.Wait[...]")
			}
			in := find(d, func(g *Goroutine) bool { return hasFrame(g, "main.recv") })
			if in == nil || !in.Frames[0].Inlined && !in.Frames[1].Inlined {
				t.Errorf("no inlined main.recv frame: %+v", in)
			}
			locked := find(d, func(g *Goroutine) bool { return g.Locked })
			if locked == nil {
				t.Error("no goroutine locked to thread")
			}
			srv := find(d, func(g *Goroutine) bool { return hasFrame(g, "main.(*Server).loop") })
			if srv == nil {
				t.Fatal("no (*Server).loop")
			}
			for _, f := range srv.Frames {
				if f.Func == "main.(*Server).loop" && (f.Receiver != "(*Server)" || f.Pkg != "main" || f.Line == 0 || f.Offset == 0 || f.Args == "") {
					t.Errorf("loop frame: %+v", f)
				}
			}
		}},
		{file: "pprof_debug2.txt", format: "text", min: 18},
		{file: "pprof_debug1.txt", format: "debug=1", min: 5, check: func(t *testing.T, d *Dump) {
			total := 0
			for _, g := range d.Goroutines {
				total += g.Count
			}
			if total < 18 {
				t.Errorf("debug=1 total count %d, want >= 18", total)
			}
		}},
		{file: "pprof_debug0.pb.gz", format: "proto", min: 5},
		{file: "labels_debug2.txt", format: "text", min: 4, check: checkLabels},
		{file: "labels_debug1.txt", format: "debug=1", min: 2, check: checkLabels},
		{file: "labels_debug0.pb.gz", format: "proto", min: 2, check: checkLabels},
		{file: "panic_all.txt", format: "text", min: 18, reason: "panic: assignment to entry in nil map"},
		{file: "panic_single.txt", format: "text", min: 1, reason: "panic: assignment to entry in nil map"},
		{file: "panic_system.txt", format: "text", min: 20, check: checkGP},
		{file: "panic_crash.txt", format: "text", min: 20, check: checkGP},
		{file: "sigquit_all.txt", format: "text", min: 20, reason: "SIGQUIT: quit"},
		{file: "sigquit_crash.txt", format: "text", min: 20, reason: "SIGQUIT: quit", check: checkGP},
		{file: "log_panic.txt", format: "text", min: 18, reason: "panic: wrapped: file does not exist"},
		{file: "deep_recursion.txt", format: "text", min: 2, check: func(t *testing.T, d *Dump) {
			g := find(d, func(g *Goroutine) bool { return g.Elided > 0 })
			if g == nil || g.ElidedAt != 50 || len(g.Frames) != 100 {
				t.Fatalf("no goroutine with 50+50 frames around an elision: %+v", g)
			}
		}},
		{file: "ancestors.txt", format: "text", min: 4, check: func(t *testing.T, d *Dump) {
			g := find(d, func(g *Goroutine) bool { return len(g.Ancestors) >= 3 })
			if g == nil {
				t.Fatal("no goroutine with 3 ancestors")
			}
			if a := g.Ancestors[len(g.Ancestors)-1]; a.ID != 1 || len(a.Frames) == 0 {
				t.Errorf("last ancestor: %+v", a)
			}
			if a := g.Ancestors[0]; a.CreatedBy == nil || a.CreatedBy.Func != "main.spawnChain" {
				t.Errorf("first ancestor's creator: %+v", a.CreatedBy)
			}
		}},
		{file: "leaked_debug2.txt", format: "text", min: 4, check: func(t *testing.T, d *Dump) {
			n := 0
			for _, g := range d.Goroutines {
				if g.Leaked {
					n++
					if g.State != "chan receive" {
						t.Errorf("leaked state %q", g.State)
					}
				}
			}
			if n != 3 {
				t.Errorf("%d leaked goroutines, want 3", n)
			}
		}},
		{file: "synctest.txt", format: "text", min: 6, check: func(t *testing.T, d *Dump) {
			g := find(d, func(g *Goroutine) bool { return g.State == "sleep" })
			if g == nil || !g.Durable || g.Bubble != 1 {
				t.Errorf("durable sleeper: %+v", g)
			}
		}},
		{file: "truncated.txt", format: "text", min: 2, check: func(t *testing.T, d *Dump) {
			g := d.Goroutines[len(d.Goroutines)-1]
			if !g.Truncated || len(g.Frames) == 0 || g.Frames[len(g.Frames)-1].Func != "main.worker" {
				t.Errorf("last goroutine not truncated in main.worker: %+v", g)
			}
		}},
		{file: "cgo_panic.txt", format: "text", min: 2},
		{file: "hand_go118.txt", format: "text", min: 4, reason: "panic: runtime error: invalid memory address or nil pointer dereference", check: func(t *testing.T, d *Dump) {
			if len(d.Goroutines) != 4 {
				t.Errorf("%d goroutines, want 4", len(d.Goroutines))
			}
			g := find(d, func(g *Goroutine) bool { return g.ID == 18 })
			if g == nil || g.WaitMinutes != 12 || g.CreatedBy == nil || g.CreatedBy.Func != "github.com/acme/worker/v2.NewPool" || g.ParentID != 0 {
				t.Errorf("goroutine 18: %+v", g)
			}
			if f := g.Frames[0]; f.Pkg != "github.com/acme/worker/v2" || f.Receiver != "(*Pool)" || f.Line != 88 || f.Offset != 0x6e {
				t.Errorf("versioned frame: %+v", f)
			}
			g7 := find(d, func(g *Goroutine) bool { return g.ID == 7 })
			if g7 == nil || !g7.Locked || g7.WaitMinutes != 3 || g7.State != "select" || !g7.Frames[0].Inlined {
				t.Fatalf("goroutine 7: %+v", g7)
			}
			if p := g7.Frames[1].Pkg; p != "vendor/golang.org/x/net/http2" {
				t.Errorf("vendored pkg %q", p)
			}
			if p := g7.Frames[2].Pkg; p != "gopkg.in/yaml.v3" {
				t.Errorf("escaped pkg %q", p)
			}
		}},
		{file: "hand_variants.txt", format: "text", min: 5, reason: "SIGQUIT: quit", check: func(t *testing.T, d *Dump) {
			if len(d.Goroutines) != 5 {
				t.Fatalf("%d goroutines, want 5 (the register dump is not one)", len(d.Goroutines))
			}
			g1 := d.Goroutines[1]
			if !g1.Scan || g1.State != "semacquire" || g1.WaitMinutes != 2 || g1.M != "nil" || g1.GP != 0xc000006380 {
				t.Errorf("goroutine 1: %+v", g1)
			}
			if f := g1.Frames[0]; f.PC != 0x466e05 || f.Offset != 0x25 || f.Extra != " fp=0xc00006de90 sp=0xc00006de60 pc=0x466e05" {
				t.Errorf("fp/sp/pc frame: %+v", f)
			}
			g9 := d.Goroutines[2]
			if !g9.Unavailable || len(g9.Frames) != 0 || g9.CreatedBy == nil || g9.ParentID != 1 || g9.M != "3" {
				t.Errorf("goroutine 9: %+v", g9)
			}
			g10 := d.Goroutines[3]
			if len(g10.Frames) != 4 || g10.Frames[0].Func != "non-Go function" || g10.Frames[0].PC != 0x7f3a2c1e4f2d || !g10.Locked {
				t.Errorf("goroutine 10: %+v", g10)
			}
			g11 := d.Goroutines[4]
			if len(g11.Frames) != 3 || g11.Frames[0].Func != "C.worker_loop" || g11.Frames[0].File != "/app/worker.c" || g11.Frames[0].PC != 0x4a3001 || g11.Frames[1].Func != "non-Go function" {
				t.Errorf("goroutine 11 cgo frames: %+v", g11.Frames)
			}
			if g11.Elided != -1 || len(g11.Ancestors) != 1 || !g11.Ancestors[0].Elided || g11.Ancestors[0].ID != 1 {
				t.Errorf("goroutine 11 elision/ancestors: %+v", g11)
			}
		}},
		{file: "cgo_crash.txt", format: "text", min: 5, reason: "SIGSEGV: segmentation violation", check: checkGP},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := parseFile(t, tt.file)
			if d.Format != tt.format {
				t.Errorf("Format = %q, want %q", d.Format, tt.format)
			}
			if len(d.Goroutines) < tt.min {
				t.Errorf("%d goroutines, want >= %d", len(d.Goroutines), tt.min)
			}
			if tt.reason != "" && d.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", d.Reason, tt.reason)
			}
			for _, g := range d.Goroutines {
				if len(g.Frames) == 0 && !g.Unavailable {
					t.Errorf("goroutine %d has no frames", g.ID)
				}
				for _, f := range g.Frames {
					if f.Func == "" {
						t.Errorf("goroutine %d: frame without a function: %+v", g.ID, f)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func checkLabels(t *testing.T, d *Dump) {
	t.Helper()
	n := 0
	for _, g := range d.Goroutines {
		if g.Labels["role"] == "" {
			continue
		}
		if want := "a], b, \"c\"]:"; g.Labels["tricky"] != want {
			t.Errorf("tricky label = %q, want %q", g.Labels["tricky"], want)
		}
		n += max(g.Count, 1)
	}
	if n != 3 {
		t.Errorf("%d labelled goroutines, want 3", n)
	}
}

func checkGP(t *testing.T, d *Dump) {
	t.Helper()
	g := d.Goroutines[0]
	if g.GP == 0 || g.M == "" {
		t.Errorf("first goroutine has no gp=/m=: %+v", g)
	}
	withPC := 0
	for _, g := range d.Goroutines {
		for _, f := range g.Frames {
			if f.PC != 0 && f.Extra != "" {
				withPC++
			}
		}
	}
	if withPC == 0 {
		t.Error("no frame with fp= sp= pc=")
	}
}

func TestParseNotADump(t *testing.T) {
	for _, in := range []string{"", "hello world\nthis is a log\n", "goroutine 1 [running\n", "\x1f\x8bgarbage"} {
		_, err := Parse(strings.NewReader(in))
		if err == nil {
			t.Errorf("Parse(%q) = nil error", in)
			continue
		}
		if in != "\x1f\x8bgarbage" && !errors.Is(err, ErrNoDump) {
			t.Errorf("Parse(%q) = %v, want ErrNoDump", in, err)
		}
	}
	_, err := Parse(strings.NewReader("hello world\n"))
	if !strings.Contains(err.Error(), `found "hello world"`) {
		t.Errorf("error does not say what it found: %v", err)
	}
}
